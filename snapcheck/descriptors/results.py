"""What a LAMMPS evaluation returns, in the user's frame and snapcheck's units.

Two sums over atoms serve the linear SNAP model (E = Σ_e β_e · ΣB_e + …), two
per-atom forms serve models on each atom's descriptors (a neural network);
each comes with derivatives (for forces and exact gradients) or as values only
(all that the paper's central difference, Eq. 7, needs at r±).
:mod:`snapcheck.descriptors.engine` derives every field.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse


@dataclass(frozen=True)
class SummedDescriptors:
    """A full evaluation of the summed descriptors.

    Attributes:
        counts: atoms per element, (n_elements,); ∂Ê/∂β₀,e.
        sum_b: ΣB per element, (n_elements, K), dimensionless.
        force_rows: A_f = −∂ΣB/∂r, (N, 3, n_elements, K), in 1/Å.
        reference_energy: E_ref, eV.
        reference_forces: f_ref, (N, 3), eV/Å.
        stress_rows: A_s = ∂P/∂β, (6, n_elements, K) in bar/eV, Voigt order
            xx, yy, zz, yz, xz, xy.
        reference_stress: P_ref, (6,) in bar, the same order.
    """

    counts: np.ndarray
    sum_b: np.ndarray
    force_rows: np.ndarray
    reference_energy: float
    reference_forces: np.ndarray
    stress_rows: np.ndarray
    reference_stress: np.ndarray


@dataclass(frozen=True)
class SummedDescriptorValues:
    """Summed descriptors without derivatives: atoms per element, ΣB per element (n_elements, K) and E_ref in eV."""

    counts: np.ndarray
    sum_b: np.ndarray
    reference_energy: float


@dataclass(frozen=True)
class AtomDescriptors:
    """Per-atom descriptors and their derivatives at one set of positions.

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
class AtomDescriptorValues:
    """Per-atom descriptors B (N, K) and E_ref (eV), without derivatives."""

    descriptors: np.ndarray
    reference_energy: float
