"""The cost benchmark's figure: time and peak memory over a force prediction, against N and against P."""

from __future__ import annotations

from pathlib import Path

import matplotlib
import pandas as pd

from snapcheck.base.files import save_figure
from snapcheck.studies.cost import LINEAR, NEURAL, CostSpec
from snapcheck.studies.cost_methods import DOUBLE_BACKPROP, EXACT, PAPER, TORCH_FORCES
from snapcheck.studies.plots import in_default_style

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import FormatStrFormatter  # noqa: E402

METHOD_STYLES = {
    PAPER: ("tab:blue", "o"),
    EXACT: ("tab:green", "s"),
    DOUBLE_BACKPROP: ("tab:red", "^"),
    TORCH_FORCES: ("tab:orange", "v"),
}


@in_default_style
def cost_figure(table: pd.DataFrame, spec: CostSpec):
    """Time (top) and peak memory (bottom) over the force prediction, against N (left) and P (right), log axes."""
    figure, axes = plt.subplots(2, 2, figsize=(10.0, 7.5), sharey="row")
    neural = table[table["model"] == NEURAL]
    n_width = f"{spec.n_width}x{spec.n_width}"
    p_atoms = 2 * spec.p_cells**3
    sweeps = [
        (
            neural[neural["widths"] == n_width],
            "n_atoms",
            f"atoms N (network {n_width}, P = {spec.n_width**2 + 33 * spec.n_width + 1})",
        ),
        (neural[neural["n_atoms"] == p_atoms], "n_parameters", f"parameters P (N = {p_atoms} atoms)"),
    ]
    for column, (rows, x, label) in enumerate(sweeps):
        for row, (quantity, name) in enumerate((("time_ratio", "time"), ("memory_ratio", "peak memory"))):
            ax = axes[row, column]
            for method, (colour, marker) in METHOD_STYLES.items():
                curve = rows[rows["method"] == method].sort_values(x)
                if len(curve):
                    suffix = ", network only" if row == 0 else ""
                    ax.plot(curve[x], curve[quantity], marker=marker, color=colour, label=f"{method}{suffix}")
                    if row == 0 and method == PAPER and curve["full_time_ratio"].notna().any():
                        ax.plot(
                            curve[x],
                            curve["full_time_ratio"],
                            marker=marker,
                            color=colour,
                            linewidth=2.0,
                            markerfacecolor=colour,
                            label=f"{method}, LAMMPS descriptors included (headline)",
                        )
            if row == 0 and x == "n_atoms":
                linear = table[(table["model"] == LINEAR) & (table["method"] == PAPER)].sort_values("n_atoms")
                ax.plot(
                    linear["n_atoms"],
                    linear["time_ratio"],
                    "--",
                    marker="x",
                    color="tab:gray",
                    label="paper gradient, linear SNAP (LAMMPS timed)",
                )
            if row == 0:
                ax.axhline(3.0, color="black", linewidth=0.8, linestyle=":", label="paper's claim, 3x")
            ax.set_xscale("log")
            ax.set_yscale("log")
            ax.yaxis.set_major_formatter(FormatStrFormatter("%g"))
            ax.yaxis.set_minor_formatter(FormatStrFormatter("%g"))
            ax.set_xlabel(label)
            ax.set_ylabel(f"{name} / force prediction")
            ax.grid(True, which="both", alpha=0.3)
    axes[0, 0].legend(fontsize=7)
    axes[1, 0].legend(fontsize=7)
    figure.suptitle(
        "Cost of the force-loss gradient over a force prediction "
        "(neural network on SNAP descriptors, float64, 1 thread)",
        fontsize=10,
    )
    figure.tight_layout()
    return figure


def write_cost_figure(table: pd.DataFrame, spec: CostSpec, path: str | Path) -> Path:
    """:func:`cost_figure`, saved atomically and closed."""
    figure = cost_figure(table, spec)
    try:
        return save_figure(figure, path)
    finally:
        plt.close(figure)
