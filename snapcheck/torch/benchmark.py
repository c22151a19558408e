"""Benchmark: the paper's first-order step against double backprop, and snapcheck's check against gradgradcheck.

For networks of about 1e3 … 1e6 parameters (:class:`~snapcheck.torch.potential.RadialPotential`,
two hidden layers of width h, P = h² + 11h + 3) and rattled BCC Ta cells of 2 … 200 atoms,
measured side by side in one run, one thread:

* **training step**: time of :func:`snapcheck.torch.paper_force_loss_gradient` at fixed ε (one
  backward pass for f̂, two for ∇θÊ at r ± ηg; Eq. 7) against double backprop (f̂ with
  ``create_graph=True``, then ``loss.backward()``; Eq. 5), best of ``repeat``, and the relative
  difference of the two gradients;
* **whole-loss step** (columns ``…_whole``): the same for :func:`whole_loss` over energy, forces and
  stress.  The paper's step (a :class:`~snapcheck.torch.TorchPotential` with ``terms=WHOLE``, fixed ε)
  makes one backward pass for f̂ and σ̂ together (through positions and a strain), one for the energy
  term's ∇θÊ, and two for ∇θÊ at the ends of the strained path ±η along (g, H).  Double backprop
  takes f̂ and σ̂ from one gradient with ``create_graph=True`` (positions and strain, as MACE does),
  then ``loss.backward()``;
* **graph memory**: the bytes autograd saves for backward (counted by
  ``torch.autograd.graph.saved_tensors_hooks``, each storage once), at their peak: for the paper's
  step the largest single first-order graph, for double backprop the forward graph plus the
  recorded first backward, all alive when ``loss.backward()`` starts.  This is the memory the
  paper's method removes (Sec. II B); it excludes the parameters and the optimizer state, which
  both methods share;
* **check**: time and verdict of snapcheck's check on this correct model
  (:func:`snapcheck.torch.force_loss_gradient_error`: automatic ε over the 23-point grid, the exact
  product, the diagnosis) against ``torch.autograd.gradgradcheck`` on the same model and
  configuration (E as a function of θ and r; its numerical Jacobian costs O(P) gradient
  evaluations, so the full mode runs only up to ``gradgradcheck_max_parameters`` and on the 2-atom
  cell) and against gradgradcheck's ``fast_mode=True`` (random projections).

``python -m snapcheck.bench torch`` runs it (:func:`snapcheck.torch.bench_studies.bench_torch`).
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence

import numpy as np
import pandas as pd
import torch

from snapcheck.base.progress import progress_bar
from snapcheck.data.structures import bcc_tantalum
from snapcheck.gradients.reference import paper_force_loss_gradient
from snapcheck.torch.backend import TorchPotential, apply_strain, default_loss, flat, reference_quantities, zero_strain
from snapcheck.torch.check import force_loss_gradient_error
from snapcheck.torch.determinism import one_thread, seeded
from snapcheck.torch.potential import RadialPotential, energy_fn, forces_fn, neighbours

PARAMETERS = (1_000, 10_000, 100_000, 1_000_000)
ATOMS = (2, 16, 54, 128, 200)
#: BCC supercell repeats giving each atom count (2 atoms per cubic cell).
REPEATS = {2: (1, 1, 1), 16: (2, 2, 2), 54: (3, 3, 3), 128: (4, 4, 4), 200: (5, 5, 4)}


def width_for(parameters: float) -> int:
    """h with h² + 11h + 3 ≈ ``parameters`` (two hidden layers on 8 radial features)."""
    return max(1, round((-11 + math.sqrt(121 + 4 * (parameters - 3))) / 2))


#: The quantities of the whole-loss rows.
WHOLE = ("energy", "forces", "stress")


def bcc_ta(n_atoms: int, seed: int = 0):
    """A bcc Ta cell of ``n_atoms`` (:func:`snapcheck.data.structures.bcc_tantalum`, σ = 0.05 Å) as ase.Atoms, with
    reference E = 0, f = 0 and stress 0."""
    from ase.calculators.singlepoint import SinglePointCalculator

    atoms = bcc_tantalum(REPEATS[n_atoms], seed, displacement=0.05).to_atoms()
    atoms.calc = SinglePointCalculator(atoms, energy=0.0, forces=np.zeros((n_atoms, 3)), stress=np.zeros(6))
    return atoms


def whole_loss(predicted: dict, reference: dict, atoms) -> torch.Tensor:
    """½ (((Ê − E)/N)² + Σ_i |f̂_i − f_i|² + Σ_ab (σ̂_ab − σ_ab)²): a training loss over energy (eV), forces (eV/Å)
    and stress (eV/Å³), as snapcheck's ``loss_fn`` over dicts."""
    return 0.5 * (
        ((predicted["energy"] - reference["energy"]) / len(atoms)) ** 2
        + ((predicted["forces"] - reference["forces"]) ** 2).sum()
        + ((predicted["stress"] - reference["stress"]) ** 2).sum()
    )


