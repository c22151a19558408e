"""The one ε grid, the proxies of the estimate's error, and the one rule that picks ε from a proxy (Sec. III C).

The paper's recommendation: choose ε to minimise the proxy Err[L̃] of Eq. 14,
which needs only energies and the known loss L, never the exact gradient.  Its
error tracks that of ∇̃θL (Figs. 1 and 2), so the ε it picks is close to the one
that minimises the true error.

Two proxies, one curve each over :data:`EPSILON_GRID` (the paper's range,
10⁻¹² … 10⁻¹ in half-decades, 23 values):

* **energy** (:func:`energy_proxy`, Eqs. 12–14): the derivative of Ê along the
  path, D̃ = (Ê(η) − Ê(−η))/(2η), against D = Σ g·f̂ + V H:σ̂, known exactly
  from the prediction.  For the paper's loss L̃ − L = (D̃ − D)/2, so
  ‖D̃ − D‖/(2‖L‖) over the configurations *is* Err[L̃] of Eq. 14; for any other
  loss ‖D̃ − D‖/‖D‖.  It needs energies accurate to well below η·D: float64.
* **gradient** (:func:`gradient_proxy`): self-consistency of the estimate,
  ‖∇̃L(ε_k) − ∇̃L(ε_{k+1})‖/‖∇̃L(ε_k)‖.  A constant energy offset, which in
  float32 drowns the energy proxy (Ê ≈ 1e4 eV rounds to ~1e-3 eV), cancels
  exactly in ∇θÊ, so this proxy still sees the truncation–round-off valley.

**The rule** (:func:`choose_epsilon`) reads ε off a proxy curve.  ``argmin``
takes the smallest value.  ``smoothed``, the default, takes the smallest
running maximum over each grid point and its two neighbours: round-off makes
the proxy noisy at small ε, and one lucky cancellation can dip far below the
true error (FitSNAP, float32 forces: 3.8e-7 at ε = 1e-9 on a plateau of 1.4e-6,
where the plain argmin gave an 8× worse gradient); requiring the neighbours to
be small picks the middle of the valley.  The two rules are measured against
the exact gradient on the sweeps of Figs. 1–2 for Ta and InP by
:func:`snapcheck.studies.sweep_errors.best_epsilons` (docs/figures.md).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np

from snapcheck.base.errors import InputError

#: ε from 10⁻¹² to 10⁻¹ in half-decades: 23 values (Figs. 1 and 2).
EPSILON_GRID = tuple(10.0 ** (np.arange(-24, -1) / 2))

#: How :func:`choose_epsilon` reads ε off a proxy curve (module docstring); the first is the default.
RULES = ("smoothed", "argmin")
DEFAULT_RULE = RULES[0]


def choose_epsilon(curve: Mapping[float, float], rule: str = DEFAULT_RULE) -> tuple[float, float]:
    """(ε, the proxy there) from a curve ε → estimated relative error, by ``rule`` (module docstring).

    NaN points never win; ties go to the larger ε (further from round-off).  For
    ``smoothed`` the returned value is the running maximum, an error bound that a
    single lucky point cannot lower.
    """
    if rule not in RULES:
        raise InputError(f"ε rule {rule!r}: expected one of {', '.join(RULES)}")
    keys = sorted(curve)
    if not keys:
        raise InputError("no ε to choose from: the grid is empty")
    if rule == "argmin":
        value = {e: (math.inf if math.isnan(curve[e]) else curve[e]) for e in keys}
    else:
        value = {}
        for k, epsilon in enumerate(keys):
            window = [curve[keys[j]] for j in range(max(0, k - 1), min(len(keys), k + 2))]
            window = [w for w in window if not math.isnan(w)]
            value[epsilon] = max(window) if window else math.inf
    best = min(keys, key=lambda e: (value[e], -e))
    return float(best), float(value[best])


def energy_proxy(directional_estimates: np.ndarray, directional: np.ndarray, scale: np.ndarray) -> float:
    """‖D̃ − D‖/‖scale‖ over configurations: Err[L̃] of Eq. 14 when ``scale`` is 2L (module docstring)."""
    norm = float(np.linalg.norm(scale))
    return float(np.linalg.norm(np.asarray(directional_estimates) - directional) / norm) if norm else math.inf


def gradient_proxy(estimates: Mapping[float, np.ndarray]) -> dict[float, float]:
    """ε_k → ‖∇̃L(ε_k) − ∇̃L(ε_{k+1})‖/‖∇̃L(ε_k)‖ over consecutive points of the grid (module docstring)."""
    keys = sorted(estimates)
    curve = {}
    for a, b in zip(keys[:-1], keys[1:]):
        size = float(np.linalg.norm(estimates[a]))
        curve[a] = float(np.linalg.norm(estimates[a] - estimates[b]) / size) if size else math.inf
    return curve


def epsilon_grid(values: Sequence[float] | None) -> tuple[float, ...]:
    """``values`` as a sorted grid of positive ε, or :data:`EPSILON_GRID`."""
    grid = EPSILON_GRID if values is None else tuple(sorted(float(v) for v in values))
    if not grid or not all(v > 0 and math.isfinite(v) for v in grid):
        raise InputError(f"ε grid {values!r}: expected positive numbers")
    return grid
