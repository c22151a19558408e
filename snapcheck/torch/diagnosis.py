"""Naming what is wrong when a trainer's forces or force-loss gradient disagree with the reference.

The bug classes real trainers shipped, in the order they are looked for:

1. **forces ≠ −∂Ê/∂r** (the trainer's ``forces_fn`` against autograd's −∂Ê/∂r of ``energy_fn``,
   per configuration): all zero (positions detached), ratio −1 (sign), a constant factor, a factor
   1/N or 1/(3N) per configuration (forces of a per-atom mean energy), or otherwise different;
2. **zero gradient**: the predicted forces carry no graph to θ (``create_graph=False``, detached);
3. **missing gradient**: named parameter tensors that the force loss depends on receive none;
4. the gradient against the reference, classified by
   :func:`snapcheck.gradients.diagnosis.diagnose` (sign, ½, 2, a constant factor), with the
   factor named against the usual reductions (2/(3N) for ``mse_loss`` where ½Σ was specified);
5. a **float32 precision limit**: a low-precision trainer whose gradient is parallel to the
   reference but misses an rtol tighter than its round-off;
6. parameter tensors that never enter Ê at all (unused modules).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from snapcheck.gradients.diagnosis import diagnose
from snapcheck.torch.reference import LOW_PRECISION, energy_and_forces, model_device, model_dtype, positions_tensor

#: Factors a trainer's gradient is commonly off by, as functions of (atoms N, configurations M).
FACTORS: dict[str, Callable[[int, int], float]] = {
    "1/(3N) (a mean over force components where a sum was due)": lambda n, m: 1.0 / (3 * n),
    "2/(3N) (mse_loss, mean((f̂−f)²), where ½Σ|f̂−f|² was due)": lambda n, m: 2.0 / (3 * n),
    "2 (Σ|f̂−f|² where ½Σ|f̂−f|² was due)": lambda n, m: 2.0,
    "1/2 (an extra ½)": lambda n, m: 0.5,
    "1/N (a mean over atoms)": lambda n, m: 1.0 / n,
    "1/M (a mean over configurations)": lambda n, m: 1.0 / m,
    "2/N": lambda n, m: 2.0 / n,
}


def name_factor(ratio: float, n_atoms: int, n_configurations: int) -> str | None:
    """The entry of :data:`FACTORS` within 2 % of ``ratio``, or None."""
    best, error = None, math.inf
    for name, factor in FACTORS.items():
        value = factor(n_atoms, n_configurations)
        if abs(ratio - value) / value < error:
            best, error = name, abs(ratio - value) / value
    return best if error < 0.02 else None


# -- forces --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ForcesComparison:
    """``forces_fn`` against −∂Ê/∂r over all configurations, in the model's dtype."""

    relative_error: float
    ratio: float  # least-squares ⟨f, f_ref⟩/⟨f_ref, f_ref⟩
    has_graph: bool  # the forces carry a graph (to θ or r)
    norm: float  # |forces_fn|
    per_configuration: list  # (N, ratio, relative residual after the ratio)


def compare_forces(model, energy_fn: Callable, atoms_list, forces_fn: Callable) -> ForcesComparison:
    dtype, device = model_dtype(model), model_device(model)
    diff2 = ref2 = dot = test2 = 0.0
    has_graph, per_configuration = True, []
    for atoms in atoms_list:
        _, reference = energy_and_forces(model, energy_fn, atoms)
        reference = np.zeros((len(atoms), 3)) if reference is None else reference
        forces = forces_fn(model, atoms, positions_tensor(atoms, dtype, device, requires_grad=True))
        if not torch.is_tensor(forces) or tuple(forces.shape) != (len(atoms), 3):
            raise TypeError(
                f"forces_fn must return an ({len(atoms)}, 3) tensor of forces in eV/Å, got "
                f"{type(forces).__name__} of shape {tuple(getattr(forces, 'shape', ()))}"
            )
        has_graph &= bool(forces.requires_grad)
        forces = forces.detach().double().cpu().numpy()
        r2, d = float(np.sum(reference**2)), float(np.sum(forces * reference))
        ratio = d / r2 if r2 else 0.0
        residual = float(np.sum((forces - ratio * reference) ** 2))
        per_configuration.append((len(atoms), ratio, math.sqrt(residual / r2) if r2 else 0.0))
        diff2 += float(np.sum((forces - reference) ** 2))
        ref2, dot, test2 = ref2 + r2, dot + d, test2 + float(np.sum(forces**2))
    return ForcesComparison(
        math.sqrt(diff2 / ref2) if ref2 else math.inf,
        dot / ref2 if ref2 else 0.0,
        has_graph,
        math.sqrt(test2),
        per_configuration,
    )


