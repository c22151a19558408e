"""The PyTorch network (double backpropagation) against the numpy NeuralSnap (hand-written R-op), on real Ta data."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="the torch extra is not installed: pip install 'snapcheck[torch]'")

from snapcheck.descriptors.engine import SnapEngine  # noqa: E402
from snapcheck.models import LinearSnap  # noqa: E402
from snapcheck.models.neural_snap import NeuralSnap  # noqa: E402
from snapcheck.models.torch_snap import TorchDescriptors, TorchSnap  # noqa: E402


@pytest.fixture(scope="module")
def liquid(ta_configurations):
    """A 100-atom liquid configuration: every atom sees a different neighbourhood."""
    return next(c for c in ta_configurations if c.group == "Liquid")


@pytest.fixture(scope="module")
def liquid_descriptors(liquid):
    with SnapEngine(liquid, LinearSnap.ta06a().parameters) as engine:
        return engine.evaluate_per_atom()


@pytest.mark.parametrize("activation", ["tanh", "softplus", "silu"])
def test_double_backprop_equals_the_numpy_r_operator(liquid, liquid_descriptors, activation):
    b = liquid_descriptors.descriptors
    model = NeuralSnap.initialize(
        LinearSnap.ta06a().parameters,
        (24, 16),
        seed=3,
        activation=activation,
        shift=b.mean(axis=0),
        scale=b.std(axis=0),
    )
    network, tensors = TorchSnap(model), TorchDescriptors.from_numpy(liquid_descriptors)

    forces = model.forces_from(liquid_descriptors)
    np.testing.assert_allclose(
        network.forces_from(tensors).detach().numpy(), forces, rtol=0, atol=1e-12 * np.abs(forces).max()
    )

    exact = model.force_loss_gradient_from(liquid_descriptors, forces - liquid.forces)
    double_backprop = network.force_loss_gradient_from(tensors, torch.tensor(liquid.forces)).numpy()
    assert np.linalg.norm(double_backprop - exact) <= 1e-10 * np.linalg.norm(exact)
    assert np.linalg.norm(exact) > 0


def test_forces_without_create_graph_have_no_graph(liquid_descriptors):
    model = NeuralSnap.initialize(LinearSnap.ta06a().parameters, (8,), seed=0)
    assert not TorchSnap(model).forces_from(TorchDescriptors.from_numpy(liquid_descriptors)).requires_grad
