"""snapcheck.torch: check any PyTorch potential's force-training gradient in a few lines.

::

    import snapcheck.torch as sc
    configurations = ase.io.read("train.extxyz", ":3")          # energy and forces attached
    sc.assert_forces_consistent(model, energy_fn, configurations, forces_fn=my_forces)
    sc.assert_force_training_gradient(model, energy_fn, configurations, forces_fn=my_forces)

``energy_fn(model, atoms, positions)`` returns Ê (eV) as a scalar tensor built from the
``positions`` tensor (Å); ``forces_fn`` is the trainer's own force code.  The reference uses only
``energy_fn`` and first-order gradients (the paper's Eq. 7 at automatic ε), plus the exact
forward-over-reverse product in float64.  Needs the ``torch`` extra: ``pip install 'snapcheck[torch]'``.

Importing this package (and its pytest plugin, :mod:`snapcheck.torch.plugin`) loads neither torch
nor the rest of snapcheck: each public name imports its module when it is first used (PEP 562).
"""

import importlib
from typing import Any

#: Each public name and the module that defines it, imported on first use.
_PUBLIC = {
    "DEFAULT_RTOL": "snapcheck.torch.check",
    "ForcesReport": "snapcheck.torch.check",
    "GradientReport": "snapcheck.torch.check",
    "PaperGradientReport": "snapcheck.torch.paper",
    "assert_force_training_gradient": "snapcheck.torch.check",
    "assert_forces_consistent": "snapcheck.torch.check",
    "default_loss": "snapcheck.torch.reference",
    "forces_from_energy": "snapcheck.torch.check",
    "paper_force_loss_gradient": "snapcheck.torch.paper",
    "robust_argmin": "snapcheck.torch.reference",
}

__all__ = sorted(_PUBLIC)


def __getattr__(name: str) -> Any:
    if name in _PUBLIC:
        return getattr(importlib.import_module(_PUBLIC[name]), name)
    raise AttributeError(f"module 'snapcheck.torch' has no attribute {name!r}")