def describe_forces(comparison: ForcesComparison, rtol: float) -> str | None:
    """None when ``forces_fn`` = −∂Ê/∂r within ``rtol``, else a sentence naming the class of error."""
    if comparison.relative_error <= max(rtol, 1e-12):
        return None
    if comparison.norm == 0.0:
        return (
            "forces_fn returns zero forces: the energy it differentiates is detached from the positions "
            "(positions.detach(), torch.no_grad(), a numpy round trip) or the gradient is replaced by zeros"
        )
    per = comparison.per_configuration
    if all(residual < max(10 * rtol, 1e-6) for _, _, residual in per):
        ratios = np.array([r for _, r, _ in per])
        counts = np.array([n for n, _, _ in per], dtype=float)
        if np.allclose(ratios, -1.0, rtol=max(rtol, 1e-6) * 10):
            return "sign error: forces_fn returns +∂Ê/∂r; forces must be −∂Ê/∂r (torch.autograd.grad gives +∂Ê/∂r)"
        sign = "sign error and " if ratios.mean() < 0 else ""
        if np.allclose(ratios, ratios[0], rtol=1e-3):
            named = name_factor(abs(ratios[0]), int(counts.sum()), len(per))
            return (
                f"{sign}constant factor: forces_fn = {ratios[0]:.6g} × (−∂Ê/∂r){' = ' + named if named else ''}; "
                "a unit or convention factor, or part of the geometry detached (one side of r_ij = r_j − r_i)"
            )
        for label, scale in (("1/N", counts), ("1/(3N)", 3 * counts)):
            if np.allclose(np.abs(ratios) * scale, 1.0, rtol=1e-3):
                listing = ", ".join(f"{r:.6g} (N = {int(n)})" for r, n in zip(ratios, counts))
                return (
                    f"{sign}constant factor per configuration: forces_fn = {label} × (−∂Ê/∂r): {listing}; "
                    "the forces are derivatives of a per-atom mean energy Ê/N, not of Ê"
                )
        listing = ", ".join(f"{r:.4g}" for r in ratios)
        return f"{sign}forces_fn is proportional to −∂Ê/∂r with factors that vary by configuration: {listing}"
    return (
        f"forces_fn ≠ −∂Ê/∂r of energy_fn: relative error {comparison.relative_error:.2e} (best ratio "
        f"{comparison.ratio:.4g}); the trainer's force code computes a different function (a term missing, "
        "other neighbours or cell, positions detached in part)"
    )


# -- the gradient --------------------------------------------------------------------------------------
def cosine_and_ratio(test: np.ndarray, reference: np.ndarray) -> tuple[float, float]:
    """cos(test, reference) and the least-squares ratio ⟨test, ref⟩/⟨ref, ref⟩."""
    tt, rr, tr = float(test @ test), float(reference @ reference), float(test @ reference)
    return (tr / math.sqrt(tt * rr) if tt > 0 and rr > 0 else 0.0), (tr / rr if rr > 0 else 0.0)


def describe_gradient(
    test: np.ndarray, reference: np.ndarray, worst: float, rtol: float, dtype, n_atoms: int, n_configurations: int
) -> str:
    """A sentence for a gradient that misses ``rtol`` (largest per-tensor relative error ``worst``)."""
    cosine, ratio = cosine_and_ratio(test, reference)
    likely = diagnose(test[None], reference[None], [n_atoms])
    likely = f"; {likely}" if likely else ""
    if cosine < -0.999:
        return f"sign error: the trainer's gradient is {ratio:.6g} × the reference (cosine {cosine:.6f}){likely}"
    if cosine > 0.999 and abs(ratio - 1.0) > max(10 * rtol, 1e-3):
        named = name_factor(ratio, n_atoms, n_configurations)
        return (
            f"constant factor: the trainer's gradient is {ratio:.6g} × the reference{' = ' + named if named else ''} "
            f"(N = {n_atoms} atoms, {n_configurations} configurations; cosine {cosine:.8f}){likely}"
        )
    if dtype in LOW_PRECISION and worst < 3e-3 and cosine > 0.9999:
        return (
            f"float32 precision limit: largest relative error {worst:.2e} exceeds rtol {rtol:g} but is the size of "
            f"{dtype} round-off (cosine {cosine:.8f}); check a float64 copy of the model, or loosen rtol"
        )
    return f"the gradient differs from −Σ g·∂(∇θÊ)/∂r (overall ratio {ratio:.4g}, cosine {cosine:.6f})"
