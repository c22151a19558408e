"""The cost of the force-loss gradient against the cost of a force prediction, in time and memory, as N and P grow.

The paper (Sec. II B) claims that its gradient,

    ∇θL ≈ −(∇θÊ[r₊] − ∇θÊ[r₋]) / (2η),   r± = r ± ηg,   g = f̂ − f      (Eqs. 7–10),

costs about three force predictions whatever the number of atoms N and of
parameters P (one force prediction for g, then two ∇θÊ passes, each about as
expensive as a force prediction), and that it needs about half the memory of
iterated backpropagation, which keeps the graph of the forward pass *and* of
the first backward pass alive for the second one.  This module measures both
claims for :class:`~snapcheck.models.neural_snap.NeuralSnap`, a network with
two hidden layers of width w on K = 30 Ta06A bispectrum descriptors, so
P = (K + 1)w + (w + 1)w + w + 1 = w² + 33w + 1 (w = 20 … 300: P ≈ 10³ … 10⁵).

**Systems.**  bcc Ta supercells, a = 3.316 Å, m × m × m cubic cells (N = 2m³,
16 to 2000 atoms), every coordinate displaced by a seeded N(0, σ²),
σ = 0.1 Å.  The target forces f are the trained linear model's (Ta06A, with
ZBL), standing in for DFT.

**What is timed** (model arithmetic only: every LAMMPS output is precomputed
once per system, outside the clock, and shared by all methods): the methods
(a) force prediction, (b) the paper's gradient, (c) the exact product, (d)
double backpropagation in PyTorch and (a') a force prediction in PyTorch, of
:mod:`snapcheck.studies.cost_methods`.  The LAMMPS evaluations a network needs
(Bᵢ and ∂Bᵢ/∂rⱼ at r, and B(r±) for the paper's method) are timed apart and
added for the headline ratio (:func:`add_ratios`).

Each time is the median of ``repeats`` calls after one warm-up call, the
methods interleaved round by round
(:func:`~snapcheck.studies.cost_harness.median_times`), reported also as a
ratio to (a) of the same system and network.  numpy and torch both
run on one thread (``torch.set_num_threads(1)``; numpy's BLAS by
:func:`snapcheck.runtime.executors.one_blas_thread`, which every command runs under).

**The linear SNAP model**, where the model arithmetic is
negligible and the LAMMPS evaluations are the cost, so they *are* timed: (a)
one full evaluation (``compute snap``: ΣB and its derivatives A_f) and
f̂ = A_f β; (b) the same, then two fast evaluations at r± (``compute
sna/atom``: ΣB only) and Eq. 7, so the ratio is (full + 2 fast) / full.
The untrained (Kaiming, from the seed) linear model is used, so that g ≠ 0.

**Time and peak memory** are measured by :mod:`snapcheck.studies.cost_harness`;
the memory runs are separate from the timed runs.

Every gradient is also compared with (c): the relative error of (b) is the
paper's Eq. 11 at ε = 10⁻⁵, that of (d) is round-off.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from snapcheck.base.progress import progress_bar
from snapcheck.data.configuration import Configuration
from snapcheck.data.structures import bcc_tantalum
from snapcheck.descriptors.engine import SnapEngine
from snapcheck.gradients.paper import Evaluation, LossPath, central_difference, relative_error
from snapcheck.models.linear_snap import LinearSnap
from snapcheck.studies.cost_harness import median_times, numpy_peak_bytes, torch_peak_bytes
from snapcheck.studies.cost_methods import (
    DOUBLE_BACKPROP,
    EPSILON,
    EXACT,
    FORCES,
    PAPER,
    TORCH_FORCES,
    NeuralProblem,
    neural_methods,
    neural_problem,
)

DISPLACEMENT = 0.1  # Å, standard deviation of every coordinate's random displacement
DEFAULT_CELLS = (2, 3, 4, 5, 6, 8, 10)  # m: N = 2m³ = 16 … 2000
DEFAULT_WIDTHS = (20, 64, 128, 300)  # w: P = w² + 33w + 1 ≈ 1.1e3 … 1.0e5
DEFAULT_N_WIDTH = 64  # the network of the sweep over N
DEFAULT_P_CELLS = 5  # the system of the sweep over P (N = 250)

NEURAL, LINEAR = "neural-snap", "linear-snap"
INCLUDES = {
    (NEURAL, FORCES): "numpy: forward + backward pass, f = -D^T e (descriptors precomputed)",
    (NEURAL, PAPER): "numpy: force prediction, g, 2 x grad_theta E at B(r+-) (precomputed), Eq. 7",
    (NEURAL, EXACT): "numpy: force prediction, g, u = D g, forward-over-reverse R-op",
    (NEURAL, TORCH_FORCES): "torch: autograd.grad forces without create_graph (descriptors precomputed)",
    (
        NEURAL,
        DOUBLE_BACKPROP,
    ): "torch: autograd.grad(create_graph=True) forces, loss.backward() (descriptors precomputed)",
    (LINEAR, FORCES): "LAMMPS full evaluation (compute snap) + A_f beta",
    (LINEAR, PAPER): "LAMMPS full evaluation + A_f beta, g, 2 fast evaluations (compute sna/atom) at r+-, Eq. 7",
}
MEMORY_TRACKERS = {"numpy": "tracemalloc", "torch": "torch.profiler memory events"}


def measure_neural(problem: NeuralProblem, repeats: int, with_torch: bool) -> list[dict]:
    """One row per method: median time, peak memory and the relative error against (c)."""
    methods = neural_methods(problem, with_torch)
    memory = {
        method: (torch_peak_bytes if library == "torch" else numpy_peak_bytes)(call)
        for method, (library, call) in methods.items()
    }
    times = median_times({method: call for method, (_, call) in methods.items()}, repeats)
    exact = memory[EXACT][1]
    rows = []
    for method, (library, _) in methods.items():
        seconds, (peak, result) = times[method], memory[method]
        rows.append(
            {
                "model": NEURAL,
                "n_atoms": problem.descriptors.descriptors.shape[0],
                "widths": "x".join(map(str, problem.model.widths)),
                "n_parameters": problem.model.n_parameters,
                "method": method,
                "time_s": seconds,
                "peak_memory_mb": peak / 1e6,
                "memory_tracker": MEMORY_TRACKERS[library],
                "relative_error_vs_exact": relative_error(result, exact)
                if method in (PAPER, DOUBLE_BACKPROP)
                else np.nan,
            }
        )
    return rows


# -- the linear model --------------------------------------------------------
def measure_linear(configuration: Configuration, model: LinearSnap, repeats: int) -> list[dict]:
    """(a) and (b) for the linear model, LAMMPS evaluations included (module docstring)."""
    with SnapEngine(configuration, model.parameters, model.reference) as engine:

        def forces() -> np.ndarray:
            return model.forces_from(engine.evaluate())

        def energy_gradient(positions: np.ndarray, cell) -> Evaluation:
            return Evaluation(None, model.energy_gradient_from(engine.evaluate_values(positions)))

        def paper() -> np.ndarray:
            path = LossPath(configuration.positions, forces() - configuration.forces)
            return central_difference(energy_gradient, path, EPSILON).gradient

        estimate = paper()
        exact = model.force_loss_from(configuration, engine.evaluate()).gradient
        timed = median_times({FORCES: forces, PAPER: paper}, repeats)
    return [
        {
            "model": LINEAR,
            "n_atoms": configuration.n_atoms,
            "widths": "",
            "n_parameters": model.n_parameters,
            "method": method,
            "time_s": seconds,
            "peak_memory_mb": np.nan,
            "memory_tracker": "",
            "relative_error_vs_exact": relative_error(estimate, exact) if method == PAPER else np.nan,
        }
        for method, seconds in timed.items()
    ]


def with_target_forces(configuration: Configuration, model: LinearSnap) -> Configuration:
    """The configuration with ``model``'s forces (eV/Å) as its targets."""
    with SnapEngine(configuration, model.parameters, model.reference) as engine:
        return replace(configuration, forces=model.forces_from(engine.evaluate()))


