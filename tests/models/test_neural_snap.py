"""The numpy neural SNAP model: hand-written backpropagation, the R-op and the paper's Eq. 7 against differences."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from snapcheck.base.errors import InputError
from snapcheck.descriptors.cache import EngineCache
from snapcheck.gradients.paper import relative_error
from snapcheck.gradients.reference import paper_force_loss_gradient
from snapcheck.models import EnergyModel, NeuralSnap, NeuralSnapPotential
from snapcheck.models.neural_snap import ACTIVATIONS
from snapcheck.testing import assert_force_loss_gradient

WIDTHS = (8, 6)


@pytest.fixture(scope="module")
def cache(ta06a):
    with EngineCache(ta06a.parameters) as cache:
        yield cache


def network(ta06a, cache, configurations, activation="tanh", seed=1) -> NeuralSnap:
    """A small network standardised on ``configurations``' atoms, its output bias near the data."""
    atoms = np.concatenate([cache.per_atom(c).descriptors for c in configurations])
    return NeuralSnap.initialize(
        ta06a.parameters,
        WIDTHS,
        seed,
        activation,
        shift=atoms.mean(axis=0),
        scale=atoms.std(axis=0) + 1e-12,
        energy_offset=-16.5,
    )


def theta_differences(function, theta: np.ndarray, h: float) -> np.ndarray:
    """Central differences of a scalar function in every component of θ."""
    return np.array(
        [(function(theta + h * unit) - function(theta - h * unit)) / (2 * h) for unit in np.eye(len(theta))]
    )


def test_activation_derivatives_match_central_differences():
    a, h = np.linspace(-4, 4, 41), 1e-5
    for activation in ACTIVATIONS.values():
        np.testing.assert_allclose(
            activation.first(a), (activation.value(a + h) - activation.value(a - h)) / (2 * h), atol=1e-9
        )
        np.testing.assert_allclose(
            activation.second(a), (activation.first(a + h) - activation.first(a - h)) / (2 * h), atol=1e-9
        )


def test_energy_gradient_matches_a_difference_in_theta(ta06a, cache, one_per_group):
    model = network(ta06a, cache, one_per_group)
    for configuration in (one_per_group[1], one_per_group[7]):
        descriptors = cache.per_atom(configuration)
        numeric = theta_differences(
            lambda theta, descriptors=descriptors: model.with_theta(theta).energy_from(descriptors), model.theta, 1e-6
        )
        assert relative_error(model.energy_gradient_from(descriptors), numeric) < 1e-7


def test_seeded_energy_gradient_is_the_weighted_sum(ta06a, cache, one_per_group):
    model = network(ta06a, cache, one_per_group)
    atoms = cache.per_atom(one_per_group[2]).descriptors
    seeds = np.random.default_rng(0).normal(size=len(atoms))
    expected = sum(s * model.atom_energy_gradient(row[None, :]) for s, row in zip(seeds, atoms))
    np.testing.assert_allclose(model.atom_energy_gradient(atoms, seeds), expected, rtol=1e-10, atol=1e-12)


def test_forces_are_minus_the_energy_gradient_in_positions(ta06a, cache, one_per_group):
    model = network(ta06a, cache, one_per_group, activation="silu")
    h = 1e-5
    with NeuralSnapPotential(model, cache) as potential:
        for configuration in (one_per_group[0], one_per_group[8]):
            forces = potential.forces(configuration)
            for atom, axis in ((0, 0), (configuration.n_atoms - 1, 2)):
                shift = np.zeros_like(configuration.positions)
                shift[atom, axis] = h
                numeric = -(
                    potential.energy(configuration, configuration.positions + shift)
                    - potential.energy(configuration, configuration.positions - shift)
                ) / (2 * h)
                assert forces[atom, axis] == pytest.approx(numeric, rel=1e-7, abs=1e-8)


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
def test_exact_gradient_matches_a_difference_of_the_loss_in_theta(ta06a, cache, one_per_group, activation):
    """The R-op ∇θL = −Σᵢ Jᵢuᵢ against central differences of L = ½Σ|f̂ − f|² in every θ component."""
    model = network(ta06a, cache, one_per_group, activation)
    potential = NeuralSnapPotential(model, cache)
    exact, numeric = [], []
    for configuration in one_per_group[::3]:  # A15, Elastic BCC, GSF 112, Volume A15
        descriptors = cache.per_atom(configuration)

        def loss(theta, descriptors=descriptors, configuration=configuration):
            errors = model.with_theta(theta).forces_from(descriptors) - configuration.forces
            return 0.5 * np.sum(errors * errors)

        exact.append(potential.exact_force_loss_gradient(configuration))
        numeric.append(theta_differences(loss, model.theta, 1e-5))
    assert relative_error(np.array(exact), np.array(numeric)) < 1e-7


