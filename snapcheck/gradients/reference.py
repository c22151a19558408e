"""The one reference: the paper's estimate of ∇θL for a set of configurations, ε chosen automatically.

For every configuration c a backend (:mod:`snapcheck.gradients.backend`) gives
its :class:`~snapcheck.gradients.backend.Term`: the path along which ∇θL_c is a
derivative, L_c and D_c.  Then for any ε

    ∇̃θL_c = (∂L/∂Ê)_c ∇θÊ_c[r] + (∇θÊ_c(η_c) − ∇θÊ_c(−η_c)) / (2η_c)          (Eqs. 6–7),
    D̃_c = (Ê_c(η_c) − Ê_c(−η_c)) / (2η_c),                                     (Eqs. 12–13)

with η_c = ε a₀/g₀,c and g₀,c = max_i |g_i| of that configuration (Eq. 10, the
one g₀ policy; a number fixes g₀ for every configuration, as in Fig. 2).  The
first term exists only for a loss with an energy part and is first order, so
it is evaluated exactly.  :meth:`Reference.choose` sweeps
:data:`~snapcheck.gradients.epsilon.EPSILON_GRID`, forms the proxy curve
(energy proxy in float64, gradient self-consistency below;
:mod:`snapcheck.gradients.epsilon`) and reads ε off it by the one rule.  The
proxy at ε is the estimate's error bound.

:func:`paper_force_loss_gradient` is the paper's gradient for any model,
numpy or torch: it returns the estimate and what it was made with.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from snapcheck.base.errors import InputError
from snapcheck.gradients.backend import Backend, Term, as_backend
from snapcheck.gradients.epsilon import (
    DEFAULT_RULE,
    EPSILON_GRID,
    choose_epsilon,
    energy_proxy,
    epsilon_grid,
    gradient_proxy,
)
from snapcheck.gradients.paper import LossPath, central_difference

PROXIES = ("auto", "energy", "gradient")


@dataclass(frozen=True)
class Estimate:
    """The estimate at one ε: per configuration ∇̃θL_c (M, P), D̃_c (M,) and η_c (M,; 0 where the path is zero)."""

    gradients: np.ndarray
    directional: np.ndarray
    etas: np.ndarray


@dataclass(frozen=True)
class EpsilonChoice:
    """ε, how it was chosen, and the estimate there.

    Attributes:
        epsilon: the ε used.
        bound: the proxy at ε (its running maximum for the smoothed rule): the estimate's relative error,
            as the proxy measures it; NaN when ε was given.
        proxy: ``energy``, ``gradient`` or ``fixed`` (ε given).
        rule: the rule that read ε off the curve (``given`` for a fixed ε).
        curve: ε → proxy over the grid.
        estimate: the :class:`Estimate` at ε.
    """

    epsilon: float
    bound: float
    proxy: str
    rule: str
    curve: dict[float, float] = field(repr=False)
    estimate: Estimate = field(repr=False)


class Reference:
    """Terms of a set of configurations and the paper's estimate of their ∇θL at any ε (module docstring)."""

    def __init__(self, backend: Backend, configurations: Sequence, *, g0: str | float = "max"):
        if not len(configurations):
            raise InputError("no configurations: give at least one configuration to estimate ∇θL on")
        self.backend = backend
        self.g0 = g0
        self.terms: list[Term] = [backend.term(c) for c in configurations]
        self.n_parameters = max(s.stop for s in backend.parameter_slices.values())
        self._estimates: dict[float, Estimate] = {}
        self._first_order: np.ndarray | None = None

    @property
    def loss(self) -> float:
        return float(sum(t.loss for t in self.terms))

    @property
    def n_atoms(self) -> list[int]:
        return [t.n_atoms for t in self.terms]

    def first_order(self) -> np.ndarray:
        """(∂L/∂Ê)_c ∇θÊ_c at the configurations' own positions, (M, P): zero without an energy term."""
        if self._first_order is None:
            rows = np.zeros((len(self.terms), self.n_parameters))
            for row, term in zip(rows, self.terms):
                if term.energy_weight:
                    here = self.backend.evaluate(term.configuration, term.path.positions, term.path.cell)
                    if here.energy_gradient is None:
                        raise RuntimeError("the backend returned no ∇θÊ for the loss's energy term")
                    row += term.energy_weight * here.energy_gradient
            self._first_order = rows
        return self._first_order

    def estimate(self, epsilon: float) -> Estimate:
        """∇̃θL_c, D̃_c and η_c at ``epsilon`` (cached per ε)."""
        if epsilon not in self._estimates:
            gradients = self.first_order().copy()
            directional, etas = np.zeros(len(self.terms)), np.zeros(len(self.terms))
            for c, term in enumerate(self.terms):
                difference = central_difference(
                    functools.partial(self.backend.evaluate, term.configuration), term.path, epsilon, self.g0
                )
                if difference is not None and difference.gradient is not None and difference.directional is not None:
                    gradients[c] += difference.gradient
                    directional[c], etas[c] = difference.directional, difference.eta
            self._estimates[epsilon] = Estimate(gradients, directional, etas)
        return self._estimates[epsilon]

    def curve(self, proxy: str, grid: Sequence[float] = EPSILON_GRID) -> dict[float, float]:
        """The proxy over ``grid`` (:mod:`snapcheck.gradients.epsilon`)."""
        if proxy == "energy":
            exact = np.array([t.directional for t in self.terms])
            scale = 2.0 * np.array([t.loss for t in self.terms]) if self.backend.paper_loss else exact
            return {e: energy_proxy(self.estimate(e).directional, exact, scale) for e in grid}
        if proxy == "gradient":
            return gradient_proxy({e: self.estimate(e).gradients.sum(axis=0) for e in grid})
        raise InputError(f"proxy {proxy!r}: expected one of {', '.join(PROXIES)}")

    def choose(
        self,
        epsilon: float | str = "auto",
        *,
        rule: str = DEFAULT_RULE,
        proxy: str = "auto",
        grid: Sequence[float] | None = None,
    ) -> EpsilonChoice:
        """ε by ``rule`` from the ``proxy`` curve (``auto``: energy in float64, gradient below), or as given."""
        if epsilon != "auto":
            value = float(epsilon)
            return EpsilonChoice(value, math.nan, "fixed", "given", {}, self.estimate(value))
        if proxy == "auto":
            proxy = "energy" if self.backend.precision == "float64" else "gradient"
        curve = self.curve(proxy, epsilon_grid(grid))
        best, bound = choose_epsilon(curve, rule)
        return EpsilonChoice(best, bound, proxy, rule, curve, self.estimate(best))

    def exact(self) -> np.ndarray | None:
        """The backend's exact ∇θL_c (M, P), first-order term included, or None where it has none."""
        rows = []
        for term in self.terms:
            if term.path.is_zero():
                rows.append(np.zeros(self.n_parameters))
                continue
            value = self.backend.exact(term)
            if value is None:
                return None
            rows.append(value)
        return self.first_order() + np.array(rows)

    def exact_parts(self) -> dict[str, np.ndarray] | None:
        """The exact ∇θL_c of each term of the loss present here, (M, P) each: ``energy`` (first order),
        ``forces`` (the path along g alone) and ``stress`` (the strain H alone); None without exact products."""
        parts: dict[str, np.ndarray] = {}
        if any(t.energy_weight for t in self.terms):
            parts["energy"] = self.first_order()
        along = {
            "forces": lambda p: LossPath(p.positions, p.g),
            "stress": lambda p: LossPath(p.positions, np.zeros_like(p.g), p.cell, p.h),
        }
        for name, restricted in along.items():
            if name == "stress" and all(t.path.h is None for t in self.terms):
                continue
            rows = []
            for term in self.terms:
                path = restricted(term.path)
                value = np.zeros(self.n_parameters) if path.is_zero() else self.backend.exact(replace(term, path=path))
                if value is None:
                    return None
                rows.append(value)
            parts[name] = np.array(rows)
        return parts


