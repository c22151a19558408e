"""The paper's estimate of ∇θL: a central difference along the direction the loss asks for (Sec. II C).

Eq. 6 writes the force-loss gradient as a directional derivative,

    ∇θL = −Σ_i g_i · ∂(∇θÊ)/∂r_i,

of the energy gradient ∇θÊ along the 3N-vector g = ∂L/∂f̂ (for the paper's
L = ½Σ|f̂ − f|², Eq. 2, the force errors g = f̂ − f of Eq. 4).  One central
difference estimates it (Eqs. 7–8):

    ∇̃θL = −(∇θÊ[r₊] − ∇θÊ[r₋]) / (2η),      (r±)_i = r_i ± η g_i,

with r± held fixed in θ.  The error is O(η²) truncation plus round-off that
grows like 1/η.  The step η carries units of length per force, so the paper
factorises it (Eqs. 9–10) as

    η = ε a₀ / g₀,    a₀ = 1 Å,    g₀ = max_i |g_i|,

so that the largest displacement |r± − r| is exactly ε Å whatever the size of
the force errors: a single dimensionless ε serves trained and untrained models
alike.  Fixing g₀ instead (Fig. 2, g₀ = 1 eV/Å) lets the displacements shrink as
the model improves, and the best ε moves with the model.

**The stress term rides on the same difference.**  With the predicted stress
σ̂ = (1/V) ∂Ê/∂ε (ε a homogeneous strain of the cell and the positions
together, ASE's sign) and H = (1/V) ∂L/∂σ̂, the θ-gradient of a loss over
forces and stress is one derivative along the path

    t ↦ ( (r − t g)(I + tH)ᵀ,  cell (I + tH)ᵀ ),      ∇θL_{f,σ} = d/dt ∇θÊ |_{t=0}

(rows are vectors; for H = 0 this is Eq. 6, and the stress part follows from
∇θσ̂ = (1/V) ∂(∇θÊ)/∂ε).  :class:`LossPath` is that path;
:func:`central_difference` differences ∇θÊ at t = ±η.  At t = +η the
positions are r − ηg, the paper's r₋, so the same numbers come out of the same
arithmetic as Eq. 7.  g₀ generalises Eq. 10 to the largest rate at which any
atom or lattice vector moves along the path, max(|H r_i − g_i|, |H a|), so
ε Å is still the largest displacement.

Removing ∇θ from the difference gives the derivative of Ê itself along the
path, D̃ = (Ê(η) − Ê(−η))/(2η), an estimate of D = Σ g·f̂ + V H:σ̂, which is
known exactly from the prediction.  For the paper's loss D = 2L + Σ g·f, and
D̃ gives the loss proxy of Eqs. 12–13,

    L̃ = −(Ê[r₊] − Ê[r₋]) / (4η) − ½ Σ_i g_i · f_i,

whose error tracks that of ∇̃θL and can be measured in any code, because L is
always known (Eq. 14).

When the direction is zero the gradient is exactly zero and Eq. 10 gives
g₀ = 0: no difference is taken.

The steps are composed in one place, :func:`central_difference`, which every
caller uses: the one :class:`~snapcheck.gradients.reference.Reference` behind
automatic ε, the checks and :func:`~snapcheck.gradients.reference.paper_force_loss_gradient`
(numpy and torch backends alike), the sweeps of Figs. 1 and 2
(:mod:`snapcheck.studies.sweep`) and the cost benchmark.  Training
(:mod:`snapcheck.studies.training`) takes r± and η from :func:`displacement`
and folds Eq. 7 into the seeds of one backward pass over a whole batch.

Floating-point precision: :func:`central_difference` rounds the displaced
positions (and cell) to float32 when asked (:func:`round_to_precision`); what
the evaluation itself loses in single precision is the caller's to emulate.
The round-off term then grows like u/ε with u ≈ 6e-8 instead of 1.1e-16, and
balancing it against the ε² truncation term puts the best ε near u^(1/3):
about 5e-6 in float64 and 4e-3 in float32.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
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


def gradient_estimate(energy_gradient_plus: np.ndarray, energy_gradient_minus: np.ndarray, eta: float) -> np.ndarray:
    """∇̃θL = −(∇θÊ[r₊] − ∇θÊ[r₋]) / (2η) (Eq. 7)."""
    return -(energy_gradient_plus - energy_gradient_minus) / (2.0 * eta)


def loss_estimate(directional: float, errors: np.ndarray, reference_forces: np.ndarray) -> float:
    """L̃ = D̃/2 − ½ Σ g·f = −(Ê[r₊] − Ê[r₋]) / (4η) − ½ Σ g·f (Eq. 13), in eV²/Å²; f are the DFT forces."""
    return directional / 2.0 - 0.5 * float(np.sum(errors * reference_forces))


def relative_error(estimate: np.ndarray, exact: np.ndarray) -> float:
    """|estimate − exact| / |exact| with one L2 norm over everything (Eqs. 11 and 14)."""
    return float(np.linalg.norm(np.ravel(estimate) - np.ravel(exact)) / np.linalg.norm(np.ravel(exact)))


def relative_error_over(estimates: Sequence[np.ndarray], exact: Sequence[np.ndarray]) -> float:
    """:func:`relative_error` over a set of arrays of different shapes (one per configuration); ∞ when every
    exact array is zero, so a nonzero estimate of nothing never passes."""
    size = math.sqrt(sum(float(np.sum(x**2)) for x in exact))
    difference = math.sqrt(sum(float(np.sum((e - x) ** 2)) for e, x in zip(estimates, exact)))
    return difference / size if size else math.inf


def round_to_precision(values, precision: str):
    """Round to ``precision`` and back to float64 (identity for float64)."""
    if precision == "float64":
        return values
    if precision == "float32":
        return np.asarray(values, dtype=np.float32).astype(np.float64)
    raise InputError(f"precision {precision!r}: expected one of {', '.join(PRECISIONS)}")


# -- the path and the four steps, composed once ------------------------------------------------------
@dataclass(frozen=True)
class LossPath:
    """The straight path through one configuration whose derivative is ∇θL (module docstring).

    Attributes:
        positions: r, (N, 3) in Å.
        g: ∂L/∂f̂, (N, 3) (for Eq. 2, the force errors f̂ − f in eV/Å).
        cell: the lattice vectors (rows), (3, 3) in Å; needed only with ``h``.
        h: (1/V) ∂L/∂σ̂, (3, 3), or None for a loss without a stress term.
    """

    positions: np.ndarray
    g: np.ndarray
    cell: np.ndarray | None = None
    h: np.ndarray | None = None

    def __post_init__(self) -> None:
        if self.h is not None and self.cell is None:
            raise ValueError("a path with a strain direction h needs the cell it strains")

    def is_zero(self) -> bool:
        return not np.any(self.g) and (self.h is None or not np.any(self.h))

    def speed(self) -> float:
        """g₀ of Eq. 10 generalised: the largest rate |d r_i/dt| of any atom or lattice vector at t = 0."""
        if self.h is None:
            return characteristic_force_error(self.g, "max")
        moving = self.positions @ self.h.T - self.g
        cell = np.asarray(self.cell)
        return float(
            max(np.sqrt(np.max(np.sum(moving**2, axis=1))), np.sqrt(np.max(np.sum((cell @ self.h.T) ** 2, 1))))
        )

    def at(self, t: float) -> tuple[np.ndarray, np.ndarray | None]:
        """Positions and cell at ``t``: ((r − t g)(I + tH)ᵀ, cell (I + tH)ᵀ)."""
        positions = self.positions - t * self.g
        if self.h is None:
            return positions, self.cell
        strain = np.eye(3) + t * self.h
        return positions @ strain.T, np.asarray(self.cell) @ strain.T


@dataclass(frozen=True)
class Displacement:
    """Steps 1–2: the step η (Å²/eV for forces) and the path's points at t = +η and t = −η.

    For a force-only path ``plus`` holds r − ηg and ``minus`` r + ηg: the paper's r₋ and r₊.
    """

    eta: float
    plus: tuple[np.ndarray, np.ndarray | None]
    minus: tuple[np.ndarray, np.ndarray | None]


def displacement(path: LossPath, epsilon: float, g0: str | float = "max") -> Displacement | None:
    """η (Eqs. 9–10) and the path's points at ±η; None when the direction is zero (then ∇θL = 0 exactly)."""
    if not (isinstance(epsilon, (int, float, np.floating)) and np.isfinite(epsilon) and epsilon > 0):
        raise InputError(f"ε = {epsilon!r}: the paper's ε (Eq. 9) must be a positive number")
    if path.is_zero():
        return None
    g0_value = path.speed() if g0 == "max" else characteristic_force_error(path.g, g0)
    eta = step_size(epsilon, g0_value)
    return Displacement(eta, path.at(eta), path.at(-eta))


