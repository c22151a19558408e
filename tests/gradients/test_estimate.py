"""The paper's four steps for any model (SNAP through LAMMPS, Morse in numpy), and automatic ε."""

from __future__ import annotations

import numpy as np
import pytest

from snapcheck.gradients.estimate import SELECTION_GRID, fd_force_loss_gradient, select_epsilon
from snapcheck.gradients.finite_difference import relative_error
from snapcheck.models import LinearSnap
from snapcheck.models.morse import Morse
from snapcheck.models.snap_potential import SnapPotential
from snapcheck.studies.sweep import SweepSpec, best_epsilons, error_table, run_sweep


@pytest.fixture(scope="module", params=["trained", "untrained"])
def snap_model(request, ta06a):
    return ta06a if request.param == "trained" else LinearSnap.kaiming(ta06a.parameters, seed=0)


def exact_gradients(model, configurations):
    return np.array([model.exact_force_loss_gradient(c) for c in configurations])


def test_force_term_matches_the_exact_snap_gradient(snap_model, one_per_group):
    with SnapPotential(snap_model) as potential:
        estimate = fd_force_loss_gradient(potential, one_per_group, epsilon=1e-5, energy_weight=0.0)
        exact = exact_gradients(potential, one_per_group)
    assert relative_error(estimate.force_gradients, exact) <= 1e-7
    np.testing.assert_allclose(estimate.gradient, exact.mean(axis=0), rtol=1e-6, atol=1e-9 * np.abs(exact).max())


def test_force_term_matches_the_exact_morse_gradient(one_per_group):
    model = Morse((0.4, 1.4, 2.9))
    estimate = fd_force_loss_gradient(model, one_per_group, epsilon=1e-5, energy_weight=0.0)
    assert relative_error(estimate.force_gradients, exact_gradients(model, one_per_group)) <= 1e-7


def test_energy_term_is_the_gradient_of_the_energy_loss(ta06a, one_per_group):
    """ℒ_energy is quadratic in θ for the linear model: a central difference in θ is exact."""

    def energy_loss(theta):
        with SnapPotential(ta06a.with_theta(theta)) as potential:
            return np.mean([0.5 * (potential.energy(c) - c.energy) ** 2 for c in one_per_group])

    with SnapPotential(ta06a) as potential:
        estimate = fd_force_loss_gradient(potential, one_per_group, force_weight=0.0)
    h = 1e-4
    numeric = np.array([(energy_loss(ta06a.theta + s) - energy_loss(ta06a.theta - s)) / (2 * h) for s in np.eye(ta06a.n_parameters) * h])
    assert relative_error(estimate.gradient, numeric) <= 1e-7
    assert estimate.loss == pytest.approx(energy_loss(ta06a.theta), rel=1e-12)


@pytest.mark.parametrize("precision", ["float64", "float32"])
def test_selected_epsilon_is_within_10x_of_the_true_best(snap_model, one_per_group, precision):
    with SnapPotential(snap_model) as potential:
        selected = select_epsilon(potential, one_per_group, precision=precision)
    spec = SweepSpec(models=(snap_model,), epsilons=SELECTION_GRID, precisions=(precision,))
    true_best = best_epsilons(error_table(one_per_group, run_sweep(one_per_group, spec, progress=False), spec)).iloc[0]["best_epsilon_grad"]
    assert true_best / 10 <= selected.epsilon <= true_best * 10, f"ε* {selected.epsilon:.2g}, true best {true_best:.2g}"
    assert list(selected.curve.columns) == ["epsilon", "err_loss"]


def test_auto_epsilon_is_used_and_reported(ta06a, one_per_group):
    with SnapPotential(ta06a) as potential:
        estimate = fd_force_loss_gradient(potential, one_per_group[:4], epsilon="auto")
    assert estimate.epsilon in SELECTION_GRID
    assert 1e-7 <= estimate.epsilon <= 1e-4


def test_bad_models_and_epsilons_are_refused(one_per_group):
    with pytest.raises(TypeError, match=r"object is not an energy model snapcheck can use: it lacks \['theta', 'energy', 'forces', 'energy_gradient'\]"):
        fd_force_loss_gradient(object(), one_per_group)
    with pytest.raises(ValueError, match="epsilon must be a positive number or 'auto'"):
        fd_force_loss_gradient(Morse((0.4, 1.4, 2.9)), one_per_group, epsilon=-1.0)
