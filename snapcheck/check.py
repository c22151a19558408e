"""``python -m snapcheck.check``: a CI check of the paper's gradient estimate for the dataset's training loss.

Compares the central difference (Eq. 7, η = ε·a₀/g₀) with the exact gradient of a
linear SNAP model (LAMMPS's closed forms) on a subset of the dataset and prints
Err[∇̃L] (Eq. 11) and the proxy, for the subset and per group; --epsilon auto
selects ε by the proxy (Sec. III C).  --loss dataset (default): FitSNAP's
L = ½ Σ w²(Aθ − b)² over the energy, force and stress rows the dataset's FitSNAP
input weighs (or --fit-input), dimensionless, ∇θL in 1/eV, along a strained path
(g₀ its largest speed, Å/eV), proxy Err[D̃]; --loss forces, or data without an
input: the paper's ½Σ|f̂ − f|² (eV²/Å², ∇θL = A_fᵀg in eV/Å², proxy Err[L̃]).
Verdict: the whole subset's Err[∇̃L] ≤ --max-error (groups above it are named;
--verdict-on worst-group: the worst group's) and, for a training loss, that of
its force and stress terms each swept alone (reports/check_terms.csv); round-off
∇θL is listed apart (snapcheck.studies.gradient_check).
Exit 0 passed, 1 failed, 2 bad usage or data, 3 internal error.  Writes
reports/check.csv (the chosen ε; loss names the loss) and reports/check_run.json.
"""

from __future__ import annotations

from snapcheck.runtime import cli
from snapcheck.runtime.cli import run
from snapcheck.runtime.flag_types import positive_float, positive_float_or
from snapcheck.studies.gradient_check import DEFAULT_MAX_ERROR, VERDICT_RULES, check_paper_gradient


def parser():
    flags = (
        cli.add_data,
        cli.add_out_dir,
        cli.add_seed,
        cli.add_execution,
        cli.model_flags("trained"),
        cli.configs_flag(24),
        cli.loss_flag("dataset"),
    )
    parser = cli.command_parser("check", __doc__, *flags)
    parser.add_argument(
        "--epsilon",
        type=positive_float_or("auto"),
        default="auto",
        help="ε of Eq. 9, or auto: selected by the proxy (default)",
    )
    parser.add_argument(
        "--max-error",
        type=positive_float,
        default=DEFAULT_MAX_ERROR,
        help="largest acceptable Err[∇̃L] (default: %(default)g)",
    )
    parser.add_argument(
        "--verdict-on",
        choices=VERDICT_RULES,
        default=VERDICT_RULES[0],
        help="the error that decides (default: %(default)s)",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    return cli.report(
        check_paper_gradient(
            data=args.data,
            model=args.model,
            seed=args.seed,
            fit_input=args.fit_input,
            snapparam=args.snapparam,
            loss=args.loss,
            epsilon=args.epsilon,
            max_error=args.max_error,
            verdict_on=args.verdict_on,
            configs=args.configs,
            out_dir=args.out_dir,
            execution=cli.execution_options(args, "check"),
        )
    )


if __name__ == "__main__":
    run(main)