@dataclass(frozen=True)
class Evaluation:
    """What a model returns at one set of positions: Ê (eV) and/or ∇θÊ (flat like θ); either is None if not needed."""

    energy: float | None
    energy_gradient: np.ndarray | None


@dataclass(frozen=True)
class CentralDifference:
    """The paper's estimates from one pair of evaluations at t = ±η.

    Attributes:
        eta: the step η (Å²/eV for forces).
        gradient: d/dt ∇θÊ ≈ (∇θÊ(η) − ∇θÊ(−η))/(2η), Eq. 7, flat like θ; None when ∇θÊ was not evaluated.
        directional: D̃ = (Ê(η) − Ê(−η))/(2η), the estimate of D = Σ g·f̂ + V H:σ̂ (Eqs. 12–13);
            None when Ê was not evaluated.
    """

    eta: float
    gradient: np.ndarray | None
    directional: float | None


def central_difference(
    evaluate: Callable[[np.ndarray, np.ndarray | None], Evaluation],
    path: LossPath,
    epsilon: float,
    g0: str | float = "max",
    precision: str = "float64",
) -> CentralDifference | None:
    """The paper's steps 2–4 (Eqs. 7–10) and the directional derivative of Ê (Eqs. 12–13) for one configuration.

    ``evaluate(positions, cell)`` returns Ê and/or ∇θÊ at a point of the path (held
    fixed in θ; ``cell`` is the path's, None for a force-only path without a cell).
    ``precision`` rounds the points to float32 to emulate a single-precision code
    (``evaluate`` rounds what it returns).  None when the direction is zero: then the
    derivative is 0 exactly.
    """
    step = displacement(path, epsilon, g0)
    if step is None:
        return None

    def rounded(point: tuple[np.ndarray, np.ndarray | None]) -> Evaluation:
        positions, cell = point
        return evaluate(
            round_to_precision(positions, precision), None if cell is None else round_to_precision(cell, precision)
        )

    plus, minus = rounded(step.plus), rounded(step.minus)
    gradient = None
    if plus.energy_gradient is not None and minus.energy_gradient is not None:
        gradient = gradient_estimate(minus.energy_gradient, plus.energy_gradient, step.eta)
    directional = None
    if plus.energy is not None and minus.energy is not None:
        directional = -(minus.energy - plus.energy) / (2.0 * step.eta)
    return CentralDifference(step.eta, gradient, directional)
