"""A FitSNAP-style linear fit of a dataset, written as a model and a table of FitSNAP's metrics.

What ``fit`` runs: :func:`snapcheck.models.linear_fit.fit_linear_snap` with the
group weights and settings of a FitSNAP input, then ``reports/fit_metrics.csv``
and ``.md`` (per group and row type: count, MAE, RMSE and R², unweighted in
eV/atom, eV/Å and bar, and weighted) and ``reports/fitted.snapcoeff`` with
``reports/fitted.snapparam`` (readable by LAMMPS ``pair_style snap`` and by
``--model FILE.snapcoeff``).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from snapcheck.base.files import write_csv, write_markdown
from snapcheck.base.progress import progress_bar
from snapcheck.base.report import Summary
from snapcheck.data.datasets import load_configurations
from snapcheck.data.fitsnap_input import read_fitsnap_input
from snapcheck.data.locations import resolve_dataset
from snapcheck.models.linear_fit import ROW_UNITS, fit_linear_snap


def fit_dataset(*, data: str | Path | None, fit_input: Path | None, out_dir: Path) -> Summary:
    """Fit the dataset with ``fit_input`` (default: its own), write the model and metrics (module docstring)."""
    settings = read_fitsnap_input(fit_input) if fit_input is not None else resolve_dataset(data).read_fit_input()
    configurations = load_configurations(data)
    fit = fit_linear_snap(
        configurations, settings, progress=lambda items: progress_bar(items, desc="FitSNAP rows", unit="config")
    )
    reports = out_dir / "reports"
    write_csv(fit.metrics, reports / "fit_metrics.csv")
    write_markdown(fit.metrics, reports / "fit_metrics.md")
    fit.model.write(
        reports / "fitted.snapcoeff",
        reports / "fitted.snapparam",
        f"snapcheck fit of {len(configurations)} configurations with {settings.path}",
    )
    return Summary(
        (
            f"fitted {fit.model.n_parameters} coefficients to {len(fit.rows.truth)} rows of {len(configurations)}"
            f" configurations ({settings.path})",
            f"  wall time: descriptors {fit.descriptor_seconds:.2f} s, SVD solve {fit.solve_seconds:.3f} s",
            *metrics_lines(fit.metrics),
            f"wrote {reports}/fit_metrics.csv, fit_metrics.md, fitted.snapcoeff and fitted.snapparam",
        )
    )


def metrics_lines(metrics: pd.DataFrame) -> list[str]:
    """One line per group and row type: the unweighted metrics, then the weighted ones."""
    wide = metrics.pivot_table(
        index=["group", "row_type"], columns="weighting", values=["ncount", "mae", "rmse", "rsq"], sort=True
    )
    lines = [
        f"  {'group':<14} {'rows':<7} {'count':>5}  {'MAE':<10} {'RMSE':<10} {'R²':<10} | weighted: {'MAE':<10}"
        f" {'RMSE':<10} R²"
    ]
    for (group, row_type), row in wide.iterrows():
        unweighted = [row[(metric, "Unweighted")] for metric in ("mae", "rmse", "rsq")]
        weighted = [row[(metric, "weighted")] for metric in ("mae", "rmse", "rsq")]
        lines.append(
            f"  {group:<14} {row_type:<7} {int(row[('ncount', 'Unweighted')]):>5}  "
            + " ".join(f"{v:<10.4g}" for v in unweighted)
            + " |           "
            + " ".join(f"{v:<10.4g}" for v in weighted)
            + f" ({ROW_UNITS[row_type]}; weighted ×w)"
        )
    return lines
