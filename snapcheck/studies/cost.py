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
once per system, outside the clock, and shared by all methods):

(a) ``force prediction``: Bᵢ → Eᵢ → ∂Eᵢ/∂Bᵢ (one forward and one backward
    pass) → f̂ = −Dᵀe + f_ref (one sparse product with D = ∂B/∂r);
(b) ``paper gradient``: (a), g = f̂ − f, then ∇θÊ at r₊ and at r₋ (two
    forward-and-backward passes on the per-atom descriptors B(r±), which
    LAMMPS computed beforehand by two fast evaluations) and Eq. 7;
(c) ``exact product``: (a), g, u = D g (one sparse product), and the exact
    forward-over-reverse product −Σᵢ Jᵢuᵢ (the R-operator of
    :mod:`snapcheck.models.neural_snap`);
(d) ``double backprop`` (PyTorch, float64): forces by
    ``autograd.grad(ΣE, B, create_graph=True)`` and the same derivative rows,
    then ``L.backward()`` (:mod:`snapcheck.models.torch_snap`);
(a') ``force prediction (torch)``: (a) in PyTorch (``autograd.grad`` without
    ``create_graph``), so that (d) can also be read against a force
    prediction in its own framework, as TorchANI's figures are.

Each time is the median of ``repeats`` calls after one warm-up call, the
methods interleaved round by round (:func:`median_times`), reported also as a
ratio to (a) of the same system and network.  numpy and torch both
run on one thread (``torch.set_num_threads(1)``; run the command with
``OPENBLAS_NUM_THREADS=1`` for numpy's BLAS, as the committed report was).

**The linear SNAP model** (the issue's §4), where the model arithmetic is
negligible and the LAMMPS evaluations are the cost, so they *are* timed: (a)
one full evaluation (``compute snap``: ΣB and its derivatives A_f) and
f̂ = A_f β; (b) the same, then two fast evaluations at r± (``compute
sna/atom``: ΣB only) and Eq. 7, so the ratio is (full + 2 fast) / full.
The untrained (Kaiming, from the seed) linear model is used, so that g ≠ 0.

**Peak memory** is what a method allocates beyond its inputs, at its peak:
for numpy, :mod:`tracemalloc` (numpy reports every array buffer to it),
traced from zero after the inputs exist; for torch, whose CPU allocator
tracemalloc does not see, the allocator's own events from
``torch.profiler.profile(profile_memory=True)``: every allocation and free,
in time order, summed, and the maximum of the running sum taken
(:func:`torch_peak_bytes`; the tests check both trackers on buffers of known
size).  The memory runs are separate from the timed runs.

Every gradient is also compared with (c): the relative error of (b) is the
paper's Eq. 11 at ε = 10⁻⁵, that of (d) is round-off.
"""

from __future__ import annotations

import importlib.util
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd

from snapcheck.base.files import save_figure
from snapcheck.base.progress import progress_bar
from snapcheck.data.configuration import Configuration
from snapcheck.data.structures import bcc_tantalum
from snapcheck.descriptors.engine import SnapEngine
from snapcheck.descriptors.results import AtomDescriptors
from snapcheck.gradients.paper import Evaluation, LossPath, central_difference, displacement, relative_error
from snapcheck.models.linear_snap import LinearSnap
from snapcheck.models.neural_snap import NeuralSnap

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import FormatStrFormatter  # noqa: E402

DISPLACEMENT = 0.1  # Å, standard deviation of every coordinate's random displacement
EPSILON = 1e-5  # the paper's ε (Eq. 9), g₀ = max|gᵢ|
DEFAULT_CELLS = (2, 3, 4, 5, 6, 8, 10)  # m: N = 2m³ = 16 … 2000
DEFAULT_WIDTHS = (20, 64, 128, 300)  # w: P = w² + 33w + 1 ≈ 1.1e3 … 1.0e5
DEFAULT_N_WIDTH = 64  # the network of the sweep over N
DEFAULT_P_CELLS = 5  # the system of the sweep over P (N = 250)

NEURAL, LINEAR = "neural-snap", "linear-snap"
FORCES, PAPER, EXACT, DOUBLE_BACKPROP = "force prediction", "paper gradient", "exact product", "double backprop"
TORCH_FORCES = "force prediction (torch)"
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


def torch_available() -> bool:
    return importlib.util.find_spec("torch") is not None


# -- measurement -------------------------------------------------------------
def median_times(functions: dict[str, Callable[[], object]], repeats: int) -> dict[str, float]:
    """The median wall time of each function over ``repeats`` calls after one warm-up call, in s.

    The calls are interleaved (one of each function per round), so that a
    load from other processes on a shared machine falls on all of them alike.
    """
    for function in functions.values():
        function()
    times: dict[str, list[float]] = {name: [] for name in functions}
    for _ in range(repeats):
        for name, function in functions.items():
            start = time.perf_counter()
            function()
            times[name].append(time.perf_counter() - start)
    return {name: float(np.median(values)) for name, values in times.items()}


def numpy_peak_bytes(function: Callable[[], object]) -> tuple[int, object]:
    """(bytes allocated by ``function`` beyond what existed before, at the peak, by tracemalloc; its result)."""
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        result = function()
        return tracemalloc.get_traced_memory()[1] - base, result
    finally:
        tracemalloc.stop()


def torch_peak_bytes(function: Callable[[], object]) -> tuple[int, object]:
    """(the peak of the running sum of torch's CPU allocations and frees during ``function``, bytes; its result)."""
    from torch.profiler import ProfilerActivity, profile

    with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as profiler:
        result = function()
    events = sorted(
        (event.start_ns(), event.nbytes())
        for event in profiler.profiler.kineto_results.events()
        if event.name() == "[memory]"
    )
    running = np.cumsum([nbytes for _, nbytes in events]) if events else np.zeros(1)
    return int(max(0, running.max())), result


# -- the neural-network methods ---------------------------------------------
@dataclass(frozen=True)
class NeuralProblem:
    """One system and one network, every LAMMPS output precomputed.

    Attributes:
        model: the network; descriptors: B and D = ∂B/∂r at r.
        targets: f, (N, 3) eV/Å.
        plus, minus: B at r± = r ± ηg (N, K), from LAMMPS.
        positions: r; plus_positions: r₊ (Å), to tell which of B(r±) an evaluation asks for.
    """

    model: NeuralSnap
    descriptors: AtomDescriptors
    targets: np.ndarray
    plus: np.ndarray
    minus: np.ndarray
    positions: np.ndarray
    plus_positions: np.ndarray


def force_prediction(problem: NeuralProblem) -> np.ndarray:
    return problem.model.forces_from(problem.descriptors)


def paper_gradient(problem: NeuralProblem) -> np.ndarray:
    """(b): f̂, g and η (g sets r±, whose descriptors LAMMPS computed beforehand), then Eq. 7 from two ∇θÊ passes."""
    model, positions = problem.model, problem.positions

    def energy_gradient(displaced: np.ndarray, cell) -> Evaluation:
        descriptors = problem.plus if np.array_equal(displaced, problem.plus_positions) else problem.minus
        return Evaluation(None, model.atom_energy_gradient(descriptors))

    errors = model.forces_from(problem.descriptors) - problem.targets
    return central_difference(energy_gradient, LossPath(positions, errors), EPSILON).gradient


def exact_product(problem: NeuralProblem) -> np.ndarray:
    model = problem.model
    return model.force_loss_gradient_from(problem.descriptors, model.forces_from(problem.descriptors) - problem.targets)


def neural_problem(
    engine: SnapEngine, descriptors: AtomDescriptors, targets: np.ndarray, widths: tuple[int, ...], seed: int
) -> NeuralProblem:
    """A fresh tanh network standardised on this system's B, g at r, and B(r±) from two LAMMPS evaluations without derivatives."""
    b = descriptors.descriptors
    model = NeuralSnap.initialize(engine.parameters, widths, seed=seed, shift=b.mean(axis=0), scale=b.std(axis=0))
    positions = engine.configuration.positions
    step = displacement(LossPath(positions, model.forces_from(descriptors) - targets), EPSILON)
    plus, minus = (engine.evaluate_per_atom_values(r).descriptors for r, _ in (step.plus, step.minus))
    return NeuralProblem(model, descriptors, targets, plus, minus, positions, step.plus[0])


def neural_methods(problem: NeuralProblem, with_torch: bool) -> dict[str, tuple[str, Callable[[], object]]]:
    """Method name → (library, a call with every input bound)."""
    methods = {
        FORCES: ("numpy", lambda: force_prediction(problem)),
        PAPER: ("numpy", lambda: paper_gradient(problem)),
        EXACT: ("numpy", lambda: exact_product(problem)),
    }
    if with_torch:
        import torch

        from snapcheck.models.torch_snap import TorchDescriptors, TorchSnap

        network, tensors, targets = (
            TorchSnap(problem.model),
            TorchDescriptors.from_numpy(problem.descriptors),
            torch.tensor(problem.targets),
        )
        methods[TORCH_FORCES] = ("torch", lambda: network.forces_from(tensors).numpy())
        methods[DOUBLE_BACKPROP] = ("torch", lambda: network.force_loss_gradient_from(tensors, targets).numpy())
    return methods


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


# -- the figure ---------------------------------------------------------------
METHOD_STYLES = {
    PAPER: ("tab:blue", "o"),
    EXACT: ("tab:green", "s"),
    DOUBLE_BACKPROP: ("tab:red", "^"),
    TORCH_FORCES: ("tab:orange", "v"),
}


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
        "Cost of the force-loss gradient over a force prediction (neural network on SNAP descriptors, float64, 1 thread)",
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
