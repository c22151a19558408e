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
"""

from snapcheck.torch.check import (
    DEFAULT_RTOL,
    ForcesReport,
    GradientReport,
    assert_force_training_gradient,
    assert_forces_consistent,
    forces_from_energy,
)
from snapcheck.torch.paper import PaperGradientReport, paper_force_loss_gradient
from snapcheck.torch.reference import default_loss, robust_argmin

__all__ = [
    "DEFAULT_RTOL",
    "ForcesReport",
    "GradientReport",
    "PaperGradientReport",
    "assert_force_training_gradient",
    "assert_forces_consistent",
    "default_loss",
    "forces_from_energy",
    "paper_force_loss_gradient",
    "robust_argmin",
]