# -- the study ---------------------------------------------------------------
@dataclass(frozen=True)
class CostSpec:
    """The grid: cells m (N = 2m³) at width ``n_width``, widths w (two layers w × w) at ``p_cells``."""

    cells: tuple[int, ...] = DEFAULT_CELLS
    widths: tuple[int, ...] = DEFAULT_WIDTHS
    n_width: int = DEFAULT_N_WIDTH
    p_cells: int = DEFAULT_P_CELLS
    repeats: int = 9
    seed: int = 0

    def points(self) -> dict[int, list[int]]:
        """Cells → the widths measured on that system."""
        grid = {m: [self.n_width] for m in self.cells}
        grid.setdefault(self.p_cells, [])
        grid[self.p_cells] = sorted(set(grid[self.p_cells]) | set(self.widths))
        return dict(sorted(grid.items()))


def lammps_times(engine: SnapEngine, displaced: np.ndarray, repeats: int) -> dict[str, float]:
    """Median seconds of the two LAMMPS evaluations a descriptor-based network needs.

    ``derivatives``: Bᵢ and ∂Bᵢ/∂rⱼ at r (what every force prediction needs);
    ``values``: Bᵢ alone at one displaced position r₊ (the paper's method needs two, at r±).
    """
    return median_times(
        {
            "derivatives": engine.evaluate_per_atom,
            "values": lambda: engine.evaluate_per_atom_values(displaced),
        },
        repeats,
    )


