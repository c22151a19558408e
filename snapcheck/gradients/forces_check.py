"""The one force check: a trainer's forces against −∂Ê/∂r, by central differences of Ê and by autograd.

Along seeded random unit directions u (N × 3, one set per configuration) a central difference of
the energy,

    −(Ê[r + h u] − Ê[r − h u]) / (2h) = u · f̂ + O(h²),

checks the forces against the energy itself, with no autograd in between
(:func:`directional_derivatives`, :func:`directional_check`).  Where an autograd reference −∂Ê/∂r
exists (torch), the whole force arrays are compared too (:func:`compare_forces`).  Either comparison
fits one scale s_c per configuration, so a sign, a unit factor or a per-atom-mean energy
(s_c = 1/N_c) is named from the one table of :mod:`snapcheck.gradients.diagnosis`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from snapcheck.gradients.checks import CheckReport, configurations
from snapcheck.gradients.diagnosis import name_scales, per_configuration_scales, significant
from snapcheck.gradients.paper import relative_error_over


@dataclass(frozen=True)
class ForcesComparison:
    """A candidate against a reference, per configuration: s_c and the residual after it, and overall."""

    relative_error: float
    scales: np.ndarray  # s_c, over the significant configurations only (diagnosis.significant)
    residual: float
    candidate_norm: float
    used: np.ndarray  # which configurations the scales are of


def compare_forces(candidates: Sequence[np.ndarray], references: Sequence[np.ndarray]) -> ForcesComparison:
    """Candidate forces (or directional derivatives) against references, configuration by configuration."""
    used = significant(references)
    scales, residual = per_configuration_scales(
        [x for x, u in zip(candidates, used) if u], [r for r, u in zip(references, used) if u]
    )
    return ForcesComparison(
        relative_error_over(candidates, references),
        scales,
        residual,
        math.sqrt(sum(float(np.sum(x**2)) for x in candidates)),
        used,
    )


def describe_forces(comparison: ForcesComparison, rtol: float, n_atoms: Sequence[int], subject: str) -> str | None:
    """None when ``subject`` (e.g. ``forces_fn``) = −∂Ê/∂r within ``rtol``, else a sentence naming the error."""
    if comparison.relative_error <= max(rtol, 1e-12):
        return None
    if comparison.candidate_norm == 0.0:
        return (
            f"{subject} returns zero forces: the energy it differentiates is detached from the positions "
            "(positions.detach(), torch.no_grad(), a numpy round trip) or the gradient is replaced by zeros"
        )
    if comparison.residual <= max(10 * rtol, 1e-6):
        named = name_scales(
            comparison.scales, np.asarray(n_atoms)[comparison.used], tolerance=max(rtol, 1e-9), batch=n_atoms
        )
        if named is not None:
            hint = "; a unit or convention factor, or part of the geometry detached"
            if named.startswith("a sign error (factor"):
                hint = "; forces are −∂Ê/∂r, and torch.autograd.grad(Ê, r) gives +∂Ê/∂r"
            elif "per configuration" in named:
                hint = "; the forces of a per-atom mean energy Ê/N, not of Ê"
            return f"{subject} has {named} against −∂Ê/∂r{hint}"
    return (
        f"{subject} ≠ −∂Ê/∂r: relative error {comparison.relative_error:.2e}; the force code computes a different "
        "function than the energy (a term missing, other neighbours or cell, positions detached in part)"
    )


def directional_derivatives(
    energy: Callable[[np.ndarray], float],
    positions: np.ndarray,
    forces: np.ndarray,
    directions: int,
    step: float,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """−(Ê[r + hu] − Ê[r − hu])/(2h) and u·f̂ along ``directions`` random unit vectors u (module docstring)."""
    differences, projections = [], []
    for _ in range(directions):
        u = rng.standard_normal(positions.shape)
        u /= np.linalg.norm(u)
        differences.append(-(energy(positions + step * u) - energy(positions - step * u)) / (2 * step))
        projections.append(float(np.sum(forces * u)))
    return np.array(differences), np.array(projections)


#: eV/Å: the smallest force scale a directional error is measured against.  Sets of near-perfect crystals have
#: forces at round-off level, where the central difference's own round-off (∝ u·|Ê|/h) dominates; a force
#: bug worth naming moves forces by far more than this.
FORCE_SCALE_FLOOR = 1e-2


@dataclass(frozen=True)
class DirectionalCheck:
    """Central differences of Ê against u·f̂ per configuration, and the largest error relative to the set's scale."""

    differences: list[np.ndarray]
    projections: list[np.ndarray]
    error: float


def directional_check(
    cases: Iterable[tuple[Callable[[np.ndarray], float], np.ndarray, np.ndarray]],
    directions: int,
    step: float,
    seed: int,
) -> DirectionalCheck:
    """The one force check: for each (energy, positions, forces) the :func:`directional_derivatives`.

    The error is the largest |u·f̂ − FD| (eV/Å) over configurations and directions, divided by the set's force
    scale: the largest |FD| or ‖f̂‖ (a configuration's norm over its 3N components), at least
    :data:`FORCE_SCALE_FLOOR` eV/Å, so a perfect crystal's round-off forces set no scale.  A NaN or infinite
    energy or force makes the error infinite: it fails, never passes unseen.
    """
    rng = np.random.default_rng(seed)
    differences, projections, worst, scale = [], [], 0.0, FORCE_SCALE_FLOOR
    for energy, positions, forces in cases:
        fd, fn = directional_derivatives(energy, positions, forces, directions, step, rng)
        finite = np.all(np.isfinite(fd)) and np.all(np.isfinite(fn)) and np.all(np.isfinite(forces))
        worst = max(worst, float(np.max(np.abs(fn - fd))) if finite else math.inf)
        scale = max(scale, float(np.max(np.abs(fd))), float(np.linalg.norm(forces)))
        differences.append(fd)
        projections.append(fn)
    return DirectionalCheck(differences, projections, worst / scale)


@dataclass(repr=False)
class ForcesReport(CheckReport):
    """What a force check measured: the trainer's forces against −∂Ê/∂r and against central differences of Ê."""

    relative_error: float  # against −∂Ê/∂r by autograd when there is one, else against the central differences
    directional_error: float  # largest |u·f̂ − FD| over the set's force scale (directional_check)
    step: float  # Å
    rtol: float
    precision: str
    n_atoms: list[int]

    def __repr__(self) -> str:
        return (
            f"ForcesReport(passed={self.passed}, relative_error={self.relative_error:.3g}, "
            f"directional_error={self.directional_error:.3g})"
        )

    def __str__(self) -> str:
        lines = [
            self.verdict("forces OK"),
            f"forces vs −∂Ê/∂r rel. error {self.relative_error:.2e}, largest directional central-difference error "
            f"{self.directional_error:.2e} (step {self.step:.0e} Å), rtol {self.rtol:g}, {self.precision}, "
            f"{configurations(self.n_atoms)}",
        ]
        return "\n".join(lines + self.warning_lines())
