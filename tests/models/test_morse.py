"""The numpy Morse model: analytic derivatives against central differences, on real Ta cells."""

from __future__ import annotations

import numpy as np
import pytest

from snapcheck.models.morse import Morse
from snapcheck.models.protocol import EnergyModel

THETA = (0.4, 1.4, 2.9)  # D eV, a 1/Å, r0 Å


def test_pair_terms_match_central_differences():
    model, r, h = Morse(THETA), np.linspace(2.0, 5.95, 12), 1e-6
    terms = model.pair_terms(r)
    np.testing.assert_allclose(
        terms.dphi_dr, (model.pair_terms(r + h).phi - model.pair_terms(r - h).phi) / (2 * h), atol=1e-8
    )
    for k, shift in enumerate(np.eye(3) * h):
        plus, minus = Morse(model.theta + shift).pair_terms(r), Morse(model.theta - shift).pair_terms(r)
        np.testing.assert_allclose(terms.dphi_dtheta[:, k], (plus.phi - minus.phi) / (2 * h), atol=1e-8)
        np.testing.assert_allclose(terms.d2phi_dr_dtheta[:, k], (plus.dphi_dr - minus.dphi_dr) / (2 * h), atol=1e-8)


def test_forces_are_minus_the_energy_gradient(one_per_group):
    model, h = Morse(THETA), 1e-5
    configuration = one_per_group[7]
    forces = model.forces(configuration)
    for atom in (0, configuration.n_atoms - 1):
        for axis in range(3):
            shift = np.zeros_like(configuration.positions)
            shift[atom, axis] = h
            numeric = -(
                model.energy(configuration, configuration.positions + shift)
                - model.energy(configuration, configuration.positions - shift)
            ) / (2 * h)
            assert forces[atom, axis] == pytest.approx(numeric, rel=1e-6, abs=1e-9)


def test_exact_force_loss_gradient_matches_a_difference_in_theta(one_per_group):
    model, h = Morse(THETA), 1e-6

    def loss(theta, configuration):
        errors = Morse(theta).forces(configuration) - configuration.forces
        return 0.5 * np.sum(errors * errors)

    exact, numeric = [], []
    for configuration in one_per_group:
        exact.append(model.exact_force_loss_gradient(configuration))
        numeric.append(
            [
                (loss(model.theta + s, configuration) - loss(model.theta - s, configuration)) / (2 * h)
                for s in np.eye(3) * h
            ]
        )
    exact, numeric = np.array(exact), np.array(numeric)
    assert np.linalg.norm(exact - numeric) <= 1e-7 * np.linalg.norm(exact)


def test_is_an_energy_model():
    assert isinstance(Morse(THETA), EnergyModel)
    with pytest.raises(ValueError, match=r"Morse takes θ = \(D, a, r0\)"):
        Morse((1.0, 2.0))
