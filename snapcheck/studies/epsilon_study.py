"""The commands behind Figs. 1 and 2: load, sweep, write, summarise.

``fig1`` uses g₀ = max_i |g_i| (Eq. 10), ``fig2`` a fixed g₀ (1 eV/Å by
default), ``figures`` both from one sweep (the exact quantities of each
configuration are computed once and serve every ε, g₀ rule and precision).
Models (``--models``): ``trained`` is Ta06A, ``untrained`` a Kaiming draw from
``--seed``, ``fitted`` snapcheck's FitSNAP-style fit to the dataset with the
weights of ``--fit-input`` (:mod:`snapcheck.models.linear_fit`).

Outputs under ``--out-dir``: ``reports/<fig>.csv`` (whole dataset),
``reports/<fig>_groups.csv`` (the same per group), ``figures/<fig>.png`` and
``.pdf``, and ``figures/fig1_precision.png`` when float32 is asked for.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass

import matplotlib.pyplot as plt
import pandas as pd

from snapcheck.cli import add_fit_input, common_parser, epsilon_grid, fitted_model, positive_float, positive_int, spread
from snapcheck.data.datasets import load_configurations
from snapcheck.executors import execution_options
from snapcheck.io import save_figure, write_csv
from snapcheck.models.linear_snap import LinearSnap
from snapcheck.studies.plots import error_figure, precision_figure
from snapcheck.studies.sweep import DEFAULT_EPSILONS, SweepSpec, best_epsilons, error_table, run_sweep


@dataclass(frozen=True)
class FigureSpec:
    name: str  # fig1 or fig2
    g0_rule: str | float
    title: str


def parser(prog: str, description: str, fixed_g0: bool) -> argparse.ArgumentParser:
    parser = common_parser(prog, description)
    parser.add_argument("--epsilons", type=epsilon_grid, default=DEFAULT_EPSILONS, metavar="GRID", help="START:STOP:COUNT (log-spaced) or a comma list (default: 1e-12:1e-1:23)")
    parser.add_argument("--precision", choices=("float64", "float32"), default="float64", help="float32 adds an emulated single-precision sweep and figures/fig1_precision.png")
    parser.add_argument("--configs", type=positive_int, default=None, metavar="N", help="use N configurations spread over the dataset (default: all)")
    parser.add_argument("--models", type=model_names, default=("trained", "untrained"), metavar="NAMES", help="comma-separated, from trained, untrained, fitted (default: trained,untrained)")
    add_fit_input(parser)
    if fixed_g0:
        parser.add_argument("--g0", type=positive_float, default=1.0, metavar="EV_PER_A", help="the fixed g₀ of Fig. 2, in eV/Å (default: 1)")
    return parser


MODEL_NAMES = ("trained", "untrained", "fitted")


def model_names(text: str) -> tuple[str, ...]:
    names = tuple(name.strip() for name in text.split(","))
    unknown = [name for name in names if name not in MODEL_NAMES]
    if unknown or not names:
        raise argparse.ArgumentTypeError(f"unknown model(s) {unknown}; choose from {', '.join(MODEL_NAMES)}")
    return names


def paper_models(seed: int) -> tuple[LinearSnap, LinearSnap]:
    """The paper's two models: trained (Ta06A) and untrained (Kaiming, from ``seed``)."""
    trained = LinearSnap.ta06a()
    return trained, LinearSnap.kaiming(trained.parameters, seed)


def models(args: argparse.Namespace) -> tuple[LinearSnap, ...]:
    """The models of ``--models``, in the order given."""
    trained, untrained = paper_models(args.seed)
    build = {"trained": lambda: trained, "untrained": lambda: untrained, "fitted": lambda: fitted_model(args.data, args.fit_input)[0]}
    return tuple(build[name]() for name in args.models)


def run_study(args: argparse.Namespace, figures: list[FigureSpec]) -> pd.DataFrame:
    """Sweep once for all ``figures``, write every output, print the summary."""
    configurations = spread(load_configurations(args.data), args.configs)
    precisions = ("float64", "float32") if args.precision == "float32" else ("float64",)
    spec = SweepSpec(models=models(args), epsilons=tuple(args.epsilons), g0_rules=tuple(f.g0_rule for f in figures), precisions=precisions)
    results = run_sweep(configurations, spec, **execution_options(args, figures[0].name if len(figures) == 1 else "figures"))
    table = error_table(configurations, results, spec)
    reports, figures_dir = args.out_dir / "reports", args.out_dir / "figures"
    described = {"trained": "trained (Ta06A)", "untrained": f"untrained (Kaiming, seed {args.seed})", "fitted": "fitted (snapcheck's FitSNAP-style fit)"}
    print(f"{len(configurations)} configurations, {len(spec.epsilons)} values of ε, models: {', '.join(described[name] for name in args.models)}")
    for figure_spec in figures:
        mode = "max" if figure_spec.g0_rule == "max" else "fixed"
        part = table[table["g0_mode"] == mode]
        write_csv(part[part["group"] == "all"].drop(columns="group"), reports / f"{figure_spec.name}.csv")
        write_csv(part[part["group"] != "all"], reports / f"{figure_spec.name}_groups.csv")
        figure = error_figure(part, figure_spec.title)
        for suffix in (".png", ".pdf"):
            save_figure(figure, figures_dir / f"{figure_spec.name}{suffix}")
        plt.close(figure)
        if "float32" in precisions and figure_spec.g0_rule == "max":
            figure = precision_figure(part, "Fig. 1 in float64 and emulated float32")
            save_figure(figure, figures_dir / "fig1_precision.png")
            plt.close(figure)
        print_summary(figure_spec, best_epsilons(part))
    print(f"wrote {reports}/ and {figures_dir}/")
    return table


def print_summary(figure_spec: FigureSpec, best: pd.DataFrame) -> None:
    print(f"{figure_spec.name}: {figure_spec.title}")
    for row in best.itertuples():
        print(
            f"  {row.model:<9} {row.precision}: best ε {row.best_epsilon_grad:.3g} with Err[∇̃L] = {row.min_err_grad:.3g};"
            f" proxy Err[L̃] is smallest, {row.min_err_loss:.3g}, at ε {row.best_epsilon_loss:.3g}"
        )
