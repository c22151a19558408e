"""hippynn 0.1.3's force training (its GradientNode forces, its MSE loss graph) checked by snapcheck.torch."""

from __future__ import annotations

import importlib.util
import re

import pytest
import torch

import snapcheck.torch as sc
from snapcheck.torch import hippynn as hp


def forces_fn_detached(model, atoms, positions):
    """Planted: the trainer takes hippynn's forces off a detached copy (e.g. a numpy round trip for logging)."""
    return hp.forces_fn(model, atoms, positions.detach().requires_grad_(True)).detach()


@pytest.fixture(scope="module", autouse=True)
def hippynn_installed():
    """hippynn comes with the trainers extra: fail with the install line, never skip."""
    if importlib.util.find_spec("hippynn") is None:
        pytest.fail("hippynn is not installed: pip install 'snapcheck[trainers]' (hippynn 0.1.3)")


@pytest.fixture(scope="module")
def two(ta_three):
    return ta_three[:2]  # 4 + 24 atoms: hippynn's periodic pair finder dominates the cost


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_hippynn_forces_and_gradient(dtype, ta_three):
    model = hp.build(dtype)
    sc.assert_forces_consistent(model, hp.energy_fn, ta_three, forces_fn=hp.forces_fn)
    report = sc.assert_force_loss_gradient(model, hp.energy_fn, ta_three, forces_fn=hp.forces_fn, loss_fn=hp.force_mse)
    print(report)
    assert max(report.relative_errors.values()) < (1e-12 if dtype == torch.float64 else 1e-5)
    assert len(report.relative_errors) == sum(1 for p in model.parameters() if p.requires_grad)


def test_hippynn_own_training_loss(two):
    """hippynn's assembled loss graph + backward = ∇θ of its force MSE."""
    report = sc.assert_force_loss_gradient(
        hp.build(), hp.energy_fn, two, trainer_step=hp.trainer_step, loss_fn=hp.force_mse
    )
    assert max(report.relative_errors.values()) < 1e-12


def test_hippynn_mse_against_half_sum_is_named(ta_three):
    with pytest.raises(AssertionError, match=r"the gradient has a factor 2/\(3N\) per configuration: mse_loss"):
        sc.assert_force_loss_gradient(hp.build(), hp.energy_fn, ta_three[2:], trainer_step=hp.trainer_step)


def test_hippynn_sign_flip_is_named(two):
    model = hp.build(sign=+1)  # GradientNode(..., sign=+1): the gradient, not the force
    with pytest.raises(AssertionError, match=r"forces_fn has a sign error \(factor −1\)"):
        sc.assert_force_loss_gradient(model, hp.energy_fn, two, forces_fn=hp.forces_fn)
    with pytest.raises(AssertionError, match=r"sign error"):
        sc.assert_forces_consistent(model, hp.energy_fn, two, forces_fn=hp.forces_fn)


def test_hippynn_detached_forces_are_named(two):
    with pytest.raises(AssertionError, match=re.compile(r"zero gradient.*create_graph=True", re.S)):
        sc.assert_force_loss_gradient(hp.build(), hp.energy_fn, two, forces_fn=forces_fn_detached)
