"""``python -m snapcheck.oracle``: golden reference files for trainers, and comparing against them.

export: write a golden reference file.  The exact answers of a linear SNAP
model (--model trained, untrained with --seed, fitted with --fit-input, or
FILE.snapcoeff) on the dataset, to --out FILE.npz, readable by numpy alone:
f̂, g, L, ∇θL = A_fᵀg, ΣB, A_f, the pressure P̂ in bar and, when the data has a
FitSNAP input, every term of its training loss with its exact gradient
(docs/oracle.md).

compare REFERENCE CANDIDATE: compare a trainer's candidate with a reference.
The candidate .npz holds names, loss, gradient and loss_terms (without it, the
paper's force loss); --loss must name the same loss (else exit 2).  Prints
Err[∇θL] and Err[L] overall (Eqs. 11, 14), by term and group, the worst
configurations and the likely bug; writes reports/oracle_compare.csv; exit 1
when an error exceeds --rtol or the candidate holds NaN or inf.
"""

from __future__ import annotations

from pathlib import Path

from snapcheck.runtime import cli
from snapcheck.runtime.cli import run
from snapcheck.runtime.flag_types import positive_float
from snapcheck.studies.golden_report import compare_golden, export_golden


def parser():
    parser = cli.command_parser("oracle", __doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    flags = (cli.add_data, cli.add_out_dir, cli.add_seed, cli.add_execution, cli.model_flags("trained"))
    exporter = cli.add_subcommand(commands, "export", __doc__, *flags, cli.configs_flag(None))
    exporter.add_argument("--out", type=Path, required=True, metavar="FILE.npz", help="the reference file to write")
    stored = cli.loss_flag("dataset", weights="the weights the reference file stores")
    comparer = cli.add_subcommand(commands, "compare", __doc__, cli.add_out_dir, stored)
    comparer.add_argument("reference", type=Path, help="the reference .npz of oracle export")
    comparer.add_argument("candidate", type=Path, help="the trainer's .npz: names, loss, gradient, loss_terms")
    comparer.add_argument("--rtol", type=positive_float, default=1e-6, help="largest error (default: %(default)g)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.command == "compare":
        return cli.report(
            compare_golden(args.reference, args.candidate, loss=args.loss, rtol=args.rtol, out_dir=args.out_dir)
        )
    return cli.report(
        export_golden(
            data=args.data,
            model=args.model,
            seed=args.seed,
            fit_input=args.fit_input,
            snapparam=args.snapparam,
            configs=args.configs,
            out=args.out,
            execution=cli.execution_options(args, "oracle_export"),
        )
    )


if __name__ == "__main__":
    run(main)
