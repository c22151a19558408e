"""A small, smooth PyTorch potential for tantalum, used by the example, the benchmark and the tests.

    Ê = Σ_i MLP(G_i) + N·offset,     G_i,k = Σ_j exp(−γ (r_ij − μ_k)²) · f_c(r_ij),     f_c(r) = (1 − (r/r_c)²)³

for r_ij < r_c = 4.5 Å.  Neighbours (periodic images included) come from ``ase.neighborlist`` at the
unperturbed positions with a 0.5 Å skin, so Ê is C² in every displacement snapcheck makes (at most
0.1 Å on the ε grid).  A pair's image is kept as its integer shift S (in lattice vectors) and its
vector is r_j − r_i + S·cell with the cell ``energy_fn`` is given, so a strain of the cell moves the
images with it and the stress (1/V) ∂Ê/∂ε is right.  θ = (γ, the MLP's weights and biases, the
per-atom offset); the last bias and the offset enter Ê but not f̂, so their force-loss gradient is
exactly zero.
"""

from __future__ import annotations

import weakref
from pathlib import Path

import numpy as np
import torch
from ase.neighborlist import neighbor_list

from snapcheck.torch.determinism import seeded

CUTOFF = 4.5  # Å
SKIN = 0.5  # Å


def cutoff_function(d: torch.Tensor, cutoff: float = CUTOFF) -> torch.Tensor:
    """f_c(r) = (1 − (r/r_c)²)³ below r_c, 0 beyond (C² at r_c)."""
    inside = d < cutoff
    x = torch.where(inside, d / cutoff, torch.zeros_like(d))
    return torch.where(inside, (1 - x * x) ** 3, torch.zeros_like(d))


class RadialPotential(torch.nn.Module):
    """Radial-basis descriptors → per-atom MLP (``hidden`` units per layer, ``layers`` hidden layers)."""

    def __init__(self, n_basis=8, hidden=16, layers=1, offset=0.0, dtype=torch.float64, seed=0):
        super().__init__()
        self.register_buffer("mu", torch.linspace(2.0, CUTOFF, n_basis, dtype=dtype))
        self.gamma = torch.nn.Parameter(torch.tensor(2.0, dtype=dtype))
        width = [n_basis] + [hidden] * layers
        modules = []
        with seeded(seed):  # the weights depend on the seed alone; the host's random stream is untouched
            for a, b in zip(width[:-1], width[1:]):
                modules += [torch.nn.Linear(a, b), torch.nn.SiLU()]
            self.net = torch.nn.Sequential(*modules, torch.nn.Linear(width[-1], 1)).to(dtype)
        self.offset = torch.nn.Parameter(torch.tensor(float(offset), dtype=dtype))

    def descriptors(self, positions, i, j, shift):
        rij = positions[j] - positions[i] + shift
        d = torch.sqrt((rij * rij).sum(-1))
        basis = torch.exp(-self.gamma * (d[:, None] - self.mu) ** 2) * cutoff_function(d)[:, None]
        return torch.zeros(len(positions), len(self.mu), dtype=basis.dtype, device=basis.device).index_add(0, i, basis)

    def forward(self, positions, i, j, shift):
        return self.net(self.descriptors(positions, i, j, shift)).sum() + self.offset * len(positions)


_NEIGHBOURS: dict = {}


def neighbours(atoms, device="cpu"):
    """(i, j, integer image shifts S) at the atoms' own positions, kept while ``atoms`` lives."""
    key = id(atoms)
    if key not in _NEIGHBOURS:
        i, j, shifts = neighbor_list("ijS", atoms, CUTOFF + SKIN)
        _NEIGHBOURS[key] = (torch.tensor(i), torch.tensor(j), torch.tensor(shifts, dtype=torch.float64))
        weakref.finalize(atoms, _NEIGHBOURS.pop, key, None)
    i, j, shifts = _NEIGHBOURS[key]
    return i.to(device), j.to(device), shifts.to(device)


def energy_fn(model, atoms, positions, cell=None):
    """Ê (eV) of ``atoms`` at ``positions`` (Å) and ``cell`` (Å, rows; default the atoms' own): the
    ``energy_fn`` snapcheck.torch takes."""
    if cell is None:
        cell = torch.tensor(np.asarray(atoms.cell), dtype=positions.dtype, device=positions.device)
    i, j, shifts = neighbours(atoms, positions.device)
    return model(positions, i, j, shifts.to(positions.dtype) @ cell)


def forces_fn(model, atoms, positions):
    """f̂ = −∂Ê/∂r with create_graph=True: a correct trainer's force code."""
    return -torch.autograd.grad(energy_fn(model, atoms, positions), positions, create_graph=True)[0]


def ta_xyz_root() -> Path:
    """The folder of the Ta extxyz files (Thompson et al. 2015): the ``ta-xyz`` dataset, found as every
    dataset is (``$SNAPCHECK_DATASETS``, the cache, or a verified download; :mod:`snapcheck.data.datasets`)."""
    from snapcheck.data.datasets import resolve_dataset_root

    return resolve_dataset_root("ta-xyz") / "XYZ"


def ta_atoms(spec, root: str | Path | None = None) -> list:
    """Real Ta configurations as ase.Atoms with DFT energy, forces, stress: ``spec`` = ((group, count or indices), …).

    Read through :func:`snapcheck.data.extxyz.read_extxyz` and :meth:`Configuration.to_atoms`, so the
    stress is ASE's σ in eV/Å³ (the files hold FitSNAP's pressure in bar).
    """
    from snapcheck.data.extxyz import read_extxyz

    root = Path(root) if root is not None else ta_xyz_root()
    out = []
    for group, which in spec:
        frames = read_extxyz(root / f"{group}.xyz")
        for index in range(which) if isinstance(which, int) else which:
            atoms = frames[index].to_atoms()
            atoms.info.update(group=group, name=f"{group}_{index}")
            out.append(atoms)
    return out
