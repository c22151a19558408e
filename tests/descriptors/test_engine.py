"""The LAMMPS engine against LAMMPS's own example, FitSNAP's descriptor matrix, and itself."""

from __future__ import annotations

import numpy as np
import pytest
from ase.build import bulk
from scipy.spatial.transform import Rotation

from snapcheck.data import Configuration
from snapcheck.descriptors import SnapEngine


def bcc_tantalum(repeat: int = 4, a: float = 3.316) -> Configuration:
    atoms = bulk("Ta", "bcc", a=a, cubic=True).repeat(repeat)
    return Configuration(
        name=f"bcc-{repeat}x{repeat}x{repeat}",
        group="synthetic",
        positions=atoms.positions,
        cell=atoms.cell.array,
        species=tuple(atoms.get_chemical_symbols()),
        energy=0.0,
        forces=np.zeros((len(atoms), 3)),
    )


def test_perfect_bcc_energy_matches_the_lammps_example(ta06a):
    """LAMMPS examples/snap/log.15Jun20.snap.Ta06A.g++.1: −11.85157 eV/atom at step 0."""
    configuration = bcc_tantalum()
    with SnapEngine(configuration, ta06a.parameters) as engine:
        energy = ta06a.energy_from(engine.evaluate())
    assert configuration.n_atoms == 128
    assert energy / 128 == pytest.approx(-11.85157, abs=5e-6)


def test_fast_evaluation_gives_the_full_sum_b(ta_configurations, ta06a):
    rng = np.random.default_rng(0)
    for configuration in ta_configurations[::40]:
        moved = configuration.positions + rng.normal(scale=0.01, size=configuration.positions.shape)
        with SnapEngine(configuration, ta06a.parameters) as engine:
            full = engine.evaluate(moved)
            fast = engine.evaluate_values(moved)
        np.testing.assert_allclose(fast.sum_b, full.sum_b, rtol=1e-13, atol=1e-12)
        assert fast.reference_energy == pytest.approx(full.reference_energy, rel=1e-13, abs=1e-12)


def test_reused_instance_gives_what_a_new_one_gives(ta_configurations, ta06a):
    configuration = ta_configurations[100]
    moved = configuration.positions + 0.05
    with SnapEngine(configuration, ta06a.parameters) as engine:
        engine.evaluate()
        engine.evaluate_values(moved)
        again = engine.evaluate(moved)
    with SnapEngine(configuration, ta06a.parameters) as fresh:
        first = fresh.evaluate(moved)
    np.testing.assert_array_equal(again.sum_b, first.sum_b)
    np.testing.assert_array_equal(again.force_rows, first.force_rows)


def test_a_rotated_cell_is_brought_to_lammps_form_and_back(ta_configurations, ta06a, rotate):
    configuration = ta_configurations[200]
    rotation = Rotation.random(random_state=7).as_matrix()
    rotated = rotate(configuration, rotation)
    assert np.any(np.triu(rotated.cell, 1))
    with SnapEngine(configuration, ta06a.parameters) as engine:
        original = engine.evaluate()
    with SnapEngine(rotated, ta06a.parameters) as engine:
        turned = engine.evaluate()
    scale = np.abs(original.force_rows).max()
    np.testing.assert_allclose(turned.sum_b, original.sum_b, rtol=1e-11)
    np.testing.assert_allclose(
        turned.force_rows, np.einsum("iaek,ba->ibek", original.force_rows, rotation), atol=1e-11 * scale
    )
    np.testing.assert_allclose(turned.reference_forces, original.reference_forces @ rotation.T, atol=1e-11)
    # the pressure tensor turns as R P Rᵀ
    original_tensor, turned_tensor = (
        voigt_to_tensor(ta06a.stress_from(original)),
        voigt_to_tensor(ta06a.stress_from(turned)),
    )
    np.testing.assert_allclose(
        turned_tensor, rotation @ original_tensor @ rotation.T, rtol=0, atol=1e-9 * np.abs(original_tensor).max()
    )


def voigt_to_tensor(voigt):
    xx, yy, zz, yz, xz, xy = voigt
    return np.array([[xx, xy, xz], [xy, yy, yz], [xz, yz, zz]])


def test_species_outside_the_model_are_refused(ta06a):
    atoms = bulk("Nb", "bcc", a=3.3, cubic=True)
    configuration = Configuration(
        "nb", "synthetic", atoms.positions, atoms.cell.array, ("Nb", "Nb"), 0.0, np.zeros((2, 3)), source="nb.json"
    )
    with pytest.raises(
        ValueError, match=r"nb.json: configuration 'nb': species \['Nb'\] are not among the model's elements \['Ta'\]"
    ):
        SnapEngine(configuration, ta06a.parameters)
