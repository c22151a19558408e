"""The paper's gradient for any model (SNAP through LAMMPS, Morse in numpy), and the one ε rule."""

from __future__ import annotations

import math

import numpy as np
import pytest

from snapcheck.base.errors import InputError
from snapcheck.gradients.backend import NumpyBackend
from snapcheck.gradients.epsilon import EPSILON_GRID, RULES, choose_epsilon
from snapcheck.gradients.paper import relative_error
from snapcheck.gradients.reference import Reference, paper_force_loss_gradient
from snapcheck.models import LinearSnap
from snapcheck.models.morse import Morse
from snapcheck.models.potentials import LinearSnapPotential
from snapcheck.models.protocol import ModelProtocolError
from snapcheck.studies.sweep import SweepSpec, run_sweep
from snapcheck.studies.sweep_errors import best_epsilons, error_table


@pytest.fixture(scope="module", params=["trained", "untrained"])
def snap_model(request, ta06a):
    return ta06a if request.param == "trained" else LinearSnap.kaiming(ta06a.parameters, seed=0)


def exact_gradients(model, configurations):
    return np.array([model.exact_force_loss_gradient(c) for c in configurations])


def test_paper_gradient_matches_the_exact_snap_gradient(snap_model, one_per_group):
    with LinearSnapPotential(snap_model) as potential:
        estimate = paper_force_loss_gradient(potential, one_per_group, epsilon=1e-5)
        exact = exact_gradients(potential, one_per_group)
    assert relative_error(estimate.per_configuration, exact) <= 1e-7
    np.testing.assert_allclose(estimate.gradient, exact.sum(axis=0), rtol=1e-6)
    assert estimate.proxy == "fixed" and math.isnan(estimate.error_bound)


def test_paper_gradient_matches_the_exact_morse_gradient(one_per_group):
    model = Morse((0.4, 1.4, 2.9))
    estimate = paper_force_loss_gradient(model, one_per_group, epsilon=1e-5).per_configuration
    assert relative_error(estimate, exact_gradients(model, one_per_group)) <= 1e-7


def test_selected_epsilon_is_within_10x_of_the_true_best(snap_model, one_per_group):
    with LinearSnapPotential(snap_model) as potential:
        choice = Reference(NumpyBackend(potential), one_per_group).choose()
    spec = SweepSpec(models=(snap_model,), epsilons=EPSILON_GRID)
    table = error_table(one_per_group, run_sweep(one_per_group, spec, progress=False), spec)
    true_best = best_epsilons(table).iloc[0]["best_epsilon_grad"]
    assert true_best / 10 <= choice.epsilon <= true_best * 10, f"ε* {choice.epsilon:.2g}, true best {true_best:.2g}"
    assert choice.proxy == "energy" and choice.rule == "smoothed" and sorted(choice.curve) == sorted(EPSILON_GRID)


def test_the_energy_proxy_is_eq_14(ta06a, one_per_group):
    """For the paper's loss ‖D̃ − D‖/(2‖L‖) over configurations is Err[L̃] of the sweep, to round-off."""
    spec = SweepSpec(models=(ta06a,), epsilons=(1e-6, 1e-4, 1e-2))
    table = error_table(one_per_group, run_sweep(one_per_group, spec, progress=False), spec)
    with LinearSnapPotential(ta06a) as potential:
        curve = Reference(NumpyBackend(potential), one_per_group).curve("energy", spec.epsilons)
    whole = table[table["group"] == "all"].set_index("epsilon")["err_loss"]
    for epsilon, value in curve.items():
        assert value == pytest.approx(whole[epsilon], rel=1e-6)


def test_selected_epsilon_is_on_the_grid_and_gives_nine_digits(ta06a, one_per_group):
    with LinearSnapPotential(ta06a) as potential:
        result = paper_force_loss_gradient(potential, one_per_group[:4])
        error = relative_error(result.per_configuration, exact_gradients(potential, one_per_group[:4]))
    assert result.epsilon in EPSILON_GRID and 1e-7 <= result.epsilon <= 1e-4
    assert error <= 1e-8 and error <= 10 * result.error_bound


def test_the_rules_on_a_curve_with_one_lucky_point():
    """Round-off valley with a cancellation at 1e-9: argmin takes it, the smoothed rule the plateau's middle."""
    curve = {1e-10: 1e-5, 1e-9: 1e-8, 1e-8: 2e-6, 1e-7: 1e-6, 1e-6: 1e-6, 1e-5: 2e-6, 1e-4: 1e-4}
    assert choose_epsilon(curve, "argmin") == (1e-9, 1e-8)
    assert choose_epsilon(curve, "smoothed") == (1e-6, 2e-6)  # max over neighbours: 1e-7 → 2e-6 too; ties → larger ε
    assert choose_epsilon({1e-6: math.nan, 1e-5: 3e-9}, "argmin") == (1e-5, 3e-9)
    assert RULES[0] == "smoothed"
    with pytest.raises(InputError, match=r"ε rule 'median': expected one of smoothed, argmin"):
        choose_epsilon(curve, "median")


def test_bad_models_and_epsilons_are_refused(one_per_group):
    with pytest.raises(ModelProtocolError, match=r"object is not an energy model snapcheck can use: it has no 'theta'"):
        paper_force_loss_gradient(object(), one_per_group)
    with pytest.raises(
        ModelProtocolError, match=r"LinearSnap is not an energy model .*bound to LAMMPS by LinearSnapPotential"
    ):
        paper_force_loss_gradient(LinearSnap.ta06a(), one_per_group)
    with pytest.raises(InputError, match=r"ε = -1.0: the paper's ε \(Eq. 9\) must be a positive number"):
        paper_force_loss_gradient(Morse((0.4, 1.4, 2.9)), one_per_group[3:4], epsilon=-1.0)
