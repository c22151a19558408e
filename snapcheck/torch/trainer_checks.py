"""snapcheck's checks on three real, correct PyTorch trainers: the per-tensor errors docs/torch.md quotes.

Each trainer's own force-loss gradient is compared with the reference built from its energy alone
(:func:`snapcheck.torch.force_loss_gradient_error`: the exact forward-over-reverse product in float64, the
paper's Eq. 7 at automatic ε beside it), one row per (trainer, dtype, parameter tensor):

* ``radial``: :class:`~snapcheck.torch.potential.RadialPotential` in float64 and float32, its forces by
  double backpropagation, on :data:`CHECK_CONFIGURATIONS`;
* ``hippynn``: hippynn 0.1.3's HIP-NN (:func:`snapcheck.torch.hippynn.build`) in float64 and float32, its
  forces from its own ``GradientNode``, its loss the force MSE (``loss_fn=force_mse``), on the same
  configurations; its forces are checked too (:func:`snapcheck.torch.forces_error`);
* ``fitsnap``: FitSNAP 3.1.0.4's PyTorch solver run in process on one batch
  (:func:`~snapcheck.torch.fitsnap_run.run_one_batch`), its captured ``.grad`` against its energy term
  (exact) plus its force term (Eq. 7 on LAMMPS energies): :func:`snapcheck.torch.fitsnap.check_fitsnap_gradient`.

These trainers are correct, so every check must pass (column ``passed``; ``problem``: the first line of
what a failed check says).
"""

from __future__ import annotations

import importlib.util
import math
from collections.abc import Sequence

import pandas as pd
import torch

from snapcheck.base.errors import MissingDependency
from snapcheck.gradients.checks import CheckFailure
from snapcheck.torch.check import force_loss_gradient_error
from snapcheck.torch.determinism import one_thread
from snapcheck.torch.forces import forces_error
from snapcheck.torch.potential import RadialPotential, energy_fn, forces_fn, ta_atoms

#: The three Ta configurations of docs/torch.md's per-tensor tables (4 + 24 + 48 atoms).
CHECK_CONFIGURATIONS = (("Elastic_FCC", 1), ("GSF_110", 1), ("Displaced_FCC", 1))


def _first_problem(*reports) -> str:
    problems = [problem for report in reports for problem in report.problems]
    return problems[0].splitlines()[0] if problems else ""


def _gradient_rows(trainer: str, report, forces=None) -> list[dict]:
    """One row per parameter tensor of a :class:`~snapcheck.gradients.checks.GradientReport` (and its forces')."""
    extra = {} if forces is None else {"forces_relative_error": forces.relative_error}
    checked = [report] + ([] if forces is None else [forces])
    return [
        {
            "trainer": trainer,
            "dtype": report.precision,
            "tensor": name,
            "relative_error": error,
            "fd_vs_exact": (report.estimate_vs_exact or {}).get(name, math.nan),
            "force_term_relative_error": math.nan,
            "energy_only": name in report.energy_only,
            "epsilon": report.epsilon,
            "error_bound": report.error_bound,
            **extra,
            "passed": all(r.passed for r in checked),
            "problem": _first_problem(*checked),
        }
        for name, error in report.relative_errors.items()
    ]


def _fitsnap_rows() -> list[dict]:
    from snapcheck.torch.fitsnap import check_fitsnap_gradient
    from snapcheck.torch.fitsnap_run import run_one_batch

    try:
        report = check_fitsnap_gradient(run_one_batch())
    except CheckFailure as failure:
        report = failure.report
    return [
        {
            "trainer": "fitsnap",
            "dtype": report.precision,
            "tensor": name,
            "relative_error": error,
            "fd_vs_exact": math.nan,
            "force_term_relative_error": report.estimate_errors[name],
            "energy_only": math.isnan(report.estimate_errors[name]),
            "epsilon": report.epsilon,
            "error_bound": report.error_bound,
            "forces_directional_error": report.measurements["forces_directional_error"],
            "descriptor_mismatch": report.measurements["descriptor_mismatch"],
            "passed": report.passed,
            "problem": _first_problem(report),
        }
        for name, error in report.relative_errors.items()
    ]


def require_trainers(trainers: Sequence[str]) -> None:
    """Raise :class:`~snapcheck.base.errors.MissingDependency` before anything runs if a trainer is not installed."""
    if "hippynn" in trainers and importlib.util.find_spec("hippynn") is None:
        raise MissingDependency(
            "the hippynn trainer is not installed: pip install 'snapcheck[trainers]' (hippynn 0.1.3), or leave it out "
            "of --trainers"
        )
    if "fitsnap" in trainers:
        from snapcheck.studies.fitsnap_crosscheck import require_fitsnap

        require_fitsnap()


def trainer_checks(trainers: Sequence[str]) -> pd.DataFrame:
    """One row per (trainer, dtype, parameter tensor) of the ``trainers`` among ``radial``, ``hippynn`` and
    ``fitsnap`` (module docstring), on one thread."""
    require_trainers(trainers)
    configurations = ta_atoms(CHECK_CONFIGURATIONS)
    rows = []
    with one_thread():
        if "radial" in trainers:
            for dtype in (torch.float64, torch.float32):
                model = RadialPotential(dtype=dtype)
                rows += _gradient_rows(
                    "radial", force_loss_gradient_error(model, energy_fn, configurations, forces_fn=forces_fn)
                )
        if "hippynn" in trainers:
            from snapcheck.torch import hippynn as hp

            for dtype in (torch.float64, torch.float32):
                model = hp.build(dtype)
                forces = forces_error(model, hp.energy_fn, configurations, forces_fn=hp.forces_fn)
                report = force_loss_gradient_error(
                    model, hp.energy_fn, configurations, forces_fn=hp.forces_fn, loss_fn=hp.force_mse
                )
                rows += _gradient_rows("hippynn", report, forces)
        if "fitsnap" in trainers:
            rows += _fitsnap_rows()
    return pd.DataFrame(rows)