def test_paper_estimate_at_epsilon_1e5_matches_the_exact_gradient(ta06a, cache, one_per_group):
    with NeuralSnapPotential(network(ta06a, cache, one_per_group, "softplus"), cache) as potential:
        exact = np.array([potential.exact_force_loss_gradient(c) for c in one_per_group])
        estimate = paper_force_loss_gradient(potential, one_per_group, epsilon=1e-5).per_configuration
    assert relative_error(estimate, exact) <= 1e-7


def test_epsilon_sweep_has_the_shape_of_fig1(ta06a, cache, one_per_group):
    """Truncation error ∝ ε² at large ε, round-off ∝ 1/ε at small ε, a deep minimum between."""
    epsilons = 10.0 ** np.arange(-11, -0.5, 1.0)
    with NeuralSnapPotential(network(ta06a, cache, one_per_group), cache) as potential:
        exact = np.array([potential.exact_force_loss_gradient(c) for c in one_per_group])
        errors = np.array(
            [
                relative_error(paper_force_loss_gradient(potential, one_per_group, epsilon=e).per_configuration, exact)
                for e in epsilons
            ]
        )
    large = epsilons >= 1e-3
    slope = np.polyfit(np.log10(epsilons[large]), np.log10(errors[large]), 1)[0]
    assert slope == pytest.approx(2.0, abs=0.3)
    best = int(np.argmin(errors))
    assert 1e-8 <= epsilons[best] <= 1e-4 and errors[best] < 1e-8
    assert errors[0] > 100 * errors[best]  # round-off at ε = 1e-11
    small = epsilons <= 1e-8
    assert np.polyfit(np.log10(epsilons[small]), np.log10(errors[small]), 1)[0] < -0.5


def test_oracle_tools_work_on_the_network(ta06a, cache, one_per_group):
    """snapcheck.testing on the network: its own R-op passes against the paper's estimate, a halved one is named."""
    potential = NeuralSnapPotential(network(ta06a, cache, one_per_group, "silu"), cache)
    assert isinstance(potential, EnergyModel)
    report = assert_force_loss_gradient(
        potential, one_per_group, gradient_fn=potential.exact_force_loss_gradient, rtol=1e-7
    )
    assert 0 < report.worst <= report.tolerance and "the paper's central difference" in report.compared_with
    with pytest.raises(AssertionError, match="the gradient has a factor 1/2: an extra ½"):
        assert_force_loss_gradient(
            potential, one_per_group, gradient_fn=lambda c: 0.5 * potential.exact_force_loss_gradient(c)
        )


def test_float32_evaluation_follows_float64(ta06a, cache, one_per_group):
    model = network(ta06a, cache, one_per_group)
    single = replace(model, dtype="float32")
    descriptors = cache.per_atom(one_per_group[1])  # Displaced_BCC
    assert model.theta.dtype == np.float64 and single.theta.dtype == np.float32
    assert single.energy_from(descriptors) == pytest.approx(model.energy_from(descriptors), rel=1e-6)
    np.testing.assert_allclose(
        single.forces_from(descriptors),
        model.forces_from(descriptors),
        rtol=0,
        atol=1e-4 * np.abs(model.forces_from(descriptors)).max(),
    )


def test_bad_models_are_refused(ta06a):
    two_elements = replace(ta06a.parameters, elements=("Ta", "W"), radii=(0.5, 0.5), weights=(1.0, 1.0))
    with pytest.raises(InputError, match=r"one network for one element; the SNAP parameters list \['Ta', 'W'\]"):
        NeuralSnap.initialize(two_elements, (4,), 0)
    with pytest.raises(ValueError, match=r"θ has shape \(3,\), expected \(129,\) for K = 30 and widths \(4,\)"):
        NeuralSnap(ta06a.parameters, (4,), "tanh", np.zeros(3), np.zeros(30), np.ones(30))
    with pytest.raises(ValueError, match="activation 'relu' is not one of"):
        NeuralSnap.initialize(ta06a.parameters, (4,), 0, activation="relu")
