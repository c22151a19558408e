"""Figures in the paper's style: relative error against ε on log-log axes.

Circles are the true error Err[∇̃L] (Eq. 11), crosses its proxy Err[L̃]
(Eq. 14); one colour per model.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

MODEL_COLOURS = {"trained": "tab:blue", "untrained": "tab:red", "fitted": "tab:green"}
PRECISION_STYLES = {"float64": "-", "float32": "--"}


def _axes(title: str):
    figure, axes = plt.subplots(figsize=(5.0, 4.0))
    axes.set_xscale("log")
    axes.set_yscale("log")
    axes.set_xlabel(r"$\epsilon$ (dimensionless; $\eta = \epsilon\,a_0/g_0$, $a_0$ = 1 Å)")
    axes.set_ylabel("relative error")
    axes.set_title(title, fontsize=10)
    axes.grid(True, which="major", alpha=0.3)
    return figure, axes


def _curves(axes, curve: pd.DataFrame, colour: str, label: str, linestyle: str = "-") -> None:
    axes.plot(
        curve["epsilon"],
        curve["err_grad"],
        "o",
        linestyle=linestyle,
        linewidth=0.6,
        color=colour,
        markerfacecolor="none",
        label=rf"{label}: Err[$\tilde\nabla L$]",
    )
    axes.plot(
        curve["epsilon"], curve["err_loss"], "x", linestyle="none", color=colour, label=rf"{label}: Err[$\tilde L$]"
    )


def error_figure(table: pd.DataFrame, title: str, precision: str = "float64"):
    """One figure: every model's two error curves for one g₀ rule (whole dataset)."""
    figure, axes = _axes(title)
    whole = table[(table["group"] == "all") & (table["precision"] == precision)]
    for model, curve in whole.groupby("model", sort=False):
        _curves(axes, curve.sort_values("epsilon"), MODEL_COLOURS.get(model, "tab:purple"), model)
    axes.legend(fontsize=8)
    return figure


def precision_figure(table: pd.DataFrame, title: str):
    """Float64 (solid) beside emulated float32 (dashed), every model."""
    figure, axes = _axes(title)
    whole = table[table["group"] == "all"]
    for (model, precision), curve in whole.groupby(["model", "precision"], sort=False):
        _curves(
            axes,
            curve.sort_values("epsilon"),
            MODEL_COLOURS.get(model, "tab:purple"),
            f"{model}, {precision}",
            PRECISION_STYLES[precision],
        )
    axes.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.02, 1.0))
    return figure
