"""The paper's four steps (Sec. II C) for any energy model, and automatic ε.

For a model with the three subroutines of :mod:`snapcheck.models.protocol`:

1. f̂ and g = f̂ − f at the configuration (Eq. 4);
2. r± = r ± ηg with η = ε a₀/g₀ (Eqs. 8–10);
3. ∇θÊ[r₊] and ∇θÊ[r₋];
4. ∇̃θL = −(∇θÊ[r₊] − ∇θÊ[r₋])/(2η) (Eq. 7).

:func:`fd_force_loss_gradient` returns the estimate of the gradient of the
whole loss of Eq. 1 over a set of configurations,

    ∇θℒ = c₁ ⟨(Ê − E) ∇θÊ⟩ + c₂ ⟨∇̃θL⟩,

the energy term by ordinary (first) differentiation, the force term by Eq. 7
(no regulariser: ℒ_reg is the trainer's own business).

:func:`select_epsilon` is the paper's recommendation (Sec. III C): choose ε
to minimise the proxy Err[L̃] of Eq. 14, which needs only energies and the
known loss L, never the exact gradient.  ``epsilon="auto"`` does that first.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from snapcheck.data.configuration import Configuration
from snapcheck.gradients.finite_difference import (
    characteristic_force_error,
    displaced_positions,
    gradient_estimate,
    loss_estimate,
    relative_error,
    round_to_precision,
    step_size,
)
from snapcheck.models.protocol import check_model

#: The grid ``select_epsilon`` searches by default: 10⁻¹⁰ … 10⁻¹ in half-decades.
SELECTION_GRID = tuple(10.0 ** (np.arange(-20, -1) / 2))


@dataclass(frozen=True)
class EpsilonSelection:
    """ε* and the proxy curve it was read from (``epsilon``, ``err_loss`` columns)."""

    epsilon: float
    curve: pd.DataFrame


def select_epsilon(
    model,
    configurations: Sequence[Configuration],
    grid: Sequence[float] = SELECTION_GRID,
    g0: str | float = "max",
    precision: str = "float64",
) -> EpsilonSelection:
    """ε minimising Err[L̃] (Eq. 14) over ``grid``.

    ``precision="float32"`` emulates a single-precision energy code: r± and the
    returned energies are rounded to float32.
    """
    check_model(model)
    losses, estimates = [], []
    for configuration in configurations:
        errors = model.forces(configuration, configuration.positions) - configuration.forces
        losses.append(0.5 * float(np.sum(errors * errors)))
        if not np.any(errors):
            estimates.append(np.zeros(len(grid)))
            continue
        g0_value = characteristic_force_error(errors, g0)
        row = []
        for epsilon in grid:
            eta = step_size(epsilon, g0_value)
            plus, minus = (round_to_precision(p, precision) for p in displaced_positions(configuration.positions, errors, eta))
            energy_plus = float(round_to_precision(model.energy(configuration, plus), precision))
            energy_minus = float(round_to_precision(model.energy(configuration, minus), precision))
            row.append(loss_estimate(energy_plus, energy_minus, eta, errors, configuration.forces))
        estimates.append(np.array(row))
    losses, estimates = np.array(losses), np.array(estimates)
    err_loss = [relative_error(estimates[:, k], losses) for k in range(len(grid))]
    curve = pd.DataFrame({"epsilon": list(grid), "err_loss": err_loss})
    return EpsilonSelection(epsilon=float(curve.loc[curve["err_loss"].idxmin(), "epsilon"]), curve=curve)


@dataclass(frozen=True)
class LossGradient:
    """The estimate of ∇θℒ (Eq. 1) over a set of configurations.

    Attributes:
        gradient: c₁⟨(Ê − E)∇θÊ⟩ + c₂⟨∇̃θL⟩, flat like θ.
        loss: c₁ ℒ_energy + c₂ ℒ_force (eV², eV²/Å² weighted by c₁, c₂).
        force_gradients: ∇̃θL per configuration, (M, P).
        force_losses: L per configuration, (M,), eV²/Å².
        epsilon: the ε used (the selected one when ``epsilon="auto"``).
        n_zero_g: configurations with g = 0, whose ∇θL is exactly 0.
    """

    gradient: np.ndarray
    loss: float
    force_gradients: np.ndarray
    force_losses: np.ndarray
    epsilon: float
    n_zero_g: int


def fd_force_loss_gradient(
    model,
    configurations: Sequence[Configuration],
    epsilon: float | str = 1e-5,
    g0: str | float = "max",
    energy_weight: float = 1.0,
    force_weight: float = 1.0,
) -> LossGradient:
    """The paper's estimate of ∇θ(c₁ℒ_energy + c₂ℒ_force), dataset-averaged (Eq. 1)."""
    check_model(model)
    if not configurations:
        raise ValueError("no configurations given")
    if epsilon == "auto":
        epsilon = select_epsilon(model, configurations, g0=g0).epsilon
    elif not (isinstance(epsilon, (int, float)) and epsilon > 0):
        raise ValueError(f"epsilon must be a positive number or 'auto', not {epsilon!r}")
    energy_terms, force_gradients, force_losses, energy_losses = [], [], [], []
    n_zero = 0
    for configuration in configurations:
        positions = configuration.positions
        residual = model.energy(configuration, positions) - configuration.energy
        energy_losses.append(0.5 * residual**2)
        energy_terms.append(residual * model.energy_gradient(configuration, positions))
        errors = model.forces(configuration, positions) - configuration.forces
        force_losses.append(0.5 * float(np.sum(errors * errors)))
        if not np.any(errors):
            n_zero += 1
            force_gradients.append(np.zeros_like(energy_terms[-1]))
            continue
        eta = step_size(epsilon, characteristic_force_error(errors, g0))
        plus, minus = displaced_positions(positions, errors, eta)
        force_gradients.append(gradient_estimate(model.energy_gradient(configuration, plus), model.energy_gradient(configuration, minus), eta))
    force_gradients = np.array(force_gradients)
    return LossGradient(
        gradient=energy_weight * np.mean(energy_terms, axis=0) + force_weight * force_gradients.mean(axis=0),
        loss=energy_weight * float(np.mean(energy_losses)) + force_weight * float(np.mean(force_losses)),
        force_gradients=force_gradients,
        force_losses=np.array(force_losses),
        epsilon=float(epsilon),
        n_zero_g=n_zero,
    )
