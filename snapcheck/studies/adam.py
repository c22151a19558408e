"""Adam (Kingma and Ba), the optimiser of Table I's training, on a flat θ in numpy.

m ← β₁m + (1 − β₁)∇, v ← β₂v + (1 − β₂)∇², θ ← θ − α m̂/(√v̂ + 10⁻⁸) with
the bias corrections m̂ = m/(1 − β₁ᵗ), v̂ = v/(1 − β₂ᵗ), β₁ = 0.9, β₂ = 0.999.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

ADAM_BETAS = (0.9, 0.999)
ADAM_EPSILON = 1e-8


@dataclass(frozen=True)
class AdamState:
    first: np.ndarray
    second: np.ndarray
    step: int = 0


def adam_step(
    theta: np.ndarray, gradient: np.ndarray, state: AdamState, learning_rate: float
) -> tuple[np.ndarray, AdamState]:
    """One Adam update (Kingma and Ba) with bias correction."""
    beta1, beta2 = ADAM_BETAS
    step = state.step + 1
    first = beta1 * state.first + (1 - beta1) * gradient
    second = beta2 * state.second + (1 - beta2) * gradient * gradient
    update = (first / (1 - beta1**step)) / (np.sqrt(second / (1 - beta2**step)) + ADAM_EPSILON)
    return theta - learning_rate * update, AdamState(first, second, step)
