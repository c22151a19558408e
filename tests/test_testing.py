"""snapcheck.testing passes a right gradient and right forces, and names each planted bug."""

from __future__ import annotations

import numpy as np
import pytest

from snapcheck.gradients.reference import paper_force_loss_gradient
from snapcheck.models import LinearSnapPotential, Morse
from snapcheck.testing import (
    CheckFailure,
    assert_force_loss_gradient,
    assert_forces_consistent,
    force_loss_gradient_error,
    forces_error,
)


class PaperMethodTrainer:
    """A trainer whose ∇θL comes from the paper's Eq. 7 at ε = 1e-5 (no ML framework)."""

    def __init__(self, potential):
        self.potential = potential
        self.theta = potential.theta
        self.energy, self.forces, self.energy_gradient = potential.energy, potential.forces, potential.energy_gradient
        self.exact_force_loss_gradient = potential.exact_force_loss_gradient

    def force_loss_gradient(self, configuration):
        return paper_force_loss_gradient(self.potential, [configuration], epsilon=1e-5).gradient


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


@pytest.fixture(scope="module")
def small(one_per_group):
    return sorted(one_per_group, key=lambda c: c.n_atoms)[:6]


def test_a_right_gradient_passes(potential, one_per_group):
    report = assert_force_loss_gradient(PaperMethodTrainer(potential), one_per_group, rtol=1e-6)
    assert 0 < report.worst < 1e-7 and report.passed
    assert report.compared_with == "the linear SNAP closed form A_fᵀg from LAMMPS compute snap"
    assert repr(report).startswith("GradientReport(passed=True") and len(repr(report)) < 200


@pytest.mark.parametrize(
    ("bug", "likely"),
    [
        (
            lambda exact, c: np.zeros_like(exact),
            "the gradient is all zero: the forces were computed without create_graph=True",
        ),
        (lambda exact, c: -exact, "the gradient has a sign error (factor −1)"),
        (lambda exact, c: 2 * exact, "a factor 2: Σ|f̂ − f|² where ½Σ|f̂ − f|² was specified"),
        (lambda exact, c: exact / c.n_atoms, "a factor 1/N per configuration: a mean over each configuration's atoms"),
        (lambda exact, c: exact / (1.5 * c.n_atoms), "a factor 2/(3N) per configuration: mse_loss"),
    ],
    ids=["zero", "sign", "missing-half", "mean-over-atoms", "mse"],
)
def test_planted_bugs_are_caught_and_named(potential, one_per_group, bug, likely):
    def buggy(configuration):
        return bug(potential.exact_force_loss_gradient(configuration), configuration)

    with pytest.raises(CheckFailure) as failure:
        assert_force_loss_gradient(potential, one_per_group, gradient_fn=buggy)
    message = str(failure.value)
    assert likely in message.splitlines()[0] and str(failure.value.report).startswith("snapcheck: ")
    assert "worst configuration: " in message and "worst parameters: θ[" in message
    assert isinstance(failure.value, AssertionError) and not failure.value.report.passed
    report = force_loss_gradient_error(potential, one_per_group, gradient_fn=buggy)  # the same, without raising
    assert report.problems == failure.value.report.problems


def test_without_an_exact_gradient_the_reference_is_eq_7_and_its_epsilon_is_reported(small):
    morse = Morse((0.4, 1.4, 2.9))
    report = assert_force_loss_gradient(ProtocolOnly(morse), small, gradient_fn=morse.exact_force_loss_gradient)
    assert report.worst < 1e-6 and report.tolerance > report.rtol  # rtol + the estimate's own bound
    with pytest.raises(
        AssertionError, match=r"compared with the paper's central difference \(Eq. 7\) at ε = 1e-05 as given"
    ):
        assert_force_loss_gradient(
            ProtocolOnly(morse), small, gradient_fn=lambda c: -morse.exact_force_loss_gradient(c), epsilon=1e-5
        )


def test_a_model_without_a_candidate_is_refused(small):
    with pytest.raises(TypeError, match=r"Morse has no force_loss_gradient\(configuration\): give the gradient"):
        assert_force_loss_gradient(Morse((0.4, 1.4, 2.9)), small)


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


def test_a_model_is_never_checked_against_its_own_exact_gradient(small):
    with pytest.raises(AssertionError) as failure:
        assert_force_loss_gradient(SelfCheckingMorse((0.4, 1.4, 2.9)), small[:4])
    message = str(failure.value)
    assert "compared with the paper's central difference (Eq. 7)" in message
    assert "chosen by the energy proxy" in message and "a sign error" in message


def test_linear_snap_is_checked_against_the_lammps_closed_form(potential, one_per_group):
    def off(configuration):
        return 1.01 * potential.exact_force_loss_gradient(configuration)

    with pytest.raises(
        AssertionError, match=r"compared with the linear SNAP closed form A_fᵀg from LAMMPS compute snap"
    ):
        assert_force_loss_gradient(potential, one_per_group[:3], gradient_fn=off)
    # the closed form itself as the candidate is not compared with itself: the paper's estimate is the reference
    report = assert_force_loss_gradient(potential, one_per_group[:3], gradient_fn=potential.exact_force_loss_gradient)
    assert 0 < report.worst < 1e-6 and "the paper's central difference" in report.compared_with


def test_forces_are_checked_against_central_differences_of_the_energy(small):
    morse = Morse((0.4, 1.4, 2.9))
    report = assert_forces_consistent(morse, small)
    assert report.directional_error < 1e-6 and report.passed
    with pytest.raises(CheckFailure, match=r"forces_fn has a sign error \(factor −1\) against −∂Ê/∂r"):
        assert_forces_consistent(morse, small, forces_fn=lambda c: -morse.forces(c, c.positions))
    halved = forces_error(morse, small, forces_fn=lambda c: morse.forces(c, c.positions) / c.n_atoms)
    assert "a factor 1/N per configuration" in halved.problems[0]


class SignFlippedMorse(Morse):
    def forces(self, configuration, positions):
        return -super().forces(configuration, positions)


def test_a_force_message_names_the_code_it_checked(small):
    def my_forces(configuration):
        return -Morse((0.4, 1.4, 2.9)).forces(configuration, configuration.positions)

    named = forces_error(Morse((0.4, 1.4, 2.9)), small, forces_fn=my_forces)
    assert named.problems[0].startswith("forces_fn (my_forces) has a sign error (factor −1)")
    default = forces_error(SignFlippedMorse((0.4, 1.4, 2.9)), small)
    assert default.problems[0].startswith("model.forces has a sign error (factor −1)")
