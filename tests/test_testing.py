"""assert_force_loss_gradient passes a right gradient and names each planted bug."""

from __future__ import annotations

import numpy as np
import pytest

from snapcheck.gradients.paper import paper_force_loss_gradient
from snapcheck.models import LinearSnapPotential, Morse
from snapcheck.testing import assert_force_loss_gradient


class PaperMethodTrainer:
    """A trainer whose ∇θL comes from the paper's Eq. 7 at ε = 1e-5 (no ML framework)."""

    def __init__(self, potential):
        self.potential = potential
        self.theta = potential.theta
        self.energy, self.forces, self.energy_gradient = potential.energy, potential.forces, potential.energy_gradient
        self.exact_force_loss_gradient = potential.exact_force_loss_gradient

    def force_loss_gradient(self, configuration):
        return paper_force_loss_gradient(self.potential, configuration, epsilon=1e-5)


class ProtocolOnly:
    """Morse without its exact gradient: the reference must be the paper's estimate."""

    def __init__(self, model):
        self.theta, self.energy, self.forces, self.energy_gradient = (
            model.theta,
            model.energy,
            model.forces,
            model.energy_gradient,
        )


@pytest.fixture(scope="module")
def potential(ta06a):
    with LinearSnapPotential(ta06a) as potential:
        yield potential


def test_a_right_gradient_passes(potential, one_per_group):
    error = assert_force_loss_gradient(PaperMethodTrainer(potential), one_per_group, rtol=1e-6)
    assert 0 < error < 1e-7


@pytest.mark.parametrize(
    ("bug", "likely"),
    [
        (
            lambda exact, c: np.zeros_like(exact),
            "all zero: the forces were probably computed without create_graph=True",
        ),
        (lambda exact, c: -exact, "wrong sign"),
        (lambda exact, c: 2 * exact, "a missing ½"),
        (lambda exact, c: exact / c.n_atoms, "a mean over atoms taken where Eq. 2's sum was due"),
    ],
    ids=["zero", "sign", "missing-half", "mean-over-atoms"],
)
def test_planted_bugs_are_caught_and_named(potential, one_per_group, bug, likely):
    def buggy(configuration):
        return bug(potential.exact_force_loss_gradient(configuration), configuration)

    with pytest.raises(AssertionError) as failure:
        assert_force_loss_gradient(buggy, one_per_group, reference=potential)
    message = str(failure.value)
    assert "force-loss gradient check failed: relative error" in message
    assert "worst configuration: " in message and "worst parameters: θ[" in message
    assert likely in message


def test_without_an_exact_gradient_the_reference_is_eq_7_and_its_epsilon_is_reported(one_per_group):
    morse = Morse((0.4, 1.4, 2.9))
    small = sorted(one_per_group, key=lambda c: c.n_atoms)[:6]
    assert (
        assert_force_loss_gradient(morse.exact_force_loss_gradient, small, reference=ProtocolOnly(morse), rtol=1e-6)
        < 1e-6
    )
    with pytest.raises(AssertionError, match=r"with the paper's central difference \(Eq. 7\) at ε = 1e-05 as given"):
        assert_force_loss_gradient(
            lambda c: -morse.exact_force_loss_gradient(c), small, reference=ProtocolOnly(morse), epsilon=1e-5
        )


def test_a_bare_function_needs_a_reference(one_per_group):
    with pytest.raises(TypeError, match="a bare gradient function needs reference="):
        assert_force_loss_gradient(lambda c: np.zeros(3), one_per_group)


class SelfCheckingMorse:
    """A trainer whose force_loss_gradient is its own 'exact' method, with a planted sign bug in that method."""

    def __init__(self, theta):
        self.model = Morse(theta)
        self.theta, self.energy, self.forces, self.energy_gradient = (
            self.model.theta,
            self.model.energy,
            self.model.forces,
            self.model.energy_gradient,
        )

    def exact_force_loss_gradient(self, configuration):
        return -self.model.exact_force_loss_gradient(configuration)

    force_loss_gradient = exact_force_loss_gradient


def test_a_model_is_never_checked_against_its_own_exact_gradient(one_per_group):
    small = sorted(one_per_group, key=lambda c: c.n_atoms)[:4]
    with pytest.raises(AssertionError) as failure:
        assert_force_loss_gradient(SelfCheckingMorse((0.4, 1.4, 2.9)), small)
    message = str(failure.value)
    assert (
        "compared the candidate SelfCheckingMorse.exact_force_loss_gradient with the paper's central difference"
        in message
    )
    assert "chosen by the proxy, Err[L̃] = " in message and "wrong sign" in message


def test_linear_snap_is_checked_against_the_lammps_closed_form(potential, one_per_group):
    def off(configuration):
        return 1.01 * potential.exact_force_loss_gradient(configuration)

    with pytest.raises(AssertionError, match=r"with the linear SNAP closed form A_fᵀg from LAMMPS compute snap"):
        assert_force_loss_gradient(off, one_per_group[:3], reference=potential)
    # the closed form itself as the candidate is not compared with itself: the paper's estimate is the reference
    error = assert_force_loss_gradient(potential.exact_force_loss_gradient, one_per_group[:3], reference=potential)
    assert 0 < error < 1e-6
