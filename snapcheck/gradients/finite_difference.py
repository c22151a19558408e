"""The paper's estimate of ∇θL: a central difference along the force errors.

Eq. 6 writes the force-loss gradient as a directional derivative,

    ∇θL = −Σ_i g_i · ∂(∇θÊ)/∂r_i,

of the energy gradient ∇θÊ along the 3N-vector of force errors g = f̂ − f
(Eq. 4).  One central difference estimates it (Eqs. 7–8):

    ∇̃θL = −(∇θÊ[r₊] − ∇θÊ[r₋]) / (2η),      (r±)_i = r_i ± η g_i,

with r± held fixed in θ.  The error is O(η²) truncation plus round-off that
grows like 1/η.  The step η carries units of length per force, so the paper
factorises it (Eqs. 9–10) as

    η = ε a₀ / g₀,    a₀ = 1 Å,    g₀ = max_i |g_i|,

so that the largest displacement |r± − r| is exactly ε Å whatever the size of
the force errors: a single dimensionless ε serves trained and untrained models
alike.  Fixing g₀ instead (Fig. 2, g₀ = 1 eV/Å) lets the displacements shrink as
the model improves, and the best ε moves with the model.

Removing ∇θ from Eq. 7 gives an estimate of L itself that needs only energies
(Eqs. 12–13):

    L̃ = −(Ê[r₊] − Ê[r₋]) / (4η) − ½ Σ_i g_i · f_i,

a proxy whose error tracks that of ∇̃θL and can be measured in any code,
because L is always known.  Both error measures (Eqs. 11 and 14) take one L2
norm over all θ components and all configurations together.

When g = 0 the gradient is exactly zero and Eq. 10 gives g₀ = 0: no difference
is taken, the estimate is 0 (and L̃ = L = 0).

Floating-point precision: :func:`round_to_precision` emulates a code that
evaluates Ê and ∇θÊ in single precision by rounding the perturbed positions
and the returned values to float32.  The round-off term then grows like
u/ε with u ≈ 6e-8 instead of 1.1e-16, and balancing it against the ε²
truncation term puts the best ε near u^(1/3): about 5e-6 in float64 and 4e-3
in float32.
"""

from __future__ import annotations

import numpy as np

A0 = 1.0  # Å, the paper's characteristic length a₀ (Eq. 9)
PRECISIONS = ("float64", "float32")


def characteristic_force_error(errors: np.ndarray, g0: str | float = "max") -> float:
    """g₀ in eV/Å: ``max`` gives Eq. 10, max_i |g_i|; a number is used as given (Fig. 2)."""
    if g0 == "max":
        return float(np.sqrt(np.max(np.sum(errors * errors, axis=1))))
    value = float(g0)
    if not value > 0:
        raise ValueError(f"g0 must be 'max' or a positive force in eV/Å, not {g0!r}")
    return value


def step_size(epsilon: float, g0_value: float, a0: float = A0) -> float:
    """η = ε a₀ / g₀ (Eq. 9), in Å²/eV."""
    return epsilon * a0 / g0_value


def displaced_positions(positions: np.ndarray, errors: np.ndarray, eta: float) -> tuple[np.ndarray, np.ndarray]:
    """r± = r ± η g (Eq. 8), in Å."""
    displacement = eta * errors
    return positions + displacement, positions - displacement


def gradient_estimate(energy_gradient_plus: np.ndarray, energy_gradient_minus: np.ndarray, eta: float) -> np.ndarray:
    """∇̃θL = −(∇θÊ[r₊] − ∇θÊ[r₋]) / (2η) (Eq. 7)."""
    return -(energy_gradient_plus - energy_gradient_minus) / (2.0 * eta)


def loss_estimate(energy_plus: float, energy_minus: float, eta: float, errors: np.ndarray, reference_forces: np.ndarray) -> float:
    """L̃ = −(Ê[r₊] − Ê[r₋]) / (4η) − ½ Σ g·f (Eq. 13), in eV²/Å²; f are the DFT forces."""
    return -(energy_plus - energy_minus) / (4.0 * eta) - 0.5 * float(np.sum(errors * reference_forces))


def relative_error(estimate: np.ndarray, exact: np.ndarray) -> float:
    """|estimate − exact| / |exact| with one L2 norm over everything (Eqs. 11 and 14)."""
    return float(np.linalg.norm(np.ravel(estimate) - np.ravel(exact)) / np.linalg.norm(np.ravel(exact)))


def round_to_precision(values, precision: str):
    """Round to ``precision`` and back to float64 (identity for float64)."""
    if precision == "float64":
        return values
    if precision == "float32":
        return np.asarray(values, dtype=np.float32).astype(np.float64)
    raise ValueError(f"precision must be one of {PRECISIONS}, not {precision!r}")