def lammps_time(method: str, lammps: dict[str, float]) -> float:
    """Seconds of LAMMPS a neural method needs besides its network arithmetic: Bᵢ, ∂Bᵢ/∂rⱼ, and B(r±) for (b)."""
    return lammps["derivatives"] + (2 * lammps["values"] if method == PAPER else 0.0)


def add_ratios(table: pd.DataFrame) -> pd.DataFrame:
    """Every method over the force prediction of the same model, system and network.

    ``full_time_ratio`` is the headline: LAMMPS's descriptor evaluations included (for the network,
    ``lammps_time_s``: Bᵢ and ∂Bᵢ/∂rⱼ for every method, plus B(r±) for the paper's; the linear rows
    time LAMMPS already).  ``time_ratio`` is the network arithmetic alone (descriptors precomputed);
    ``memory_ratio`` the network's peak memory.
    """
    if "lammps_time_s" not in table:
        table = table.assign(lammps_time_s=np.nan)
    table = table.assign(lammps_time_s=table["lammps_time_s"].where(table["model"] != LINEAR, 0.0))
    keys = ["model", "n_atoms", "widths"]
    reference = table.loc[table["method"] == FORCES, [*keys, "time_s", "peak_memory_mb", "lammps_time_s"]].rename(
        columns={"time_s": "time_s_forces", "peak_memory_mb": "peak_memory_mb_forces", "lammps_time_s": "lammps_forces"}
    )
    joined = table.merge(reference, on=keys, how="left")
    table = table.assign(
        full_time_ratio=(joined["time_s"] + joined["lammps_time_s"])
        / (joined["time_s_forces"] + joined["lammps_forces"]),
        time_ratio=joined["time_s"] / joined["time_s_forces"],
        memory_ratio=joined["peak_memory_mb"] / joined["peak_memory_mb_forces"],
        includes=[INCLUDES[(model, method)] for model, method in zip(table["model"], table["method"])],
    )
    return table


def run_cost_study(spec: CostSpec, with_torch: bool) -> pd.DataFrame:
    """Every point of the grid, the linear model at every system size; one row per (model, system, network, method)."""
    if with_torch:
        import torch

        torch.set_num_threads(1)
    trained = LinearSnap.ta06a()
    untrained = LinearSnap.kaiming(trained.parameters, spec.seed)
    rows = []
    points = spec.points()
    with progress_bar(total=sum(len(w) for w in points.values()), desc="cost", unit="point") as progress:
        for cells, widths in points.items():
            configuration = with_target_forces(bcc_tantalum(cells, spec.seed, DISPLACEMENT), trained)
            rows += measure_linear(configuration, untrained, spec.repeats)
            with SnapEngine(configuration, trained.parameters, trained.reference) as engine:
                descriptors = engine.evaluate_per_atom()
                problems = [
                    neural_problem(engine, descriptors, configuration.forces, (w, w), spec.seed) for w in widths
                ]
                lammps = lammps_times(engine, problems[0].plus_positions, spec.repeats) if problems else {}
            for problem in problems:
                rows += [
                    {**row, "lammps_time_s": lammps_time(row["method"], lammps)}
                    for row in measure_neural(problem, spec.repeats, with_torch)
                ]
                progress.update()
    return add_ratios(pd.DataFrame(rows))
