"""Figs. 1 and 2 and the precision study: one sweep, every table, every figure, for the paper's loss or a training loss.

Fig. 1 uses g₀ = maxᵢ|gᵢ| (Eq. 10), Fig. 2 a fixed g₀ (1 eV/Å by default).
:func:`run_figures` sweeps once for every figure asked for (the exact
quantities of each configuration are computed once and serve every ε, g₀ rule
and precision, :mod:`snapcheck.studies.sweep`), then writes under ``out_dir``:

* ``reports/<fig>.csv``: the whole dataset, one row per model, precision and ε
  (``err_grad`` Eq. 11, ``err_loss`` Eq. 14, ``grad_norm`` in eV/Å²);
* ``reports/<fig>_groups.csv``: the same per group;
* ``reports/<fig>_epsilon_rules.csv``: how close each ε rule's choice comes to the true optimum, on
  the whole set and on random subsets (:mod:`snapcheck.studies.epsilon_rules`; no rows of a model whose
  every configuration's ∇θL is round-off, which the summary names);
* ``figures/<fig>.png`` and ``.pdf``;
* ``figures/fig1_precision.png`` and ``.pdf`` when float32 is among the precisions.

**A training loss** (:class:`~snapcheck.studies.loss_choice.LossChoice`: ``--loss stress``, ``all``,
``energy,forces`` …, FitSNAP's loss under a FitSNAP input's weights) is swept the same way along the
strained path of docs/theory.md, and every output name carries its label after the figure's name, so
that it never overwrites the paper's: ``<fig>`` becomes ``<fig>_<label>`` (``reports/fig1_stress.csv``,
``reports/fig1_all_groups.csv``, ``reports/fig1_all_epsilon_rules.csv``, ``figures/fig1_all.png``,
``figures/fig1_all_precision.png``; label ``all`` for the three terms, else the terms joined by ``-``).
Then ∇θL is in 1/eV, a fixed g₀ in Å/eV (the path speed's unit; column ``g0_A_per_eV``; no step
beyond Fig. 1's largest, :data:`snapcheck.studies.sweep.LARGEST_STEP`, is taken there: NaN), and the
proxy is Err[D̃], D̃ = (Ê(η) − Ê(−η))/(2η) against D = Σᵢ gᵢ·f̂ᵢ + (∂L/∂σ̂):σ̂, not Eq. 14's L̃:
titles, legends and the summary say so.  In float32 the strained cell is rounded like the positions
and the energy term, first order, stays exact in float64.

It returns the summary a command prints: the best ε of every model.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from snapcheck.base.files import save_figure, write_csv
from snapcheck.data.configuration import Configuration
from snapcheck.models.registry import NamedModel
from snapcheck.studies.epsilon_rules import rule_table, unjudged_models
from snapcheck.studies.loss_choice import LossChoice
from snapcheck.studies.sweep import LARGEST_STEP, ROUNDOFF_FORCE_ERROR, SweepSpec, run_sweep
from snapcheck.studies.sweep_errors import best_epsilons, error_table


@dataclass(frozen=True)
class FigureSpec:
    """One of the paper's figures: its file name, g₀ rule (``max`` or a number) and title (the paper's loss)."""

    name: str
    g0_rule: str | float
    title: str

    def stem(self, loss: LossChoice) -> str:
        """The name of the figure's outputs: ``fig1`` for the paper's loss, ``fig1_<label>`` for a training loss."""
        return self.name if loss.paper else f"{self.name}_{loss.label}"

    def heading(self, loss: LossChoice) -> str:
        """The figure's title: the paper's, or for a training loss its g₀ rule and a second line naming the loss."""
        if loss.paper:
            return self.title
        g0 = "the path's largest speed" if self.g0_rule == "max" else f"fixed at {float(self.g0_rule):g} Å/eV"
        return f"{self.title.split(':')[0]}: η = ε·a₀/g₀ with g₀ {g0}\n{training_subtitle(loss)}"


FIG1 = FigureSpec("fig1", "max", "Fig. 1: η = ε·a₀/g₀ with g₀ = maxᵢ|gᵢ|")


def fig2_spec(g0: float) -> FigureSpec:
    return FigureSpec("fig2", g0, f"Fig. 2: η = ε·a₀/g₀ with g₀ fixed at {g0:g} eV/Å")


def training_subtitle(loss: LossChoice) -> str:
    """A training loss in a few words: its terms, its weights, and that the proxy is D̃."""
    assert loss.fit_input is not None
    return f"L: {', '.join(loss.terms)} ({loss.fit_input.path.name}); proxy D̃, not Eq. 14's L̃"


def run_figures(
    configurations: list[Configuration],
    models: list[NamedModel],
    figures: list[FigureSpec],
    *,
    epsilons: tuple[float, ...],
    precisions: tuple[str, ...],
    out_dir: Path,
    execution: dict,
    loss: LossChoice,
) -> list[str]:
    """Sweep once for all ``figures`` under ``loss``, write every output (module docstring), return the summary lines.

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
        loss=loss.terms,
        fit_input=loss.fit_input,
    )
    results = run_sweep(configurations, spec, **execution)
    table = error_table(configurations, results, spec)
    rules = rule_table(results, spec)
    reports, figures_dir = out_dir / "reports", out_dir / "figures"
    proxy = "paper" if loss.paper else "training"
    lines = [
        f"{len(configurations)} configurations, {len(spec.epsilons)} values of ε, models: "
        f"{', '.join(named.description for named in models)}"
    ]
    if not loss.paper:
        lines.append(
            f"loss: {loss.describe()}; L dimensionless, ∇θL in 1/eV; the proxy is D̃, the derivative of Ê along the"
            " path from energies, against D = Σ g·f̂ + (∂L/∂σ̂):σ̂, not Eq. 14's L̃"
        )
    unjudged = unjudged_models(results, spec)
    if unjudged:
        lines.append(
            f"not measurable: {', '.join(unjudged)} (every force error of every configuration below"
            f" {ROUNDOFF_FORCE_ERROR:g} eV/Å, with no strain or energy term: ∇θL is round-off); no rows in"
            " *_epsilon_rules.csv, and the errors below compare round-off with round-off"
        )
    for figure_spec in figures:
        mode = "max" if figure_spec.g0_rule == "max" else "fixed"
        part = table[table["g0_mode"] == mode]
        stem = figure_spec.stem(loss)
        write_csv(part[part["group"] == "all"].drop(columns="group"), reports / f"{stem}.csv")
        write_csv(part[part["group"] != "all"], reports / f"{stem}_groups.csv")
        write_csv(rules[rules["g0_mode"] == mode], reports / f"{stem}_epsilon_rules.csv")
        figure = error_figure(part, figure_spec.heading(loss), proxy=proxy)
        for suffix in (".png", ".pdf"):
            save_figure(figure, figures_dir / f"{stem}{suffix}")
        plt.close(figure)
        if "float32" in precisions and figure_spec.g0_rule == "max":
            title = "Fig. 1 in float64 and emulated float32"
            figure = precision_figure(part, title if loss.paper else f"{title}\n{training_subtitle(loss)}", proxy)
            for suffix in (".png", ".pdf"):
                save_figure(figure, figures_dir / f"{stem}_precision{suffix}")
            plt.close(figure)
        lines += summary_lines(stem, figure_spec.heading(loss).split("\n")[0], best_epsilons(part), loss)
    lines.append(f"wrote {reports}/ and {figures_dir}/")
    return lines


def summary_lines(stem: str, title: str, best: pd.DataFrame, loss: LossChoice) -> list[str]:
    proxy = "L̃" if loss.paper else "D̃"
    lines = [f"{stem}: {title}"]
    for row in best.itertuples():
        if pd.isna(row.min_err_grad):
            lines.append(
                f"  {row.model:<9} {row.precision}: no ε of the grid keeps every step within {LARGEST_STEP:g} Å; "
                "raise --g0"
            )
            continue
        lines.append(
            f"  {row.model:<9} {row.precision}: best ε {row.best_epsilon_grad:.3g} with Err[∇̃L] = "
            f"{row.min_err_grad:.3g};"
            f" proxy Err[{proxy}] is smallest, {row.min_err_loss:.3g}, at ε {row.best_epsilon_loss:.3g}"
        )
    return lines
