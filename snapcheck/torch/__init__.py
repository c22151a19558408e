"""snapcheck.torch: check any PyTorch potential's force-training gradient in a few lines.

::

    import ase.io
    import snapcheck.torch as sct
    configurations = ase.io.read("train.extxyz", ":3")          # energy and forces attached
    sct.assert_forces_consistent(model, energy_fn, configurations, forces_fn=my_forces)
    sct.assert_force_loss_gradient(model, energy_fn, configurations, forces_fn=my_forces)

``energy_fn(model, atoms, positions)`` returns Ê (eV) as a scalar tensor built from the
``positions`` tensor (Å); ``forces_fn`` is the trainer's own force code.  The reference uses only
``energy_fn`` and first-order gradients (the paper's Eq. 7 at automatic ε), plus the exact
forward-over-reverse product in float64.  The names are those of :mod:`snapcheck.testing`, with
``(model, energy_fn)`` where a numpy model stands there.  Needs the ``torch`` extra:
``pip install 'snapcheck[torch]'``.

Importing this package (and its pytest plugin, :mod:`snapcheck.torch.plugin`) loads neither torch
nor the rest of snapcheck: each public name imports its module when it is first used (PEP 562).
"""

from snapcheck.base.lazy import lazy_attributes

#: name → the module that defines it, imported on first use (no torch until then).
_PUBLIC = {
    "CheckFailure": "snapcheck.gradients.checks",
    "DEFAULT_RTOL": "snapcheck.gradients.checks",
    "ForcesReport": "snapcheck.gradients.forces_check",
    "GradientReport": "snapcheck.gradients.checks",
    "PaperGradient": "snapcheck.gradients.reference",
    "StressReport": "snapcheck.gradients.stress_check",
    "TorchPotential": "snapcheck.torch.backend",
    "assert_force_loss_gradient": "snapcheck.torch.check",
    "assert_forces_consistent": "snapcheck.torch.forces",
    "assert_stress_consistent": "snapcheck.torch.stress",
    "default_loss": "snapcheck.torch.backend",
    "force_loss_gradient_error": "snapcheck.torch.check",
    "forces_error": "snapcheck.torch.forces",
    "forces_from_energy": "snapcheck.torch.backend",
    "paper_force_loss_gradient": "snapcheck.gradients.reference",
    "stress_error": "snapcheck.torch.stress",
}

__all__ = sorted(_PUBLIC)


__getattr__ = lazy_attributes("snapcheck.torch", _PUBLIC)
