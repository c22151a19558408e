"""The zoo's three potentials, each written once: a pair potential, an embedded-atom potential, a tiny
message-passing network.  Every entry builds its buggy and its fixed variant on one of them.

Geometry (Å): positions r (N, 3); cell h (3, 3) with the lattice vectors as rows.  The pipeline
:func:`graph` turns ``ase.Atoms`` into integer data, the pairs (i, j) within ``CUTOFF`` + ``SKIN`` with
their integer image shifts S (from ``snapcheck.torch.potential.neighbours``, built once per atoms
object at its own positions), and into the cell-dependent tensors, built from the cell *tensor* it
is given so that a strain of the cell moves them:

    image offsets   S·h                      (the bond vector is r_ij = r_j − r_i + S·h)
    reciprocal      k = n·2π h⁻ᵀ, 0 < |n|∞ ≤ 1 (rows: k-vectors in 1/Å)
    volume          V = |det h|

Every term is cut off smoothly, f_c(r) = (1 − (r/r_c)²)³ for r < r_c (C² at r_c), so Ê is smooth in
every displacement a check makes within the skin:

    Pair      Ê = ½ Σ_{i≠j} D[(1 − e^{−a(r_ij − r₀)})² − 1] f_c(r_ij) + N e₀  (+ the optional Ewald part)
    Ewald     Ê_k = (2π q²/V) Σ_k e^{−k²/4α²}/k² |Σ_i e^{i k·r_i}|²,  Ê_bg = −π N² q²/(2α² V)
    EAM       Ê = Σ_i F(ρ_i) + ½ Σ_{i≠j} φ(r_ij),  ρ_i = Σ_j A e^{−β(r_ij − r₀)} f_c,  F(ρ) = c(1 − √(1 + ρ)),
              φ(r) = B e^{−b(r − r₀)} f_c
    TinyMPNN  hᵢ = embedding(Zᵢ); mᵢ = Σ_j W·rbf(r_ij) ⊙ h_j; Ê = Σ_i w·(hᵢ + SiLU(U mᵢ)) + N b
              (+ λ Σ_i Σ_{j≠k} (cos θ_jik − c₀)² f₃(r_ij) f₃(r_ik), + u Σ_i |vᵢ|² with
              vᵢ = Σ_j (p·rbf(r_ij) + p₀) g(r_ij) r̂_ij, the gate g = f_c)

``energy_fn(model, atoms, positions, cell=None)`` is the ``energy_fn`` snapcheck takes; :func:`stress_from`
gives a trainer's correct stress code for an energy function.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
import torch

from snapcheck.torch.backend import apply_strain, zero_strain
from snapcheck.torch.potential import CUTOFF, cutoff_function, neighbours

R0 = 2.9  # Å, the Ta nearest-neighbour distance the radial functions are centred on
THREE_BODY_CUTOFF = 3.5  # Å
EWALD_ALPHA = 0.6  # 1/Å
#: n of the reciprocal vectors, 0 < |n|∞ ≤ 1 (26 of them).
MILLER = np.array([n for n in np.ndindex(3, 3, 3) if n != (1, 1, 1)], dtype=float) - 1.0


class Graph(NamedTuple):
    """What the pipeline hands a potential: pairs, image offsets S·h (Å), atomic numbers, k-vectors, volume."""

    i: torch.Tensor
    j: torch.Tensor
    offsets: torch.Tensor
    numbers: torch.Tensor
    kvectors: torch.Tensor
    volume: torch.Tensor


def cell_tensor(atoms, like: torch.Tensor) -> torch.Tensor:
    """The atoms' own cell as a tensor in the dtype and on the device of ``like``."""
    return torch.tensor(np.asarray(atoms.cell), dtype=like.dtype, device=like.device)


def reciprocal_vectors(cell: torch.Tensor) -> torch.Tensor:
    """k = n·2π h⁻ᵀ for the Miller indices of :data:`MILLER` (1/Å)."""
    return torch.tensor(MILLER, dtype=cell.dtype, device=cell.device) @ (2 * math.pi * torch.linalg.inv(cell).T)


def graph(atoms, positions: torch.Tensor, cell: torch.Tensor | None = None) -> Graph:
    """The pipeline: pairs and shifts of ``atoms``, and offsets, k-vectors and volume from the ``cell`` tensor."""
    cell = cell_tensor(atoms, positions) if cell is None else cell
    i, j, shifts = neighbours(atoms, positions.device)
    numbers = torch.as_tensor(atoms.numbers, device=positions.device)
    offsets = shifts.to(positions.dtype) @ cell
    return Graph(i, j, offsets, numbers, reciprocal_vectors(cell), torch.linalg.det(cell).abs())