class GraphMemory:
    """Bytes autograd saves for backward, per phase (each storage counted once), and the peak over phases."""

    def __init__(self):
        self.peak, self._seen, self._bytes = 0, set(), 0

    def phase(self) -> None:
        self._seen, self._bytes = set(), 0

    def _pack(self, tensor):
        storage = tensor.untyped_storage()
        key = (storage.data_ptr(), storage.nbytes())
        if key not in self._seen:
            self._seen.add(key)
            self._bytes += storage.nbytes()
            self.peak = max(self.peak, self._bytes)
        return tensor

    def hooks(self):
        return torch.autograd.graph.saved_tensors_hooks(self._pack, lambda tensor: tensor)


def _best(function, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times)


def paper_step(model, atoms, memory: GraphMemory | None = None, terms: tuple[str, ...] = ("forces",)) -> None:
    """One first-order training step's gradient (Eq. 7, ε = 1e-5) of the force loss, or of :func:`whole_loss` with
    ``terms=WHOLE``; each energy evaluation is a new memory phase."""

    def energy(m, a, positions, cell=None):
        if memory is not None:
            memory.phase()
        return energy_fn(m, a, positions, cell)

    model.zero_grad(set_to_none=True)
    potential = TorchPotential(model, energy, None if terms == ("forces",) else whole_loss, terms=terms)
    potential.add_to_grad(paper_force_loss_gradient(potential, [atoms], epsilon=1e-5).gradient)


def paper_whole_step(model, atoms, memory: GraphMemory | None = None) -> None:
    """:func:`paper_step` for :func:`whole_loss`."""
    paper_step(model, atoms, memory, WHOLE)


def double_backprop_step(model, atoms, memory: GraphMemory | None = None) -> None:
    """One double-backprop gradient: f̂ with create_graph=True, then loss.backward() (Eq. 5)."""
    model.zero_grad(set_to_none=True)
    if memory is not None:
        memory.phase()
    positions = torch.tensor(atoms.get_positions(), requires_grad=True)
    default_loss(forces_fn(model, atoms, positions), torch.tensor(atoms.get_forces()), atoms).backward()


def double_backprop_whole_step(model, atoms, memory: GraphMemory | None = None) -> None:
    """One double-backprop gradient of :func:`whole_loss`: f̂ = −∂Ê/∂r and σ̂ = (1/V) ∂Ê/∂ε from one gradient with
    create_graph=True (ε a strain of positions and cell), then loss.backward()."""
    model.zero_grad(set_to_none=True)
    if memory is not None:
        memory.phase()
    positions = torch.tensor(atoms.get_positions(), requires_grad=True)
    epsilon = zero_strain(positions)
    cell = torch.tensor(np.asarray(atoms.cell))
    energy = energy_fn(model, atoms, *apply_strain(positions, cell, epsilon))
    dedr, dedε = torch.autograd.grad(energy, (positions, epsilon), create_graph=True)
    predicted = {"energy": energy, "forces": -dedr, "stress": dedε / torch.linalg.det(cell).abs()}
    reference = {key: torch.tensor(value) for key, value in reference_quantities(atoms, WHOLE).items()}
    whole_loss(predicted, reference, atoms).backward()


