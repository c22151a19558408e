"""Naming what is wrong with a trainer's stress against σ = (1/V) ∂Ê/∂ε (eV/Å³, ASE's sign), and its report.

The candidate is compared configuration by configuration: an asymmetric result, another Voigt order
of the off-diagonal components, a strain that moves the cell but not the positions, or one scale s_c
per configuration looked up in :data:`snapcheck.gradients.diagnosis.STRESS_FACTORS` (a sign, a
virial given as a stress, a missing or extra 1/V, a division by N, a unit).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from snapcheck.gradients.checks import CheckReport, configurations
from snapcheck.gradients.diagnosis import STRESS_FACTORS, name_scales, per_configuration_scales, significant
from snapcheck.gradients.paper import relative_error_over

#: Permutations of the off-diagonal Voigt components (yz, xz, xy) that other codes use.
OFF_DIAGONAL = ((1, 2), (0, 2), (0, 1))


def _permuted(tensor: np.ndarray, order: Sequence[int]) -> np.ndarray:
    """``tensor`` with its off-diagonal components taken in another Voigt order."""
    out = tensor.copy()
    for (a, b), k in zip(OFF_DIAGONAL, order):
        c, d = OFF_DIAGONAL[k]
        out[a, b] = out[b, a] = tensor[c, d]
    return out


def describe_stress(
    candidates: Sequence[np.ndarray],
    references: Sequence[np.ndarray],
    cell_only: Sequence[np.ndarray],
    n_atoms: Sequence[int],
    volumes: Sequence[float],
    rtol: float,
) -> str | None:
    """None when the trainer's stresses equal σ = (1/V) ∂Ê/∂ε within ``rtol``, else a sentence naming the error.

    ``cell_only`` are (1/V) ∂Ê/∂ε with the positions held, what a strain of the cell alone gives.
    """
    error = relative_error_over(candidates, references)
    if error <= max(rtol, 1e-12):
        return None
    if relative_error_over(candidates, cell_only) <= max(10 * rtol, 1e-6) < relative_error_over(cell_only, references):
        return (
            "stress_fn strains the cell but not the positions: it equals (1/V) ∂Ê/∂ε with the atoms held at their "
            "Cartesian positions; apply the strain to the positions too, r → r(I + ε)ᵀ"
        )
    asymmetry = max(float(np.abs(c - c.T).max()) / max(float(np.abs(c).max()), 1e-300) for c in candidates)
    if asymmetry > max(10 * rtol, 1e-9):
        return (
            f"stress_fn returns an asymmetric stress (largest |σ − σᵀ| {asymmetry:.2e} of its largest component): "
            "a strain gradient taken through r(I + ε) on one side and (I + ε)r on the other, or a transposed tensor"
        )
    for order in ((2, 1, 0), (0, 2, 1), (1, 0, 2), (1, 2, 0), (2, 0, 1)):
        if relative_error_over(candidates, [_permuted(r, order) for r in references]) <= max(10 * rtol, 1e-9):
            names = ", ".join("xyz"[OFF_DIAGONAL[k][0]] + "xyz"[OFF_DIAGONAL[k][1]] for k in order)
            return f"stress_fn's off-diagonal components are in the Voigt order (…, {names}), not ASE's (…, yz, xz, xy)"
    used = significant(references)
    scales, residual = per_configuration_scales(
        [c for c, u in zip(candidates, used) if u], [r for r, u in zip(references, used) if u]
    )
    if residual <= max(10 * rtol, 1e-6):
        named = name_scales(
            scales,
            np.asarray(n_atoms)[used],
            tolerance=max(rtol, 1e-9),
            batch=n_atoms,
            volumes=np.asarray(volumes)[used],
            table=STRESS_FACTORS,
        )
        if named is not None:
            return f"stress_fn has {named}; σ = (1/V) ∂Ê/∂ε in eV/Å³ with ASE's sign (tensile positive) was due"
    return (
        f"stress_fn ≠ (1/V) ∂Ê/∂ε: relative error {error:.2e}; the stress code computes a different function than "
        "the energy (a term missing, another cell, the positions strained in part)"
    )


@dataclass(repr=False)
class StressReport(CheckReport):
    """What a stress check measured: the trainer's stress against σ = (1/V) ∂Ê/∂ε, and ``energy_fn`` against itself."""

    relative_error: float  # stress_fn against autograd's σ, in the model's dtype (NaN without stress_fn)
    difference_error: float  # autograd's σ against central differences over strained copies, relative
    step: float  # the strain step of the central difference
    rtol: float
    precision: str
    n_atoms: list[int]

    def __repr__(self) -> str:
        return (
            f"StressReport(passed={self.passed}, relative_error={self.relative_error:.3g}, "
            f"difference_error={self.difference_error:.3g})"
        )

    def __str__(self) -> str:
        lines = [
            self.verdict("stress OK"),
            f"stress_fn vs (1/V) ∂Ê/∂ε rel. error {self.relative_error:.2e}; autograd vs central differences over "
            f"strained copies {self.difference_error:.2e} (strain step {self.step:.0e}), rtol {self.rtol:g}, "
            f"{self.precision}, {configurations(self.n_atoms)}",
        ]
        return "\n".join(lines + self.warning_lines())