def energy_fn(model, atoms, positions, cell=None):
    """Ê (eV) of ``atoms`` at ``positions`` and ``cell`` (default: the atoms' own): the energy_fn of every entry."""
    return model(positions, graph(atoms, positions, cell))


def stress_from(energy):
    """The stress_fn a correct trainer writes for ``energy``: σ̂ = (1/V) ∂Ê/∂ε (eV/Å³, ASE's sign) by autograd
    through r → r(I + ε)ᵀ, h → h(I + ε)ᵀ, with create_graph."""

    def stress_fn(model, atoms, positions, cell):
        derivative = strain_derivative(lambda r, h: energy(model, atoms, r, h), positions, cell)
        return derivative / torch.linalg.det(cell).abs()

    return stress_fn


stress_fn = stress_from(energy_fn)


def strain_derivative(energy, positions, cell):
    """∂E/∂ε at ε = 0 of ``energy(r, h)`` under the homogeneous strain of positions and cell (eV), with create_graph."""
    epsilon = zero_strain(positions)
    (grad,) = torch.autograd.grad(energy(*apply_strain(positions, cell, epsilon)), epsilon, create_graph=True)
    return grad


def cutoff_derivative(d: torch.Tensor, cutoff: float = CUTOFF) -> torch.Tensor:
    """f_c′(r) = −6 (r/r_c)(1 − (r/r_c)²)²/r_c below r_c, 0 beyond (for hand-written derivatives)."""
    inside = d < cutoff
    x = torch.where(inside, d / cutoff, torch.zeros_like(d))
    return torch.where(inside, -6 * x * (1 - x * x) ** 2 / cutoff, torch.zeros_like(d))


def bond_vectors(positions: torch.Tensor, g: Graph) -> torch.Tensor:
    """r_ij = r_j − r_i + S·h (Å), one row per pair."""
    return positions[g.j] - positions[g.i] + g.offsets


def scalar(value: float, dtype) -> torch.nn.Parameter:
    return torch.nn.Parameter(torch.tensor(value, dtype=dtype))


class Pair(torch.nn.Module):
    """Morse with a smooth cutoff and a per-atom offset; ``ewald=True`` adds a reciprocal-space term of charge q."""

    def __init__(self, dtype=torch.float64, ewald: bool = False):
        super().__init__()
        self.D, self.a, self.r0, self.e0 = (scalar(v, dtype) for v in (0.6, 1.4, R0, -11.0))
        self.ewald = ewald
        if ewald:
            self.q = scalar(0.3, dtype)

    def pair_energy(self, positions, g: Graph) -> torch.Tensor:
        d = bond_vectors(positions, g).norm(dim=-1)
        morse = self.D * ((1 - torch.exp(-self.a * (d - self.r0))) ** 2 - 1)
        return 0.5 * (morse * cutoff_function(d)).sum() + self.e0 * len(positions)

    def reciprocal_energy(self, positions, g: Graph) -> torch.Tensor:
        """(2π q²/V) Σ_k e^{−k²/4α²}/k² |S(k)|², S(k) = Σ_i e^{i k·r_i}."""
        phase = positions @ g.kvectors.T
        structure = torch.cos(phase).sum(0) ** 2 + torch.sin(phase).sum(0) ** 2
        k2 = (g.kvectors**2).sum(-1)
        return 2 * math.pi * self.q**2 / g.volume * (torch.exp(-k2 / (4 * EWALD_ALPHA**2)) / k2 * structure).sum()

    def background_energy(self, positions, g: Graph) -> torch.Tensor:
        """−π Q²/(2α²V) with Q = N q: the neutralising background of a charged cell."""
        return -math.pi * (len(positions) * self.q) ** 2 / (2 * EWALD_ALPHA**2 * g.volume)

    def forward(self, positions, g: Graph) -> torch.Tensor:
        energy = self.pair_energy(positions, g)
        if self.ewald:
            energy = energy + self.reciprocal_energy(positions, g) + self.background_energy(positions, g)
        return energy