@dataclass(frozen=True)
class PaperGradient:
    """The paper's ∇θL and what it was made with.

    Attributes:
        gradient: Σ_c ∇̃θL_c, flat like θ.
        per_configuration: ∇̃θL_c, (M, P).
        epsilon: ε (Eq. 9); etas: η_c per configuration (Å²/eV for forces).
        error_bound: the proxy at ε (NaN when ε was given).
        proxy, rule: how ε was chosen.
        loss: Σ_c L_c.
    """

    gradient: np.ndarray = field(repr=False)
    per_configuration: np.ndarray = field(repr=False)
    epsilon: float
    etas: np.ndarray = field(repr=False)
    error_bound: float
    proxy: str
    rule: str
    loss: float


def paper_force_loss_gradient(
    model,
    configurations: Sequence,
    *,
    epsilon: float | str = "auto",
    rule: str = DEFAULT_RULE,
    proxy: str = "auto",
    g0: str | float = "max",
) -> PaperGradient:
    """∇θL by the paper's central difference (Eq. 7) for any model: a backend, or a numpy model of the protocol.

    ``epsilon="auto"`` chooses ε on :data:`~snapcheck.gradients.epsilon.EPSILON_GRID`
    (2 × 23 evaluations per configuration); a number fixes it (one pair per
    configuration: the choice inside a training loop, e.g. 1e-5 in float64, 3e-3
    in float32).  The model is seen only through f̂ at the configurations and Ê,
    ∇θÊ at displaced positions, so this shares no code with any model's exact
    gradient.
    """
    reference = Reference(as_backend(model), configurations, g0=g0)
    choice = reference.choose(epsilon, rule=rule, proxy=proxy)
    per_configuration = choice.estimate.gradients
    return PaperGradient(
        per_configuration.sum(axis=0),
        per_configuration,
        choice.epsilon,
        choice.estimate.etas,
        choice.bound,
        choice.proxy,
        choice.rule,
        reference.loss,
    )
