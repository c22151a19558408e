"""``python -m snapcheck.crosscheck fitsnap``: snapcheck's linear fit against FitSNAP's.

Fits the dataset (``--data``) with the weights of a FitSNAP input (``--fit-input``,
by default the dataset's ``Ta-example.in``) twice, by snapcheck and by FitSNAP
3.1.0.4 itself in the same process and on the same LAMMPS, and compares the
descriptor matrix A, the targets b, the weights w, the coefficients β and the
metrics; then compares snapcheck's fit with FitSNAP's stored reference fit
(``--reference``, by default the dataset's ``fitsnap_20May21_Standard/``).  See
:mod:`snapcheck.studies.fitsnap_crosscheck` for what is compared and how.

Prints a table of agreements with the wall time of both fits, writes it to
``reports/crosscheck_fitsnap.csv`` and ``.md`` (the wall times, one run, to
``reports/crosscheck_fitsnap_time.csv``), and exits 1 on any
disagreement, 2 when FitSNAP cannot run here (not installed, or LAMMPS too new).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from snapcheck.base.errors import EXIT_CHECK_FAILED, EXIT_OK
from snapcheck.base.files import write_csv, write_markdown
from snapcheck.base.progress import progress_bar
from snapcheck.data.datasets import FIT_INPUT, REFERENCE_FIT, dataset_file, load_configurations, resolve_dataset_root
from snapcheck.data.fitsnap_input import read_fitsnap_input
from snapcheck.models.linear_fit import fit_linear_snap
from snapcheck.runtime.cli import Parser, add_fit_input_argument, common_parser, run
from snapcheck.studies.fitsnap_crosscheck import (
    FITSNAP_VERSION,
    compare_with_run,
    compare_with_stored,
    require_fitsnap,
    run_fitsnap,
)


def fitsnap_command(args: argparse.Namespace) -> int:
    require_fitsnap()
    data_root = resolve_dataset_root(args.data)
    fit_input = read_fitsnap_input(args.fit_input or dataset_file(args.data, FIT_INPUT))
    reference = args.reference or dataset_file(args.data, REFERENCE_FIT)
    configurations = load_configurations(args.data)

    fit = fit_linear_snap(
        configurations, fit_input, progress=lambda items: progress_bar(items, desc="snapcheck rows", unit="config")
    )
    ours_seconds = fit.descriptor_seconds + fit.solve_seconds
    fitsnap = run_fitsnap(fit_input, data_root)
    table = pd.DataFrame(compare_with_run(fit, fitsnap) + compare_with_stored(fit, configurations, reference))
    reports = args.out_dir / "reports"
    write_csv(table, reports / "crosscheck_fitsnap.csv")
    write_markdown(table, reports / "crosscheck_fitsnap.md")
    timing = pd.DataFrame(
        [
            {"fit": "snapcheck", "seconds": ours_seconds, "descriptor_seconds": fit.descriptor_seconds},
            {"fit": f"FitSNAP {FITSNAP_VERSION}", "seconds": fitsnap.seconds, "descriptor_seconds": float("nan")},
        ]
    )
    write_csv(timing, reports / "crosscheck_fitsnap_time.csv")

    print(
        f"{len(configurations)} configurations, {len(fit.rows.truth)} rows, {fit.model.n_parameters} coefficients; input {fit_input.path}"
    )
    print(
        f"  wall time of the fit: snapcheck {ours_seconds:.2f} s, FitSNAP {FITSNAP_VERSION} {fitsnap.seconds:.2f} s (ratio {fitsnap.seconds / ours_seconds:.2f}), one run"
    )
    print(f"  {'quantity':<22} {'against':<46} {'max |Δ|':<10} {'max |Δ|/|x|':<12} tolerance")
    for row in table.itertuples():
        mark = "ok" if row.agrees else "DISAGREES"
        print(
            f"  {row.quantity:<22} {row.against:<46} {row.max_abs_diff:<10.2g} {row.max_rel_diff:<12.2g} {row.tolerance:.0e} {row.criterion:<8} {mark}"
        )
    print(f"wrote {reports}/crosscheck_fitsnap.csv, .md and crosscheck_fitsnap_time.csv")
    if table["agrees"].all():
        print("PASS: snapcheck's fit agrees with FitSNAP's")
        return EXIT_OK
    print(f"FAIL: {int((~table['agrees']).sum())} quantities disagree")
    return EXIT_CHECK_FAILED


def main(argv: list[str] | None = None) -> int:
    parser = Parser(
        prog="python -m snapcheck.crosscheck", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True)
    fitsnap = common_parser("python -m snapcheck.crosscheck fitsnap", "Compare snapcheck's linear fit with FitSNAP's.")
    add_fit_input_argument(fitsnap)
    fitsnap.add_argument(
        "--reference",
        type=Path,
        default=None,
        metavar="DIR",
        help=f"FitSNAP's stored reference fit (default: the dataset's {REFERENCE_FIT}/)",
    )
    commands.add_parser(
        "fitsnap", parents=[fitsnap], add_help=False, help="compare snapcheck's linear fit with FitSNAP's"
    )
    args = parser.parse_args(argv)
    return fitsnap_command(args)


if __name__ == "__main__":
    run(main)