class EAM(torch.nn.Module):
    """Embedded-atom: Σ_i F(ρ_i) + ½ Σ φ(r_ij) with exponential density and repulsion, all cut off smoothly."""

    def __init__(self, dtype=torch.float64):
        super().__init__()
        self.A, self.beta, self.c, self.B, self.b = (scalar(v, dtype) for v in (1.0, 1.2, 4.0, 0.3, 2.5))

    def densities(self, positions, g: Graph) -> torch.Tensor:
        d = bond_vectors(positions, g).norm(dim=-1)
        contribution = self.A * torch.exp(-self.beta * (d - R0)) * cutoff_function(d)
        return torch.zeros(len(positions), dtype=d.dtype, device=d.device).index_add(0, g.i, contribution)

    def embedding(self, rho: torch.Tensor) -> torch.Tensor:
        return self.c * (1 - torch.sqrt(1 + rho))

    def embedding_energy(self, positions, g: Graph) -> torch.Tensor:
        return self.embedding(self.densities(positions, g)).sum()

    def pair_energy(self, positions, g: Graph) -> torch.Tensor:
        d = bond_vectors(positions, g).norm(dim=-1)
        return 0.5 * (self.B * torch.exp(-self.b * (d - R0)) * cutoff_function(d)).sum()

    def forward(self, positions, g: Graph) -> torch.Tensor:
        return self.embedding_energy(positions, g) + self.pair_energy(positions, g)


class TinyMPNN(torch.nn.Module):
    """One message-passing layer on Gaussian radial features; optional three-body angles and vector channel."""

    def __init__(self, species=(73,), features=4, basis=4, dtype=torch.float64, seed=0, three_body=False, vector=False):
        super().__init__()
        generator = torch.Generator().manual_seed(seed)
        index = torch.full((119,), -1, dtype=torch.long)
        index[list(species)] = torch.arange(len(species))
        self.register_buffer("species_index", index)
        self.register_buffer("mu", torch.linspace(2.0, CUTOFF, basis, dtype=dtype))

        def weights(*shape, scale=0.5):
            return torch.nn.Parameter(scale * torch.randn(*shape, generator=generator, dtype=torch.float64).to(dtype))

        self.embedding, self.filters = weights(len(species), features), weights(basis, features)
        self.update, self.readout, self.bias = weights(features, features), weights(features), scalar(-11.0, dtype)
        self.three_body, self.vector = three_body, vector
        if three_body:
            self.lam, self.c0 = scalar(0.2, dtype), scalar(-0.3, dtype)
        if vector:
            self.projection, self.projection_bias, self.u = weights(basis), scalar(0.4, dtype), scalar(0.3, dtype)

    def radial(self, d: torch.Tensor) -> torch.Tensor:
        return torch.exp(-2.0 * (d[:, None] - self.mu) ** 2) * cutoff_function(d)[:, None]

    def bond_angles(self, vectors: torch.Tensor, first: torch.Tensor, second: torch.Tensor) -> torch.Tensor:
        """cos θ between the bonds ``first`` and ``second`` (indices into ``vectors``) that share their centre atom."""
        a, b = vectors[first], vectors[second]
        return (a * b).sum(-1) / (a.norm(dim=-1) * b.norm(dim=-1))

    def three_body_energy(self, vectors: torch.Tensor, d: torch.Tensor, g: Graph) -> torch.Tensor:
        short = torch.nonzero(d < THREE_BODY_CUTOFF).flatten()
        centre = g.i[short]
        same = centre[:, None] == centre[None, :]
        same.fill_diagonal_(False)
        first, second = (short[k] for k in torch.nonzero(same, as_tuple=True))
        cos = self.bond_angles(vectors, first, second)
        weight = cutoff_function(d[first], THREE_BODY_CUTOFF) * cutoff_function(d[second], THREE_BODY_CUTOFF)
        return self.lam * ((cos - self.c0) ** 2 * weight).sum()

    def vector_gate(self, d: torch.Tensor) -> torch.Tensor:
        """The cutoff of the vector messages: f_c, as for the scalar ones."""
        return cutoff_function(d)

    def vector_energy(self, vectors: torch.Tensor, d: torch.Tensor, g: Graph, n: int) -> torch.Tensor:
        weight = (self.radial(d) @ self.projection + self.projection_bias) * self.vector_gate(d)
        messages = (weight / d)[:, None] * vectors
        v = torch.zeros((n, 3), dtype=d.dtype, device=d.device).index_add(0, g.i, messages)
        return self.u * (v**2).sum()

    def forward(self, positions, g: Graph) -> torch.Tensor:
        vectors = bond_vectors(positions, g)
        d = vectors.norm(dim=-1)
        h = self.embedding[self.species_index[g.numbers]]
        messages = (self.radial(d) @ self.filters) * h[g.j]
        m = torch.zeros_like(h).index_add(0, g.i, messages)
        h = h + torch.nn.functional.silu(m @ self.update)
        energy = (h @ self.readout).sum() + self.bias * len(positions)
        if self.three_body:
            energy = energy + self.three_body_energy(vectors, d, g)
        if self.vector:
            energy = energy + self.vector_energy(vectors, d, g, len(positions))
        return energy
