"""The paper's gradient for any model (SNAP through LAMMPS, Morse in numpy), and automatic ε."""

from __future__ import annotations

import numpy as np
import pytest

from snapcheck.base.errors import InputError
from snapcheck.gradients.epsilon import EPSILON_GRID, select_epsilon
from snapcheck.gradients.paper import paper_force_loss_gradient, relative_error
from snapcheck.models import LinearSnap
from snapcheck.models.morse import Morse
from snapcheck.models.potentials import LinearSnapPotential
from snapcheck.studies.sweep import SweepSpec, best_epsilons, error_table, run_sweep


@pytest.fixture(scope="module", params=["trained", "untrained"])
def snap_model(request, ta06a):
    return ta06a if request.param == "trained" else LinearSnap.kaiming(ta06a.parameters, seed=0)


def exact_gradients(model, configurations):
    return np.array([model.exact_force_loss_gradient(c) for c in configurations])


def paper_gradients(model, configurations, epsilon):
    return np.array([paper_force_loss_gradient(model, c, epsilon) for c in configurations])


def test_paper_gradient_matches_the_exact_snap_gradient(snap_model, one_per_group):
    with LinearSnapPotential(snap_model) as potential:
        estimate = paper_gradients(potential, one_per_group, 1e-5)
        exact = exact_gradients(potential, one_per_group)
    assert relative_error(estimate, exact) <= 1e-7


def test_paper_gradient_matches_the_exact_morse_gradient(one_per_group):
    model = Morse((0.4, 1.4, 2.9))
    assert relative_error(paper_gradients(model, one_per_group, 1e-5), exact_gradients(model, one_per_group)) <= 1e-7


@pytest.mark.parametrize("precision", ["float64", "float32"])
def test_selected_epsilon_is_within_10x_of_the_true_best(snap_model, one_per_group, precision):
    with LinearSnapPotential(snap_model) as potential:
        selected = select_epsilon(potential, one_per_group, precision=precision)
    spec = SweepSpec(models=(snap_model,), epsilons=EPSILON_GRID, precisions=(precision,))
    true_best = best_epsilons(error_table(one_per_group, run_sweep(one_per_group, spec, progress=False), spec)).iloc[0][
        "best_epsilon_grad"
    ]
    assert true_best / 10 <= selected.epsilon <= true_best * 10, f"ε* {selected.epsilon:.2g}, true best {true_best:.2g}"
    assert selected.grid == EPSILON_GRID and len(selected.err_loss) == len(EPSILON_GRID)


def test_selected_epsilon_is_on_the_grid_and_gives_nine_digits(ta06a, one_per_group):
    with LinearSnapPotential(ta06a) as potential:
        selected = select_epsilon(potential, one_per_group[:4])
        error = relative_error(
            paper_gradients(potential, one_per_group[:4], selected.epsilon),
            exact_gradients(potential, one_per_group[:4]),
        )
    assert selected.epsilon in EPSILON_GRID
    assert 1e-7 <= selected.epsilon <= 1e-4
    assert error <= 1e-8


def test_bad_models_and_epsilons_are_refused(one_per_group):
    with pytest.raises(
        TypeError,
        match=r"object is not an energy model snapcheck can use: it lacks \['theta', 'energy', 'forces', 'energy_gradient'\]",
    ):
        select_epsilon(object(), one_per_group)
    with pytest.raises(InputError, match=r"ε = -1.0: the paper's ε \(Eq. 9\) must be a positive number"):
        paper_force_loss_gradient(Morse((0.4, 1.4, 2.9)), one_per_group[3], epsilon=-1.0)
