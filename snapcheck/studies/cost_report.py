"""The cost benchmark as ``bench cost`` runs it: study, table and figure, the ratios printed, the accuracy verdict.

The ratios are the benchmark and hold no goal (the paper's targets, about 3×
the time and half the memory of double backpropagation, are reported beside
them, not checked).  What is checked is that every method computed the right
gradient: the paper's estimate within :data:`PAPER_TOLERANCE` and double
backpropagation within :data:`DOUBLE_BACKPROP_TOLERANCE` of the exact product
(relative error, Eq. 11), which decides the verdict.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from snapcheck.base.files import write_csv
from snapcheck.base.report import Summary, Verdict
from snapcheck.studies.cost import LINEAR, NEURAL, CostSpec, run_cost_study
from snapcheck.studies.cost_figure import write_cost_figure
from snapcheck.studies.cost_harness import torch_available
from snapcheck.studies.cost_methods import DOUBLE_BACKPROP, PAPER, TORCH_FORCES

#: The largest relative error against the exact product: Eq. 7 at ε = 1e-5 (Eq. 11), and round-off.
PAPER_TOLERANCE, DOUBLE_BACKPROP_TOLERANCE = 1e-5, 1e-8


def bench_cost(
    *,
    cells: tuple[int, ...],
    widths: tuple[int, ...],
    n_width: int,
    p_cells: int,
    repeats: int,
    seed: int,
    out_dir: Path,
) -> Summary:
    """Run the study on the grid of :class:`~snapcheck.studies.cost.CostSpec` (PyTorch's methods when torch is
    installed); write ``reports/cost.csv`` and ``figures/cost_scaling.png``."""
    spec = CostSpec(cells, widths, n_width, p_cells, repeats, seed)
    with_torch = torch_available()
    table = run_cost_study(spec, with_torch)
    write_csv(table, out_dir / "reports" / "cost.csv")
    write_cost_figure(table, spec, out_dir / "figures" / "cost_scaling.png")
    missing = (
        [
            "PyTorch is not installed: double backpropagation is not measured "
            "(pip install -e '.[torch]', the CPU wheel torch==2.13.0)"
        ]
        if not with_torch
        else []
    )
    return Summary((*missing, *cost_lines(table, spec, with_torch)), accuracy_verdict(table))


def cost_lines(table: pd.DataFrame, spec: CostSpec, with_torch: bool) -> list[str]:
    """The ratios over a force prediction: full (the headline), network only, memory; the linear model's."""
    neural, linear = table[table["model"] == NEURAL], table[table["model"] == LINEAR]

    def ratios(column: str) -> str:
        return (
            neural.pivot_table(index=["n_atoms", "n_parameters"], columns="method", values=column).round(2).to_string()
        )

    lines = [
        "cost over a force prediction, LAMMPS descriptor evaluations included"
        f" (the headline; median of {spec.repeats}, 1 thread):",
        ratios("full_time_ratio"),
        "network arithmetic only (descriptors precomputed):",
        ratios("time_ratio"),
        "peak memory over a force prediction:",
        ratios("memory_ratio"),
    ]
    if with_torch:
        width = f"{spec.n_width}x{spec.n_width}"
        largest = neural[(neural["n_atoms"] == neural["n_atoms"].max()) & (neural["widths"] == width)].set_index(
            "method"
        )
        time_ratio = largest.loc[PAPER, "time_s"] / largest.loc[DOUBLE_BACKPROP, "time_s"]
        memory = largest.loc[PAPER, "peak_memory_mb"] / largest.loc[DOUBLE_BACKPROP, "peak_memory_mb"]
        lines.append(
            f"paper gradient / double backprop at N = {largest['n_atoms'].iloc[0]}: time {time_ratio:.2f}x,"
            f" peak memory {memory:.2f}x"
        )
        in_torch = (
            largest.loc[DOUBLE_BACKPROP, ["time_s", "peak_memory_mb"]]
            / largest.loc[TORCH_FORCES, ["time_s", "peak_memory_mb"]]
        )
        lines.append(
            f"double backprop / torch force prediction there: time {in_torch['time_s']:.2f}x,"
            f" peak memory {in_torch['peak_memory_mb']:.2f}x"
        )
    paper = linear[linear["method"] == PAPER][["n_atoms", "time_ratio"]].itertuples(index=False)
    lines.append(
        "linear SNAP, LAMMPS evaluations timed, (full + 2 fast) / full: "
        + ", ".join(f"N = {n}: {r:.2f}x" for n, r in paper)
    )
    return lines


def accuracy_verdict(table: pd.DataFrame) -> Verdict:
    """Every gradient against the exact product: the largest relative error of each method, against its tolerance."""
    worst = table.groupby("method")["relative_error_vs_exact"].max().dropna()
    tolerances = {PAPER: PAPER_TOLERANCE, DOUBLE_BACKPROP: DOUBLE_BACKPROP_TOLERANCE}
    checked = {method: (worst[method], tolerances[method]) for method in tolerances if method in worst}
    passed = all(error <= tolerance for error, tolerance in checked.values())
    reason = "largest relative error against the exact gradient: " + ", ".join(
        f"{method} {error:.1e} {'≤' if error <= tolerance else '>'} {tolerance:g}"
        for method, (error, tolerance) in checked.items()
    )
    return Verdict(passed, reason)
