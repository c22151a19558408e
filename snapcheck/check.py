"""``python -m snapcheck.check``: a CI regression check of the paper's force-loss gradient.

Estimates ∇θL by the paper's central difference (Eq. 7, η = ε·a₀/g₀ with
g₀ = maxᵢ|gᵢ|) for a linear SNAP model on a subset of the dataset, compares it
with the exact gradient A_fᵀg, and prints Err[∇̃L] (Eq. 11) and the proxy
Err[L̃] (Eq. 14), for the whole subset and per group.  --epsilon auto selects
ε by the proxy (the paper's Sec. III C) from one sweep over the default grid.

The verdict: by default Err[∇̃L] of the whole subset must be at most
--max-error (the paper's measure; groups near equilibrium have gradients 10⁷
to 10¹⁰ times smaller, resolved to only a few digits in float64, so their own
errors would fail a correct model).  Groups above the bound are marked and
named; --verdict-on worst-group makes the worst group decide.  Configurations
with round-off force errors (perfect crystals) are listed apart and left out
(snapcheck.studies.gradient_check).

Exit 0 passed, 1 failed, 2 bad usage or bad data, 3 internal error.  Writes
reports/check.csv (the chosen ε only) and the run log reports/check_run.json.
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
