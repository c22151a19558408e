"""``python -m snapcheck.fig1``: the paper's Fig. 1, with g₀ = maxᵢ|gᵢ| (Eq. 10).

Relative errors Err[∇̃L] (Eq. 11) and Err[L̃] (Eq. 14) of the central
difference (Eq. 7) against ε, for the trained (Ta06A) and untrained (Kaiming)
linear SNAP models on the Ta dataset.  Writes ``reports/fig1.csv``,
``reports/fig1_groups.csv``, ``figures/fig1.png`` and ``figures/fig1.pdf``
(:mod:`snapcheck.studies.epsilon_study`).
"""

from __future__ import annotations

from snapcheck.base.errors import EXIT_OK
from snapcheck.data.datasets import load_configurations
from snapcheck.models.registry import ModelRequest, load_model
from snapcheck.runtime.cli import execution_options, figures_parser, run
from snapcheck.runtime.executors import prestart
from snapcheck.studies.epsilon_study import FIG1, FigureSpec, run_figures


def make_figures(args, figures: list[FigureSpec], command: str) -> int:
    """What ``fig1``, ``fig2`` and ``figures`` do once their flags are parsed."""
    prestart(args.jobs, args.scheduler)  # the workers start while the data and models load
    configurations = load_configurations(args.data, count=args.configs)
    request = ModelRequest(seed=args.seed, data=args.data, fit_input=args.fit_input)
    models = [load_model(name, request) for name in args.models]
    precisions = ("float64", "float32") if args.precision == "float32" else ("float64",)
    for line in run_figures(
        configurations,
        models,
        figures,
        epsilons=args.epsilons,
        precisions=precisions,
        out_dir=args.out_dir,
        execution=execution_options(args, command),
    ):
        print(line)
    return EXIT_OK


def main(argv: list[str] | None = None) -> int:
    args = figures_parser("python -m snapcheck.fig1", __doc__, fixed_g0=False).parse_args(argv)
    return make_figures(args, [FIG1], "fig1")


if __name__ == "__main__":
    run(main)
