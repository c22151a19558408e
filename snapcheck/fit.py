"""``python -m snapcheck.fit``: fit a linear SNAP model to the dataset, as FitSNAP does.

Builds FitSNAP's energy, force and stress rows from LAMMPS compute snap,
weights them by group as the FitSNAP input file says (--fit-input, by default
the dataset's own), solves by SVD least squares and prints FitSNAP's metrics:
per group and row type, the count, MAE, RMSE and R², unweighted (eV/atom, eV/Å,
bar) and weighted (snapcheck.models.linear_fit).

Writes reports/fit_metrics.csv and reports/fit_metrics.md (the metrics), and
reports/fitted.snapcoeff with reports/fitted.snapparam (the model, readable by
LAMMPS pair_style snap and by --model FILE.snapcoeff of the other commands;
--model fitted refits instead).  The fit is deterministic and serial.
"""

from __future__ import annotations

from snapcheck.runtime import cli
from snapcheck.runtime.cli import run
from snapcheck.studies.fit_report import fit_dataset


def parser():
    return cli.command_parser("fit", __doc__, cli.add_data, cli.add_out_dir, cli.add_fit_input)


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    return cli.report(fit_dataset(data=args.data, fit_input=args.fit_input, out_dir=args.out_dir))


if __name__ == "__main__":
    run(main)
