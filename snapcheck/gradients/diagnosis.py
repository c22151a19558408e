"""Naming the likely bug when a candidate force-loss gradient disagrees with the reference.

Three bugs account for most wrong force-training gradients in practice:

* **all zero**: the forces were taken without ``create_graph=True`` (PyTorch)
  or otherwise detached, so the force loss does not depend on θ at all;
* **wrong sign**: g = f − f̂ where f̂ − f was due, or f̂ = +∂Ê/∂r; the relative
  error is then ≈ 2;
* **a constant factor**: a missing or extra ½ in L = ½Σ|g|² (factor 2 or ½),
  or a mean taken where the sum of Eq. 2 was due (a factor 1/N per
  configuration for a mean over atoms, 1/(3N) for one over force components).

:func:`diagnose` fits each configuration's candidate gradient c_k to its
reference r_k by one scale s_k = ⟨c_k, r_k⟩/⟨r_k, r_k⟩ and names the pattern
of the s_k when the fit leaves little residual.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

RESIDUAL_TOLERANCE = 1e-3  # a scale "explains" a candidate when |c − s r| ≤ this · |r|
SCALE_TOLERANCE = 1e-2  # relative tolerance when recognising a scale


def diagnose(candidates: np.ndarray, references: np.ndarray, n_atoms: Sequence[int]) -> str | None:
    """A sentence naming the likely bug, or None when no known pattern fits.

    ``candidates`` and ``references`` are (M, P): one gradient per configuration.
    """
    candidates, references = np.asarray(candidates, float), np.asarray(references, float)
    if not np.any(references):
        return None
    if not np.any(candidates):
        return "the gradient is all zero: the forces were probably computed without create_graph=True (or detached), so the force loss does not depend on θ"
    norms = np.linalg.norm(references, axis=1)
    # Configurations whose reference is at round-off level (perfect crystals) say nothing.
    used = norms > 1e-8 * norms.max()
    scales = np.einsum("kp,kp->k", candidates[used], references[used]) / norms[used] ** 2
    residual = np.linalg.norm(candidates[used] - scales[:, None] * references[used], axis=1)
    if np.any(residual > RESIDUAL_TOLERANCE * norms[used]):
        return None
    atoms = np.asarray(n_atoms, float)[used]

    def constant(values: np.ndarray) -> float | None:
        mean = float(np.mean(values))
        return mean if np.allclose(values, mean, rtol=SCALE_TOLERANCE) else None

    scale = constant(scales)
    if scale is not None:
        if np.isclose(scale, 1.0, rtol=SCALE_TOLERANCE):
            return None
        if np.isclose(scale, -1.0, rtol=SCALE_TOLERANCE):
            return "the gradient has the wrong sign (relative error ≈ 2): check g = f̂ − f and f̂ = −∂Ê/∂r"
        if np.isclose(scale, 0.5, rtol=SCALE_TOLERANCE):
            return "the gradient is half the reference: an extra ½ (the loss is ½ Σ|g|², whose gradient carries no ½)"
        if np.isclose(scale, 2.0, rtol=SCALE_TOLERANCE):
            return "the gradient is twice the reference: a missing ½ in L = ½ Σ|g|²"
        return f"the gradient is off by the constant factor {scale:.6g}"
    if np.isclose(constant(scales * atoms) or 0.0, 1.0, rtol=SCALE_TOLERANCE):
        return (
            "the gradient is off by a factor 1/N per configuration: a mean over atoms taken where Eq. 2's sum was due"
        )
    if np.isclose(constant(scales * 3 * atoms) or 0.0, 1.0, rtol=SCALE_TOLERANCE):
        return "the gradient is off by a factor 1/(3N) per configuration: a mean over force components taken where Eq. 2's sum was due"
    return None
