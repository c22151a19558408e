"""A pytest plugin: the ``force_training_check`` fixture for a trainer's own test suite.

Every install of snapcheck (with or without the ``torch`` extra) registers it through the ``pytest11``
entry point, so a trainer's test needs no conftest line::

    def test_force_training(force_training_check):
        force_training_check(model, energy_fn, configurations, forces_fn=my_forces)

Without the entry point, one line in ``conftest.py`` loads it: ``pytest_plugins = ["snapcheck.torch.plugin"]``.

It is loaded in every pytest run of the environment, so loading it imports nothing but pytest: torch
and snapcheck's checks are imported by the fixture, when a test asks for it.  Without torch, every
other test runs as before, and a test that asks for the fixture fails with one line saying what to
install.
"""

from __future__ import annotations

import importlib.util

import pytest


@pytest.fixture
def force_training_check():
    """``check(model, energy_fn, configurations, **options)``: the forces, then the force-training gradient.

    ``options`` are those of :func:`snapcheck.torch.assert_force_loss_gradient` (``forces_fn``,
    ``loss_fn``, ``trainer_step``, ``rtol``, ``epsilon``, ``allow_unused`` …); ``forces_fn`` and ``rtol``
    also go to :func:`snapcheck.torch.assert_forces_consistent`.  Returns the gradient report.
    """
    if importlib.util.find_spec("torch") is None:
        pytest.fail(
            "force_training_check needs PyTorch, which is not installed: pip install 'snapcheck[torch]'", pytrace=False
        )
    from snapcheck.torch.check import assert_force_loss_gradient
    from snapcheck.torch.forces import assert_forces_consistent

    def check(model, energy_fn, configurations, **options):
        __tracebackhide__ = True
        forces_options = {key: options[key] for key in ("forces_fn", "rtol") if key in options}
        assert_forces_consistent(model, energy_fn, configurations, **forces_options)
        return assert_force_loss_gradient(model, energy_fn, configurations, **options)

    return check
