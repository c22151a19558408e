"""A Morse pair potential in plain numpy: a second, LAMMPS-free model for the oracle.

It proves that snapcheck's gradient checks work for any model with the three
subroutines of Sec. II C (:mod:`snapcheck.models.protocol`), and, like the
linear SNAP model, its exact force-loss gradient is known in closed form.

With θ = (D, a, r₀) (eV, 1/Å, Å), a pair at distance r contributes

    φ(r) = D m(r) s(r),    m = x² − 2x,  x = e^{−a(r − r₀)},    s = (1 − (r/r_c)²)³,

zero beyond the cutoff r_c; s makes φ, φ′ and φ″ vanish at r_c, so that r±
may cross it without a jump.  Over the pairs (i, j) within r_c, periodic
images included, with d_ij = r_j − r_i + shift and r = |d_ij|:

    Ê = ½ Σ_{i,j} φ(r_ij),
    f̂_i = Σ_j φ′(r_ij) d_ij / r_ij,
    ∇θÊ = ½ Σ_{i,j} ∇θφ(r_ij),
    ∇θf̂_i = Σ_j ∇θφ′(r_ij) d_ij / r_ij,

and the exact gradient of Eq. 5 is ∇θL = Σ_i g_i · ∇θf̂_i.  The derivatives of
m are, with u = x(1 − x):

    ∂m/∂r = 2a u,   ∂m/∂a = 2(r − r₀) u,   ∂m/∂r₀ = −2a u,
    ∂²m/∂r∂a = 2u − 2a(r − r₀) x(1 − 2x),   ∂²m/∂r∂r₀ = 2a² x(1 − 2x).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from ase import Atoms
from ase.neighborlist import neighbor_list

from snapcheck.data.configuration import Configuration


@dataclass(frozen=True)
class PairTerms:
    """φ and its derivatives at an array of distances r (Å)."""

    phi: np.ndarray  # eV
    dphi_dr: np.ndarray  # eV/Å
    dphi_dtheta: np.ndarray  # (n, 3)
    d2phi_dr_dtheta: np.ndarray  # (n, 3)


@dataclass(frozen=True)
class Morse:
    """Morse pairs with a smooth cutoff; θ = (D eV, a 1/Å, r₀ Å), cutoff in Å."""

    theta: np.ndarray
    cutoff: float = 6.0

    def __post_init__(self) -> None:
        theta = np.array(self.theta, dtype=np.float64)
        if theta.shape != (3,):
            raise ValueError(f"Morse takes θ = (D, a, r0), got shape {theta.shape}")
        theta.flags.writeable = False
        object.__setattr__(self, "theta", theta)

    def pair_terms(self, r: np.ndarray) -> PairTerms:
        depth, width, r0 = self.theta
        x = np.exp(-width * (r - r0))
        u = x * (1.0 - x)
        m = x * x - 2.0 * x
        dm_dr = 2.0 * width * u
        q = 1.0 - (r / self.cutoff) ** 2
        s = q**3
        ds_dr = -6.0 * r / self.cutoff**2 * q**2
        dm_dtheta = np.stack([np.zeros_like(r), 2.0 * (r - r0) * u, -2.0 * width * u], axis=1)
        d2m_dr_dtheta = np.stack(
            [
                np.zeros_like(r),
                2.0 * u - 2.0 * width * (r - r0) * x * (1.0 - 2.0 * x),
                2.0 * width**2 * x * (1.0 - 2.0 * x),
            ],
            axis=1,
        )
        dphi_dtheta = depth * dm_dtheta * s[:, None]
        dphi_dtheta[:, 0] = m * s
        d2phi = depth * (d2m_dr_dtheta * s[:, None] + dm_dtheta * ds_dr[:, None])
        d2phi[:, 0] = dm_dr * s + m * ds_dr
        return PairTerms(
            phi=depth * m * s, dphi_dr=depth * (dm_dr * s + m * ds_dr), dphi_dtheta=dphi_dtheta, d2phi_dr_dtheta=d2phi
        )

    def _pairs(self, configuration: Configuration, positions: np.ndarray | None):
        atoms = Atoms(
            positions=configuration.positions if positions is None else positions,
            cell=configuration.cell,
            pbc=True,
        )
        first, distance, vector = neighbor_list("idD", atoms, self.cutoff)
        return first, distance, vector, self.pair_terms(distance)

    def energy(self, configuration: Configuration, positions: np.ndarray | None = None) -> float:
        _, _, _, terms = self._pairs(configuration, positions)
        return 0.5 * float(terms.phi.sum())

    def energy_gradient(self, configuration: Configuration, positions: np.ndarray | None = None) -> np.ndarray:
        _, _, _, terms = self._pairs(configuration, positions)
        return 0.5 * terms.dphi_dtheta.sum(axis=0)

    def forces(self, configuration: Configuration, positions: np.ndarray | None = None) -> np.ndarray:
        first, distance, vector, terms = self._pairs(configuration, positions)
        forces = np.zeros((configuration.n_atoms, 3))
        np.add.at(forces, first, (terms.dphi_dr / distance)[:, None] * vector)
        return forces

    def exact_force_loss_gradient(self, configuration: Configuration) -> np.ndarray:
        """∇θL = Σ_i g_i · ∇θf̂_i, analytic (eV²/Å² per unit of θ)."""
        first, distance, vector, terms = self._pairs(configuration, None)
        errors = self.forces(configuration) - configuration.forces
        along = np.einsum("pa,pa->p", errors[first], vector) / distance
        return terms.d2phi_dr_dtheta.T @ along
