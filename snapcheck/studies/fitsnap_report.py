"""snapcheck's linear fit against FitSNAP's, run side by side: the tables, the wall times and the verdict.

What ``crosscheck fitsnap`` runs.  Fits the dataset with the weights of a
FitSNAP input twice, by snapcheck (:func:`snapcheck.models.linear_fit.fit_linear_snap`)
and by FitSNAP itself in the same process and on the same LAMMPS
(:func:`snapcheck.studies.fitsnap_crosscheck.run_fitsnap`), compares A, b, w, β
and the metrics, then compares snapcheck's fit with FitSNAP's stored reference
fit (:mod:`snapcheck.studies.fitsnap_crosscheck` says what is compared and
how).  Writes ``reports/crosscheck_fitsnap.csv`` and ``.md`` and the wall times
of one run to ``reports/crosscheck_fitsnap_time.csv``; passes when every
quantity agrees within its tolerance.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from snapcheck.base.files import write_csv, write_markdown
from snapcheck.base.progress import progress_bar
from snapcheck.base.report import Summary, Verdict
from snapcheck.data.dataset_registry import FIT_INPUT, REFERENCE_FIT
from snapcheck.data.datasets import load_configurations
from snapcheck.data.fitsnap_input import read_fitsnap_input
from snapcheck.data.locations import dataset_file, resolve_dataset_root
from snapcheck.models.linear_fit import fit_linear_snap
from snapcheck.studies.fitsnap_crosscheck import (
    FITSNAP_VERSION,
    compare_with_run,
    compare_with_stored,
    require_fitsnap,
    run_fitsnap,
)


def crosscheck_fitsnap(
    *, data: str | Path | None, fit_input: Path | None, reference: Path | None, out_dir: Path
) -> Summary:
    """Fit by snapcheck and by FitSNAP, compare both with each other and with the stored fit (module docstring)."""
    require_fitsnap()
    data_root = resolve_dataset_root(data)
    settings = read_fitsnap_input(fit_input or dataset_file(data, FIT_INPUT))
    reference = reference or dataset_file(data, REFERENCE_FIT)
    configurations = load_configurations(data)

    fit = fit_linear_snap(
        configurations, settings, progress=lambda items: progress_bar(items, desc="snapcheck rows", unit="config")
    )
    ours_seconds = fit.descriptor_seconds + fit.solve_seconds
    fitsnap = run_fitsnap(settings, data_root)
    table = pd.DataFrame(compare_with_run(fit, fitsnap) + compare_with_stored(fit, configurations, reference))
    reports = out_dir / "reports"
    write_csv(table, reports / "crosscheck_fitsnap.csv")
    write_markdown(table, reports / "crosscheck_fitsnap.md")
    timing = pd.DataFrame(
        [
            {"fit": "snapcheck", "seconds": ours_seconds, "descriptor_seconds": fit.descriptor_seconds},
            {"fit": f"FitSNAP {FITSNAP_VERSION}", "seconds": fitsnap.seconds, "descriptor_seconds": float("nan")},
        ]
    )
    write_csv(timing, reports / "crosscheck_fitsnap_time.csv")

    lines = [
        f"{len(configurations)} configurations, {len(fit.rows.truth)} rows, {fit.model.n_parameters} coefficients;"
        f" input {settings.path}",
        f"  wall time of the fit: snapcheck {ours_seconds:.2f} s, FitSNAP {FITSNAP_VERSION} {fitsnap.seconds:.2f} s"
        f" (ratio {fitsnap.seconds / ours_seconds:.2f}), one run",
        f"  {'quantity':<22} {'against':<46} {'max |Δ|':<10} {'max |Δ|/|x|':<12} tolerance",
    ]
    for row in table.itertuples():
        mark = "ok" if row.agrees else "DISAGREES"
        lines.append(
            f"  {row.quantity:<22} {row.against:<46} {row.max_abs_diff:<10.2g} {row.max_rel_diff:<12.2g}"
            f" {row.tolerance:.0e} {row.criterion:<8} {mark}"
        )
    lines.append(f"wrote {reports}/crosscheck_fitsnap.csv, .md and crosscheck_fitsnap_time.csv")
    disagreeing = table[~table["agrees"]]
    if disagreeing.empty:
        return Summary(
            tuple(lines), Verdict(True, f"all {len(table)} quantities agree with FitSNAP's within tolerance")
        )
    first = disagreeing.iloc[0]
    worst = f"first: {first['quantity']} against {first['against']}, max |Δ| {first['max_abs_diff']:.2g}"
    return Summary(tuple(lines), Verdict(False, f"{len(disagreeing)} quantities disagree; {worst}"))
