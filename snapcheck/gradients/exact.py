"""The exact force loss and its θ-gradient for the linear SNAP model.

For one configuration the paper's force loss (Eq. 2) is

    L = ½ Σ_i |g_i|²,    g_i = f̂_i − f_i  (Eq. 4),

and by Eq. 5, ∇θL = Σ_i g_i · ∇θ f̂_i.  For the linear model f̂ = Σ_e A_f,e β_e
+ f_ref, so ∇_{β_e} f̂ = A_f,e and ∇_{β₀,e} f̂ = 0:

    ∇_{β_e} L = A_f,eᵀ g,        ∇_{β₀,e} L = 0.

This is the closed form that makes the linear model an oracle: it has no
finite-difference error, only the round-off of one matrix–vector product.

Over a dataset, L_force = ⟨L⟩ and ∇θL_force = ⟨∇θL⟩ (Eq. 1).  The error
measures of Eqs. 11 and 14 instead take one L2 norm over all θ components and
all configurations at once, so per-configuration values are kept and stacked,
never averaged first.

Units: L in eV²/Å²; ∇θL in eV/Å² (θ is in eV).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from snapcheck.data.configuration import Configuration
from snapcheck.descriptors.lammps_engine import SnapDescriptors

if TYPE_CHECKING:
    from snapcheck.models.linear_snap import LinearSnap


@dataclass(frozen=True)
class ForceLoss:
    """The force loss of one configuration.

    Attributes:
        loss: L = ½ Σ|g_i|², eV²/Å².
        gradient: ∇θL, flat like θ, eV/Å².
        forces: the predicted forces f̂, (N, 3), eV/Å.
        errors: the force errors g = f̂ − f, (N, 3), eV/Å.
    """

    loss: float
    gradient: np.ndarray
    forces: np.ndarray
    errors: np.ndarray


def exact_force_loss(model: LinearSnap, configuration: Configuration, descriptors: SnapDescriptors) -> ForceLoss:
    """L (Eq. 2) and its exact gradient A_fᵀ g for one configuration."""
    forces = model.forces(descriptors)
    errors = forces - configuration.forces
    gradient = np.zeros_like(model.coefficients)
    gradient[:, 1:] = np.einsum("iaek,ia->ek", descriptors.force_rows, errors)
    return ForceLoss(
        loss=0.5 * float(np.sum(errors * errors)),
        gradient=gradient.ravel(),
        forces=forces,
        errors=errors,
    )


@dataclass(frozen=True)
class DatasetForceLoss:
    """Eq. 1's force term over a dataset: the averages ⟨L⟩ and ⟨∇θL⟩, and the
    per-configuration values they came from (``losses`` (M,), ``gradients`` (M, P))."""

    loss: float
    gradient: np.ndarray
    losses: np.ndarray
    gradients: np.ndarray


def dataset_force_loss(per_configuration: list[ForceLoss]) -> DatasetForceLoss:
    losses = np.array([item.loss for item in per_configuration])
    gradients = np.stack([item.gradient for item in per_configuration])
    return DatasetForceLoss(loss=float(losses.mean()), gradient=gradients.mean(axis=0), losses=losses, gradients=gradients)
