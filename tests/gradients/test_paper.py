"""The paper's central difference (Eqs. 7–14) on real Ta configurations against the exact oracle."""

from __future__ import annotations

import numpy as np
import pytest

from snapcheck.base.errors import InputError
from snapcheck.data import Configuration
from snapcheck.descriptors import SnapEngine
from snapcheck.gradients.paper import (
    LossPath,
    characteristic_force_error,
    displacement,
    relative_error,
    round_to_precision,
)
from snapcheck.models import LinearSnap
from snapcheck.studies.sweep import SweepSpec, run_sweep, sweep_configuration
from snapcheck.studies.sweep_errors import error_table


@pytest.fixture(scope="module")
def both_models(ta06a):
    return ta06a, LinearSnap.kaiming(ta06a.parameters, seed=0)


def test_eta_scaling_makes_the_largest_displacement_epsilon_angstrom(one_per_group, ta06a):
    configuration = one_per_group[7]
    with SnapEngine(configuration, ta06a.parameters) as engine:
        errors = ta06a.force_loss_from(configuration, engine.evaluate()).errors
    step = displacement(LossPath(configuration.positions, errors), 1e-4)
    (plus, _), (minus, _) = step.plus, step.minus
    assert np.linalg.norm(plus - configuration.positions, axis=1).max() == pytest.approx(1e-4, rel=1e-12)
    np.testing.assert_allclose(plus + minus, 2 * configuration.positions, rtol=1e-15)
    np.testing.assert_array_equal(minus, configuration.positions + step.eta * errors)  # the paper's r₊ = r + ηg
    assert step.eta == 1e-4 / characteristic_force_error(errors, "max")
    assert characteristic_force_error(errors, 2.5) == 2.5
    with pytest.raises(InputError, match=r"g0 = -1.0: expected 'max' \(Eq. 10\) or a positive force in eV/Å"):
        characteristic_force_error(errors, -1.0)


def test_error_at_1e_minus_5_is_below_1e_minus_7(one_per_group, both_models):
    """The regression check: nine-digit agreement at the paper's ε (Fig. 1), both models."""
    spec = SweepSpec(models=both_models, epsilons=(1e-5,))
    table = error_table(one_per_group, run_sweep(one_per_group, spec, progress=False), spec)
    whole = table[table["group"] == "all"].set_index("model")
    assert whole.loc["trained", "err_grad"] <= 1e-7
    assert whole.loc["untrained", "err_grad"] <= 1e-7
    assert (whole["err_loss"] <= 1e-6).all()


def test_truncation_regime_is_second_order(one_per_group, both_models):
    """For ε from 1e-3 to 1e-1 the error is O(ε²): slope 2 ± 0.5 on log-log axes."""
    epsilons = (1e-3, 3.1622776601683795e-3, 1e-2, 3.1622776601683795e-2, 1e-1)
    spec = SweepSpec(models=both_models, epsilons=epsilons)
    table = error_table(one_per_group, run_sweep(one_per_group, spec, progress=False), spec)
    for model, curve in table[table["group"] == "all"].groupby("model"):
        slope = np.polyfit(np.log10(curve["epsilon"]), np.log10(curve["err_grad"]), 1)[0]
        assert slope == pytest.approx(2.0, abs=0.5), f"{model}: slope {slope:.2f}"


def test_error_table_is_eq_11_over_stacked_configurations(one_per_group, both_models):
    spec = SweepSpec(models=both_models, epsilons=(1e-4, 1e-2), g0_rules=("max", 1.0))
    results = run_sweep(one_per_group, spec, progress=False)
    table = error_table(one_per_group, results, spec)
    # model 1 (untrained), g0 fixed (rule 1), float64, ε = 1e-2
    estimate = np.stack([r.gradient_estimates[1, 1, 0, 1] for r in results])
    exact = np.stack([r.exact_gradient[1] for r in results])
    row = table.query("model == 'untrained' and g0_mode == 'fixed' and group == 'all' and epsilon == 1e-2")
    assert row["err_grad"].item() == pytest.approx(relative_error(estimate, exact), rel=1e-14)
    assert relative_error(estimate, exact) != pytest.approx(
        np.mean([relative_error(e, x) for e, x in zip(estimate, exact)]), rel=1e-3
    )
    assert set(table["group"]) == {c.group for c in one_per_group} | {"all"}


def test_zero_force_errors_skip_the_difference(one_per_group, ta06a):
    """A configuration whose reference forces are the model's own: g = 0, gradient exactly 0."""
    source = one_per_group[0]
    with SnapEngine(source, ta06a.parameters) as engine:
        predicted = ta06a.forces_from(engine.evaluate())
        perfect = Configuration(
            source.name, source.group, source.positions, source.cell, source.species, source.energy, predicted
        )
        result = sweep_configuration(engine, perfect, SweepSpec(models=(ta06a,), epsilons=(1e-5,)))
    assert result.zero_errors.tolist() == [True]
    assert result.exact_loss[0] == 0.0
    assert not np.any(result.gradient_estimates)
    assert not np.any(result.loss_estimates)


def test_float32_moves_the_best_epsilon_up(one_per_group, ta06a):
    """Round-off ∝ u/ε with u ≈ 6e-8 in float32: the best ε grows by orders of magnitude."""
    epsilons = tuple(10.0 ** np.arange(-8, 0, 0.5))
    spec = SweepSpec(models=(ta06a,), epsilons=epsilons, precisions=("float64", "float32"))
    table = error_table(one_per_group, run_sweep(one_per_group, spec, progress=False), spec)
    whole = table[table["group"] == "all"]
    best = {p: c.loc[c["err_grad"].idxmin()] for p, c in whole.groupby("precision")}
    assert best["float32"]["epsilon"] >= 100 * best["float64"]["epsilon"]
    assert best["float32"]["err_grad"] >= 1e3 * best["float64"]["err_grad"]
    assert round_to_precision(np.float64(1 / 3), "float32") == np.float32(1 / 3)


def test_a_strained_path_moves_no_atom_or_lattice_vector_by_more_than_epsilon(one_per_group):
    """With a stress term the path strains cell and positions: ε Å is still the largest displacement (Eq. 10)."""
    configuration = one_per_group[5]
    rng = np.random.default_rng(0)
    g, h = rng.normal(size=configuration.positions.shape), rng.normal(size=(3, 3)) * 1e-2
    path = LossPath(configuration.positions, g, configuration.cell, h)
    step = displacement(path, 1e-3)
    positions, cell = step.plus
    moved = max(
        np.linalg.norm(positions - configuration.positions, axis=1).max(),
        np.linalg.norm(cell - configuration.cell, axis=1).max(),
    )
    assert moved == pytest.approx(1e-3, rel=1e-3)  # first order in η: exact up to O(η²)
    fractional = np.linalg.solve(cell.T, positions.T).T  # the strain moves atoms with the cell, then g on top
    expected = np.linalg.solve(configuration.cell.T, (configuration.positions - step.eta * g).T).T
    np.testing.assert_allclose(fractional, expected, atol=1e-12)
    np.testing.assert_allclose(cell @ np.linalg.inv(np.eye(3) + step.eta * h).T, configuration.cell, atol=1e-12)
