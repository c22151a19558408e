"""snapcheck's linear fit against FitSNAP's, run side by side: the tables, the wall times and the verdict.

What ``crosscheck fitsnap`` runs.  Fits the dataset's configurations (all, or
``configs`` of them stratified by group) with the weights of a FitSNAP input
twice, by snapcheck (:func:`snapcheck.models.linear_fit.fit_linear_snap`) and by
FitSNAP itself on the same configurations, in the same process and on the same
LAMMPS (:func:`snapcheck.studies.fitsnap_live.run_fitsnap`), compares A,
b, w (row by row, energy, force and stress rows), β and the metrics, then
compares snapcheck's fit with FitSNAP's stored fit of the dataset
(:mod:`snapcheck.studies.fitsnap_compare` says what is compared and how).
Writes ``reports/crosscheck_fitsnap.csv`` and ``.md`` and the wall times of one
run to ``reports/crosscheck_fitsnap_time.csv``; passes when every quantity
compared agrees within its tolerance, and names what could not be compared and
why.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from snapcheck.base.files import write_csv, write_markdown
from snapcheck.base.progress import progress_bar
from snapcheck.base.report import Summary, Verdict
from snapcheck.data.datasets import load_configurations
from snapcheck.data.fitsnap_input import read_fitsnap_input
from snapcheck.data.locations import resolve_dataset
from snapcheck.models.linear_fit import fit_linear_snap
from snapcheck.studies.fitsnap_compare import (
    TOLERANCES,
    column_note,
    compare_with_run,
    compare_with_stored,
    not_compared,
)
from snapcheck.studies.fitsnap_crosscheck import FITSNAP_VERSION, require_fitsnap, stored_fit
from snapcheck.studies.fitsnap_live import run_fitsnap


def crosscheck_fitsnap(
    *,
    data: str | Path | None,
    fit_input: Path | None,
    reference: Path | None,
    out_dir: Path,
    configs: int | None = None,
) -> Summary:
    """Fit by snapcheck and by FitSNAP, compare both with each other and with the stored fit (module docstring)."""
    require_fitsnap()
    dataset = resolve_dataset(data)
    settings = read_fitsnap_input(fit_input) if fit_input else dataset.read_fit_input()
    folder = reference or dataset.reference_fit
    stored = stored_fit(folder, settings) if folder is not None else None  # its files checked before fitting
    configurations = load_configurations(data, count=configs)

    fit = fit_linear_snap(
        configurations, settings, progress=lambda items: progress_bar(items, desc="snapcheck rows", unit="config")
    )
    ours_seconds = fit.descriptor_seconds + fit.solve_seconds
    fitsnap = run_fitsnap(settings, configurations)
    lines = compare_with_run(fit, fitsnap)
    if stored is None:
        lines.append(
            not_compared("stored fit", "FitSNAP stored fit", TOLERANCES["beta"], f"{dataset.root} holds no stored fit")
        )
    else:
        subset = f"--configs {configs}" if configs is not None else ""
        lines += compare_with_stored(fit, configurations, stored, subset)
    table = pd.DataFrame(lines)
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
    n_elements = len(fit.model.parameters.elements)
    summary = [
        f"{dataset.name}: {len(configurations)} configurations, {len(fit.rows.truth)} rows,"
        f" {fit.model.n_parameters} coefficients; input {settings.path}",
        f"  columns of A: {column_note(fit.rows.matrix.shape[1], fitsnap.columns, n_elements)}",
        f"  wall time of the fit: snapcheck {ours_seconds:.2f} s, FitSNAP {FITSNAP_VERSION} {fitsnap.seconds:.2f} s"
        f" (ratio {fitsnap.seconds / ours_seconds:.2f}), one run",
        *_table_lines(table),
        f"wrote {reports}/crosscheck_fitsnap.csv, .md and crosscheck_fitsnap_time.csv",
    ]
    return Summary(tuple(summary), _verdict(table))


def _table_lines(table: pd.DataFrame) -> list[str]:
    lines = [f"  {'quantity':<18} {'against':<44} {'max |Δ|':<10} {'max |Δ|/|x|':<12} tolerance"]
    for row in table.itertuples():
        if row.status == "not compared":
            measured = f"{row.max_abs_diff:<10.2g} {row.max_rel_diff:<12.2g} " if row.size else ""
            lines.append(f"  {row.quantity:<18} {row.against:<44} {measured}not compared: {row.note}")
            continue
        mark = "ok" if row.status == "agrees" else "DISAGREES"
        lines.append(
            f"  {row.quantity:<18} {row.against:<44} {row.max_abs_diff:<10.2g} {row.max_rel_diff:<12.2g}"
            f" {row.tolerance:.0e} {row.criterion:<8} {mark}"
        )
    return lines


def _verdict(table: pd.DataFrame) -> Verdict:
    compared = table[table["status"] != "not compared"]
    skipped = table[table["status"] == "not compared"]
    aside = f"; {len(skipped)} not compared ({'; '.join(skipped['note'].unique())})" if len(skipped) else ""
    disagreeing = compared[compared["status"] == "disagrees"]
    if disagreeing.empty:
        return Verdict(True, f"all {len(compared)} quantities compared agree with FitSNAP's within tolerance{aside}")
    first = disagreeing.iloc[0]
    worst = (
        f"first: {first['quantity']} against {first['against']}, max |Δ| {first['max_abs_diff']:.2g},"
        f" max |Δ|/|x| {first['max_rel_diff']:.2g} ({first['criterion']} tolerance {first['tolerance']:.0e})"
    )
    return Verdict(False, f"{len(disagreeing)} quantities disagree; {worst}{aside}")
