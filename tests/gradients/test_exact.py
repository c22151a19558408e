"""The closed-form ∇θL = A_fᵀ g against a central difference of L in θ, and under rotation."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from snapcheck.descriptors import SnapEngine
from snapcheck.gradients import dataset_force_loss, exact_force_loss
from snapcheck.models import LinearSnap


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
        exact.append(exact_force_loss(model, configuration, descriptors).gradient)
        for shift in np.eye(model.n_parameters) * step:
            plus = exact_force_loss(model.with_theta(model.theta + shift), configuration, descriptors).loss
            minus = exact_force_loss(model.with_theta(model.theta - shift), configuration, descriptors).loss
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
                result = exact_force_loss(model, candidate, engine.evaluate())
            losses.append(result.loss)
            gradients.append(result.gradient)
    losses, gradients = np.array(losses).reshape(-1, 2), np.array(gradients).reshape(len(one_per_group), 2, -1)
    assert np.linalg.norm(losses[:, 1] - losses[:, 0]) <= 1e-10 * np.linalg.norm(losses[:, 0])
    assert np.linalg.norm(gradients[:, 1] - gradients[:, 0]) <= 1e-10 * np.linalg.norm(gradients[:, 0])


def test_dataset_average_is_the_mean_of_stacked_values(ta06a, ta_configurations, full_descriptors):
    per_configuration = [exact_force_loss(ta06a, c, d) for c, d in zip(ta_configurations, full_descriptors)]
    total = dataset_force_loss(per_configuration)
    assert total.gradients.shape == (363, 31)
    assert total.loss == pytest.approx(np.mean([item.loss for item in per_configuration]))
    force_rmse = np.sqrt(2 * total.losses.sum() / (3 * sum(c.n_atoms for c in ta_configurations)))
    assert 0.01 < force_rmse < 1.0, f"Ta06A force RMSE {force_rmse:.3f} eV/Å is not that of a trained model"
