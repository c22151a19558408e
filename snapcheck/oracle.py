"""``python -m snapcheck.oracle``: golden reference files for trainers, and comparing against them.

export: write a golden reference file.  Evaluates a linear SNAP model (--model
trained, untrained with --seed, fitted with --fit-input, or FILE.snapcoeff) on
the dataset and writes its exact answers (f̂, g, L, ∇θL = A_fᵀg, ΣB, A_f and the
virial pressure P̂ in bar, with positions, cells, DFT forces and stresses) to
--out FILE.npz, readable by numpy alone; when the data has a FitSNAP input (the
dataset's, or --fit-input), also each term of its training loss (energy,
forces, stress, under its weights) with its exact gradient, and the whole loss
(the format: snapcheck.studies.golden).

compare REFERENCE CANDIDATE: compare a candidate with a reference file.  The
candidate holds a trainer's per-configuration L and ∇θL (an .npz with names,
loss, gradient, and loss_terms naming their loss: "energy,forces,stress" for
the training loss over those terms, or "forces", the paper's force loss, which
a candidate without loss_terms is).  --loss names the loss compared and must
match loss_terms (else exit 2): dataset, the default, is the reference's
training loss, or the paper's force loss for a reference without one; the
exact gradient of any terms is the sum of the reference's per-term arrays,
under the weights it was exported with.  Prints the errors overall (Eqs. 11
and 14), each term's and each group's share, the worst configurations by
their own relative error and the likely bug (for a training loss, the term
off by a sign or factor); writes reports/oracle_compare.csv; exit 1 when
either error exceeds --rtol or the candidate holds NaN or inf.
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
    exporter = cli.add_subcommand(
        commands,
        "export",
        __doc__,
        cli.add_data,
        cli.add_out_dir,
        cli.add_seed,
        cli.add_execution,
        cli.model_flags("trained"),
        cli.configs_flag(None),
    )
    exporter.add_argument("--out", type=Path, required=True, metavar="FILE.npz", help="the reference file to write")
    comparer = cli.add_subcommand(commands, "compare", __doc__, cli.add_out_dir, cli.loss_flag("dataset"))
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