def side_by_side(model, atoms, paper, double, repeat: int, suffix: str = "") -> dict:
    """Time (best of ``repeat``), peak graph bytes and the gradients of the ``paper`` and ``double`` steps, measured
    in turn on the same model and configuration: one row's columns, names ending in ``suffix``."""
    columns, peaks, gradients = {}, {}, {}
    for name, step in (("paper", paper), ("double", double)):
        memory = GraphMemory()
        with memory.hooks():
            step(model, atoms, memory)
        peaks[name] = memory.peak
        gradients[name] = flat([p.grad for p in model.parameters()], list(model.named_parameters()))
        columns[f"seconds_{name}{suffix}_step"] = _best(lambda s=step: s(model, atoms), repeat)
    columns[f"time_ratio_double_over_paper{suffix}"] = (
        columns[f"seconds_double{suffix}_step"] / columns[f"seconds_paper{suffix}_step"]
    )
    columns[f"graph_bytes_paper{suffix}"], columns[f"graph_bytes_double{suffix}"] = peaks["paper"], peaks["double"]
    columns[f"memory_ratio_double_over_paper{suffix}"] = peaks["double"] / peaks["paper"]
    difference = np.linalg.norm(gradients["paper"] - gradients["double"]) / np.linalg.norm(gradients["double"])
    columns[f"gradient_difference{suffix}"] = float(difference)
    return columns


def gradgradcheck_time(model, atoms, fast_mode: bool) -> tuple[float, bool]:
    """Seconds and verdict of ``torch.autograd.gradgradcheck`` on E(θ, r) for this model and configuration."""
    names = [n for n, _ in model.named_parameters()]
    i, j, shifts = neighbours(atoms)
    shift = shifts @ torch.tensor(np.asarray(atoms.cell))

    def energy(*tensors):
        state = dict(zip(names, tensors[:-1]))
        return torch.func.functional_call(model, state, (tensors[-1], i, j, shift))

    inputs = [p.detach().clone().requires_grad_(True) for p in model.parameters()]
    inputs.append(torch.tensor(atoms.get_positions(), requires_grad=True))
    start = time.perf_counter()
    with seeded(0):  # fast mode's random projections, drawn without touching the host's stream
        verdict = torch.autograd.gradgradcheck(energy, inputs, fast_mode=fast_mode, raise_exception=False)
    return time.perf_counter() - start, bool(verdict)


def run_benchmark(
    parameters: Sequence[float] = PARAMETERS,
    atoms: Sequence[int] = ATOMS,
    *,
    seed: int = 0,
    repeat: int = 3,
    gradgradcheck_max_parameters: float = 1.2e4,
    gradgradcheck_max_atoms: int = 2,
    fast_max_parameters: float = 1.2e5,
) -> pd.DataFrame:
    """One row per (network, configuration); ratios > 1 favour the paper's step and snapcheck's check."""
    rows = []
    bar = progress_bar(total=len(parameters) * len(atoms), desc="bench torch", unit="row")
    with one_thread(), bar:
        for target in parameters:
            model = RadialPotential(hidden=width_for(target), layers=2, seed=seed)
            count = sum(p.numel() for p in model.parameters())
            for n in atoms:
                bar.set_postfix(P=count, N=n)
                configuration = bcc_ta(n, seed)
                row = {"parameters": count, "atoms": n}
                row |= side_by_side(model, configuration, paper_step, double_backprop_step, repeat)
                row |= side_by_side(
                    model, configuration, paper_whole_step, double_backprop_whole_step, repeat, suffix="_whole"
                )
                start = time.perf_counter()
                report = force_loss_gradient_error(model, energy_fn, [configuration])
                row["seconds_check"] = time.perf_counter() - start
                row["check_max_relative_error"], row["check_passed"] = report.worst, report.passed
                for mode, limit, fast in (
                    ("gradgradcheck", gradgradcheck_max_parameters, False),
                    ("gradgradcheck_fast", fast_max_parameters, True),
                ):
                    seconds, verdict = math.nan, None
                    if count <= limit and (fast or n <= gradgradcheck_max_atoms):
                        seconds, verdict = gradgradcheck_time(model, configuration, fast)
                    row[f"seconds_{mode}"], row[f"{mode}_passed"] = seconds, verdict
                    row[f"speedup_check_vs_{mode}"] = seconds / row["seconds_check"]
                rows.append(row)
                bar.update()
    return pd.DataFrame(rows)
