"""Figs. 1 and 2 and the precision study: one sweep, every table, every figure.

Fig. 1 uses g₀ = maxᵢ|gᵢ| (Eq. 10), Fig. 2 a fixed g₀ (1 eV/Å by default).
:func:`run_figures` sweeps once for every figure asked for (the exact
quantities of each configuration are computed once and serve every ε, g₀ rule
and precision, :mod:`snapcheck.studies.sweep`), then writes under ``out_dir``:

* ``reports/<fig>.csv``: the whole dataset, one row per model, precision and ε
  (``err_grad`` Eq. 11, ``err_loss`` Eq. 14, ``grad_norm`` in eV/Å²);
* ``reports/<fig>_groups.csv``: the same per group;
* ``reports/<fig>_epsilon_rules.csv``: how close each ε rule's choice comes to the true optimum, on
  the whole set and on random subsets (:mod:`snapcheck.studies.epsilon_rules`);
* ``figures/<fig>.png`` and ``.pdf``;
* ``figures/fig1_precision.png`` and ``.pdf`` when float32 is among the precisions.

It returns the summary a command prints: the best ε of every model.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from snapcheck.base.files import save_figure, write_csv
from snapcheck.data.configuration import Configuration
from snapcheck.models.registry import NamedModel
from snapcheck.studies.epsilon_rules import rule_table
from snapcheck.studies.sweep import SweepSpec, best_epsilons, error_table, run_sweep


@dataclass(frozen=True)
class FigureSpec:
    """One of the paper's figures: its file name, g₀ rule (``max`` or eV/Å) and title."""

    name: str
    g0_rule: str | float
    title: str


FIG1 = FigureSpec("fig1", "max", "Fig. 1: η = ε·a₀/g₀ with g₀ = maxᵢ|gᵢ|")


def fig2_spec(g0: float) -> FigureSpec:
    return FigureSpec("fig2", g0, f"Fig. 2: η = ε·a₀/g₀ with g₀ fixed at {g0:g} eV/Å")


def run_figures(
    configurations: list[Configuration],
    models: list[NamedModel],
    figures: list[FigureSpec],
    *,
    epsilons: tuple[float, ...],
    precisions: tuple[str, ...],
    out_dir: Path,
    execution: dict,
) -> list[str]:
    """Sweep once for all ``figures``, write every output (module docstring), return the summary lines.

    ``execution`` holds the keyword arguments of
    :func:`snapcheck.runtime.executors.run_chunks` (``jobs``, ``scheduler``,
    ``partials``, ``run_log``, ``progress``).
    """
    import matplotlib.pyplot as plt

    from snapcheck.studies.plots import error_figure, precision_figure

    spec = SweepSpec(
        models=tuple(named.model for named in models),
        epsilons=tuple(epsilons),
        g0_rules=tuple(f.g0_rule for f in figures),
        precisions=precisions,
    )
    results = run_sweep(configurations, spec, **execution)
    table = error_table(configurations, results, spec)
    rules = rule_table(results, spec)
    reports, figures_dir = out_dir / "reports", out_dir / "figures"
    lines = [
        f"{len(configurations)} configurations, {len(spec.epsilons)} values of ε, models: {', '.join(named.description for named in models)}"
    ]
    for figure_spec in figures:
        mode = "max" if figure_spec.g0_rule == "max" else "fixed"
        part = table[table["g0_mode"] == mode]
        write_csv(part[part["group"] == "all"].drop(columns="group"), reports / f"{figure_spec.name}.csv")
        write_csv(part[part["group"] != "all"], reports / f"{figure_spec.name}_groups.csv")
        write_csv(rules[rules["g0_mode"] == mode], reports / f"{figure_spec.name}_epsilon_rules.csv")
        figure = error_figure(part, figure_spec.title)
        for suffix in (".png", ".pdf"):
            save_figure(figure, figures_dir / f"{figure_spec.name}{suffix}")
        plt.close(figure)
        if "float32" in precisions and figure_spec.g0_rule == "max":
            figure = precision_figure(part, "Fig. 1 in float64 and emulated float32")
            for suffix in (".png", ".pdf"):
                save_figure(figure, figures_dir / f"fig1_precision{suffix}")
            plt.close(figure)
        lines += summary_lines(figure_spec, best_epsilons(part))
    lines.append(f"wrote {reports}/ and {figures_dir}/")
    return lines


def summary_lines(figure_spec: FigureSpec, best: pd.DataFrame) -> list[str]:
    lines = [f"{figure_spec.name}: {figure_spec.title}"]
    for row in best.itertuples():
        lines.append(
            f"  {row.model:<9} {row.precision}: best ε {row.best_epsilon_grad:.3g} with Err[∇̃L] = {row.min_err_grad:.3g};"
            f" proxy Err[L̃] is smallest, {row.min_err_loss:.3g}, at ε {row.best_epsilon_loss:.3g}"
        )
    return lines
