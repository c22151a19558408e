"""Figures in the paper's style: relative error against ε on log-log axes.

Circles are the true error Err[∇̃L] (Eq. 11), crosses its proxy: Err[L̃] (Eq. 14) for the paper's
force loss, Err[D̃] for a training loss (D̃ the derivative of Ê along the path, estimated from
energies; :mod:`snapcheck.studies.sweep`), as ``proxy`` says; one colour per model.  In the
precision figure, emulated float32 is dashed with squares and pluses, and a note under the axes
says what is emulated.
"""

from __future__ import annotations

import functools

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402


def in_default_style(draw):
    """Draw with matplotlib's default style whatever the host process set (importing MACE sets font.size 8):
    the same table gives the same figure in any process."""

    @functools.wraps(draw)
    def drawn(*args, **kwargs):
        with plt.style.context("default"):
            return draw(*args, **kwargs)

    return drawn


MODEL_COLOURS = {"trained": "tab:blue", "untrained": "tab:red", "fitted": "tab:green"}
#: float64 and emulated float32 differ in line style and in both markers: (line, Err[∇̃L] marker, Err[L̃] marker).
PRECISION_STYLES = {"float64": ("-", "o", "x"), "float32": ("--", "s", "+")}
#: The proxy's symbol in the legend: L̃ of Eq. 14 for the paper's force loss, D̃ for a training loss.
PROXIES = {"paper": r"\tilde L", "training": r"\tilde D"}
#: What the float32 curves emulate (:func:`snapcheck.studies.sweep.float32_evaluation`), printed under the figure.
FLOAT32_NOTE = (
    "float32 emulated: Bᵢ stored as float32, ΣB and θ·∇θÊ summed in float32, r± rounded to float32;"
    " LAMMPS computes Bᵢ in float64"
)
#: What a training loss adds to the note: the strained cell is rounded too, the energy term is not emulated.
FLOAT32_TRAINING_NOTE = "; the strained cell rounded to float32; the energy term, first order, exact in float64"


def _axes(title: str):
    figure, axes = plt.subplots(figsize=(5.0, 4.0))
    axes.set_xscale("log")
    axes.set_yscale("log")
    axes.set_xlabel(r"$\epsilon$ (dimensionless; $\eta = \epsilon\,a_0/g_0$, $a_0$ = 1 Å)")
    axes.set_ylabel("relative error")
    axes.set_title(title, fontsize=10)
    axes.grid(True, which="major", alpha=0.3)
    return figure, axes


def _curves(axes, curve: pd.DataFrame, colour: str, label: str, precision: str, proxy: str) -> None:
    linestyle, grad_marker, loss_marker = PRECISION_STYLES[precision]
    axes.plot(
        curve["epsilon"],
        curve["err_grad"],
        grad_marker,
        linestyle=linestyle,
        linewidth=0.6,
        color=colour,
        markerfacecolor="none",
        label=rf"{label}: Err[$\tilde\nabla L$]",
    )
    axes.plot(
        curve["epsilon"],
        curve["err_loss"],
        loss_marker,
        linestyle="none",
        color=colour,
        label=rf"{label}: Err[${PROXIES[proxy]}$]",
    )


@in_default_style
def error_figure(table: pd.DataFrame, title: str, precision: str = "float64", proxy: str = "paper"):
    """One figure: every model's two error curves for one g₀ rule (whole dataset); ``proxy`` a key of
    :data:`PROXIES`."""
    figure, axes = _axes(title)
    whole = table[(table["group"] == "all") & (table["precision"] == precision)]
    for model, curve in whole.groupby("model", sort=False):
        _curves(axes, curve.sort_values("epsilon"), MODEL_COLOURS.get(model, "tab:purple"), model, precision, proxy)
    axes.legend(fontsize=8)
    return figure


@in_default_style
def precision_figure(table: pd.DataFrame, title: str, proxy: str = "paper"):
    """Float64 (solid, circles and crosses) beside emulated float32 (dashed, squares and pluses), every model."""
    figure, axes = _axes(title)
    whole = table[table["group"] == "all"]
    for (model, precision), curve in whole.groupby(["model", "precision"], sort=False):
        _curves(
            axes,
            curve.sort_values("epsilon"),
            MODEL_COLOURS.get(model, "tab:purple"),
            f"{model}, {precision}",
            precision,
            proxy,
        )
    axes.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.02, 1.0))
    note = FLOAT32_NOTE + (FLOAT32_TRAINING_NOTE if proxy == "training" else "")
    figure.text(0.01, 0.005, note, fontsize=6, ha="left", va="bottom", wrap=True)
    figure.subplots_adjust(bottom=0.2)
    return figure
