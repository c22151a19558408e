"""``python -m snapcheck.crosscheck``: snapcheck's results against another code's, run side by side.

fitsnap: compare snapcheck's linear fit with FitSNAP's.  Fits the dataset
(--data) with the weights of a FitSNAP input (--fit-input, by default the
dataset's own) twice, by snapcheck and by FitSNAP 3.1.0.4 itself in the same
process and on the same LAMMPS, and compares the descriptor matrix A, the
targets b, the weights w, the coefficients β and the metrics; then compares
snapcheck's fit with FitSNAP's stored reference fit (--reference, by default
the dataset's).  Prints a table of agreements with the wall time of both fits,
writes it to reports/crosscheck_fitsnap.csv and .md (the wall times, one run,
to reports/crosscheck_fitsnap_time.csv); exit 1 on any disagreement, 2 when
FitSNAP cannot run here (not installed, or LAMMPS too new).  What is compared
and how: snapcheck.studies.fitsnap_crosscheck.
"""

from __future__ import annotations

from pathlib import Path

from snapcheck.runtime import cli
from snapcheck.runtime.cli import run
from snapcheck.studies.fitsnap_report import crosscheck_fitsnap


def parser():
    parser = cli.command_parser("crosscheck", __doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    fitsnap = cli.add_subcommand(commands, "fitsnap", __doc__, cli.add_data, cli.add_out_dir, cli.add_fit_input)
    fitsnap.add_argument(
        "--reference", type=Path, default=None, metavar="DIR", help="FitSNAP's stored fit (default: the dataset's)"
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    return cli.report(
        crosscheck_fitsnap(data=args.data, fit_input=args.fit_input, reference=args.reference, out_dir=args.out_dir)
    )


if __name__ == "__main__":
    run(main)
