"""The paper's estimate of ∇θL: a central difference along the force errors (Sec. II C).

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

The four steps are composed in one place, :func:`central_difference`, which
every caller uses: :func:`paper_force_loss_gradient` for any model of
:mod:`snapcheck.models.protocol`, the ε sweeps of Figs. 1 and 2
(:mod:`snapcheck.studies.sweep`, which evaluate Ê and ∇θÊ together from one
LAMMPS evaluation), the automatic choice of ε
(:mod:`snapcheck.gradients.epsilon`) and the cost benchmark.  Training
(:mod:`snapcheck.studies.training`) takes r± and η from :func:`displacement`
and folds Eq. 7 into the seeds of one backward pass over a whole batch.

Floating-point precision: :func:`central_difference` rounds the perturbed
positions r± to float32 when asked (:func:`round_to_precision`); what the
evaluation itself loses in single precision is the caller's to emulate (the
sweep of Figs. 1–2 stores descriptors and sums them in float32,
:func:`snapcheck.studies.sweep.float32_evaluation`; ε selection rounds the
returned energies).  The round-off term then grows like
u/ε with u ≈ 6e-8 instead of 1.1e-16, and balancing it against the ε²
truncation term puts the best ε near u^(1/3): about 5e-6 in float64 and 4e-3
in float32.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from snapcheck.base.errors import InputError

A0 = 1.0  # Å, the paper's characteristic length a₀ (Eq. 9)
PRECISIONS = ("float64", "float32")


def characteristic_force_error(errors: np.ndarray, g0: str | float = "max") -> float:
    """g₀ in eV/Å: ``max`` gives Eq. 10, max_i |g_i|; a number is used as given (Fig. 2)."""
    if g0 == "max":
        return float(np.sqrt(np.max(np.sum(errors * errors, axis=1))))
    value = float(g0)
    if not value > 0:
        raise InputError(f"g0 = {g0!r}: expected 'max' (Eq. 10) or a positive force in eV/Å")
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


def loss_estimate(
    energy_plus: float, energy_minus: float, eta: float, errors: np.ndarray, reference_forces: np.ndarray
) -> float:
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
    raise InputError(f"precision {precision!r}: expected one of {', '.join(PRECISIONS)}")


# -- the four steps, composed once ------------------------------------------------
@dataclass(frozen=True)
class Displacement:
    """Steps 1–2: the step η = ε a₀/g₀ (Å²/eV) and the displaced positions r± = r ± ηg (Å)."""

    eta: float
    plus: np.ndarray
    minus: np.ndarray


def displacement(
    positions: np.ndarray, errors: np.ndarray, epsilon: float, g0: str | float = "max"
) -> Displacement | None:
    """η (Eqs. 9–10) and r± (Eq. 8) for force errors g; None when g = 0 (then ∇θL = 0 exactly)."""
    if not (isinstance(epsilon, (int, float, np.floating)) and np.isfinite(epsilon) and epsilon > 0):
        raise InputError(f"ε = {epsilon!r}: the paper's ε (Eq. 9) must be a positive number")
    if not np.any(errors):
        return None
    eta = step_size(epsilon, characteristic_force_error(errors, g0))
    plus, minus = displaced_positions(positions, errors, eta)
    return Displacement(eta, plus, minus)


@dataclass(frozen=True)
class Evaluation:
    """What a model returns at one set of positions: Ê (eV) and/or ∇θÊ (flat like θ); either may be None if not needed."""

    energy: float | None
    energy_gradient: np.ndarray | None


@dataclass(frozen=True)
class CentralDifference:
    """The paper's estimates from one pair of evaluations at r±.

    Attributes:
        eta: the step η, Å²/eV (0 when g = 0).
        gradient: ∇̃θL (Eq. 7), flat like θ, or None when ∇θÊ was not evaluated.
        loss: L̃ (Eq. 13), eV²/Å², or None when Ê was not evaluated.
    """

    eta: float
    gradient: np.ndarray | None
    loss: float | None


def central_difference(
    evaluate: Callable[[np.ndarray], Evaluation],
    positions: np.ndarray,
    errors: np.ndarray,
    reference_forces: np.ndarray,
    epsilon: float,
    g0: str | float = "max",
    precision: str = "float64",
) -> CentralDifference | None:
    """The paper's steps 2–4 (Eqs. 7–10) and the loss proxy (Eq. 13) for one configuration.

    ``evaluate(positions)`` returns Ê and/or ∇θÊ at displaced positions (held
    fixed in θ); ``errors`` are g = f̂ − f at ``positions`` (step 1, the
    caller's forces) and ``reference_forces`` the DFT f.  ``precision``
    rounds r± to float32 to emulate a single-precision code (``evaluate`` rounds
    what it returns).  None when g = 0: then ∇θL = 0 and L = 0 exactly.
    """
    step = displacement(positions, errors, epsilon, g0)
    if step is None:
        return None
    plus = evaluate(round_to_precision(step.plus, precision))
    minus = evaluate(round_to_precision(step.minus, precision))
    gradient = (
        None
        if plus.energy_gradient is None
        else gradient_estimate(plus.energy_gradient, minus.energy_gradient, step.eta)
    )
    loss = None if plus.energy is None else loss_estimate(plus.energy, minus.energy, step.eta, errors, reference_forces)
    return CentralDifference(step.eta, gradient, loss)


def paper_force_loss_gradient(model, configuration, epsilon: float = 1e-5, g0: str | float = "max") -> np.ndarray:
    """∇̃θL (Eq. 7) for one configuration of a model with the three subroutines of Sec. II C.

    The model (:mod:`snapcheck.models.protocol`) is seen only through f̂ at the
    configuration and ∇θÊ at r±: this shares no code with any model's exact
    gradient, so the two can check each other.
    """
    errors = model.forces(configuration, configuration.positions) - configuration.forces
    estimate = central_difference(
        lambda positions: Evaluation(None, model.energy_gradient(configuration, positions)),
        configuration.positions,
        errors,
        configuration.forces,
        epsilon,
        g0,
    )
    return np.zeros_like(np.asarray(model.theta, dtype=float)) if estimate is None else estimate.gradient
