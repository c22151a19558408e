"""``python -m snapcheck.crosscheck``: snapcheck's results against another code's, run side by side.

fitsnap: compare snapcheck's linear fit with FitSNAP's.  Fits the dataset
(--data: any registered dataset, a folder or an extxyz file; --configs N of its
configurations, stratified by group) with the weights of a FitSNAP input
(--fit-input, by default the dataset's own) twice, by snapcheck and by FitSNAP
3.1.0.4 itself, in the same process, on the same LAMMPS and the same
configurations, and compares row by row the descriptor matrix A (energy, force
and stress rows), the targets b and the weights w, then the coefficients β and
the metrics; then compares snapcheck's fit with FitSNAP's stored fit
(--reference, by default the dataset's; not on a subset, which the stored fit
is not a fit of).  Prints a table of agreements with the wall time of both
fits, writes it to reports/crosscheck_fitsnap.csv and .md (the wall times, one
run, to reports/crosscheck_fitsnap_time.csv); what cannot be compared is a line
of its own with the reason.  Exit 1 on any disagreement, 2 when FitSNAP cannot
run here (not installed, or LAMMPS too new).  What is compared and how:
snapcheck.studies.fitsnap_compare.
"""

from __future__ import annotations

from pathlib import Path

from snapcheck.runtime import cli
from snapcheck.runtime.cli import run
from snapcheck.studies.fitsnap_report import crosscheck_fitsnap


def parser():
    parser = cli.command_parser("crosscheck", __doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    fitsnap = cli.add_subcommand(
        commands, "fitsnap", __doc__, cli.add_data, cli.add_out_dir, cli.add_fit_input, cli.configs_flag(None)
    )
    fitsnap.add_argument(
        "--reference", type=Path, default=None, metavar="DIR", help="FitSNAP's stored fit (default: the dataset's)"
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    summary = crosscheck_fitsnap(
        data=args.data, fit_input=args.fit_input, reference=args.reference, out_dir=args.out_dir, configs=args.configs
    )
    return cli.report(summary)


if __name__ == "__main__":
    run(main)
