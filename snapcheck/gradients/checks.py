"""What the checks of snapcheck.testing and snapcheck.torch share: the reports, the failure, the force check.

**The force check** asks whether a trainer's forces are −∂Ê/∂r of its energy.
Along seeded random unit directions u (N × 3, one set per configuration)
a central difference of the energy,

    −(Ê[r + h u] − Ê[r − h u]) / (2h) = u · f̂ + O(h²),

checks the forces against the energy itself, with no autograd in between
(:func:`directional_derivatives`).  Where an autograd reference −∂Ê/∂r exists
(torch), the whole force arrays are compared too (:func:`compare_forces`).
Either comparison fits one scale s_c per configuration, so a sign, a unit
factor or a per-atom-mean energy (s_c = 1/N_c) is named from the one table of
:mod:`snapcheck.gradients.diagnosis`.

**The gradient check** compares a candidate ∇θL (the trainer's) with a
reference that shares no code with it: an exact product where one exists and
is independent of the candidate, otherwise the paper's estimate at automatic ε
(:mod:`snapcheck.gradients.reference`), whose own error is bounded by its
proxy.  Errors are Eq. 11's normwise relative error, per named parameter block.

A failed check raises :class:`CheckFailure`, an ``AssertionError`` carrying the
report; the non-raising functions return the same report (as e3nn pairs
``assert_equivariant`` with ``equivariance_error``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from snapcheck.gradients.diagnosis import STRESS_FACTORS, name_scales, per_configuration_scales, significant
from snapcheck.gradients.paper import relative_error
from snapcheck.gradients.reference import EpsilonChoice

#: Default relative tolerances by the precision of the trainer's arithmetic.
DEFAULT_RTOL = {"float64": 1e-6, "float32": 1e-3}
#: The paper's estimate is trusted to PROXY_FACTOR[proxy] × the proxy at ε.  The energy proxy Err[L̃] tracks
#: the true error to within a factor of a few at the selected ε (Figs. 1–2); the gradient proxy is itself the
#: difference between neighbouring estimates, i.e. a direct measure of the estimate's error.
PROXY_FACTOR = {"energy": 10.0, "gradient": 1.0, "fixed": 0.0}


def estimate_tolerance(rtol: float, proxy: str, bound: float) -> float:
    """``rtol`` plus the estimate's own error bound (0 when ε was given: no bound is known)."""
    return rtol + (PROXY_FACTOR[proxy] * bound if proxy != "fixed" else 0.0)


def default_rtol(precision: str) -> float:
    return DEFAULT_RTOL.get(precision, DEFAULT_RTOL["float32"])


class CheckFailure(AssertionError):
    """A snapcheck check failed; ``report`` holds what was measured.  The message's first line names the bug,
    so pytest's one-line summary reads ``snapcheck.CheckFailure: <the bug>``."""

    def __init__(self, report):
        self.report = report
        super().__init__(str(report).removeprefix("snapcheck: "))


CheckFailure.__module__ = "snapcheck"  # where users import it from: the short name in pytest's summary


def per_tensor(candidate: np.ndarray, reference: np.ndarray, parts: Mapping[str, slice]) -> dict[str, float]:
    """Eq. 11's normwise relative error for each parameter block (last axis), 0 when both are zero."""
    errors = {}
    for name, s in parts.items():
        test, truth = np.asarray(candidate)[..., s], np.asarray(reference)[..., s]
        if not np.any(truth):
            errors[name] = 0.0 if not np.any(test) else math.inf
        else:
            errors[name] = relative_error(test, truth)
    return errors


# -- reports -------------------------------------------------------------------------------------------
@dataclass(repr=False, kw_only=True)
class CheckReport:
    """What every check's report holds beside its measurements: the problems (empty: passed) and warnings."""

    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.problems

    def verdict(self, ok: str) -> str:
        """The first line: ``snapcheck: <the problems>``, or ``snapcheck: <ok>``."""
        return "snapcheck: " + ("\n  ".join(self.problems) if self.problems else ok)

    def warning_lines(self) -> list[str]:
        return [f"warning: {w}" for w in self.warnings]


@dataclass(repr=False)
class GradientReport(CheckReport):
    """What a force-loss gradient check measured.

    ``relative_errors`` are per parameter block against ``compared_with``; ``estimate_errors`` against
    the paper's Eq. 7 when the reference was an exact product, and ``estimate_vs_exact`` Eq. 7's own
    error there.  ``problems`` is empty when the check passed.
    """

    relative_errors: dict[str, float]
    compared_with: str
    rtol: float
    tolerance: float
    epsilon: float
    error_bound: float
    proxy: str
    rule: str
    precision: str
    reference_precision: str
    loss: float
    n_atoms: list[int]
    estimate_errors: dict[str, float] | None = None
    estimate_vs_exact: dict[str, float] | None = None
    energy_only: list[str] = field(default_factory=list)
    measurements: dict[str, float] = field(default_factory=dict)  # an adapter's own (e.g. FitSNAP's descriptors)
    loss_name: str = "force-loss"  # "training-loss" for a loss over energy, forces and stress

    @classmethod
    def from_choice(cls, choice: EpsilonChoice, **fields) -> GradientReport:
        """A report whose ε, bound, proxy and rule are those of ``choice`` (the other fields as given)."""
        return cls(epsilon=choice.epsilon, error_bound=choice.bound, proxy=choice.proxy, rule=choice.rule, **fields)

    @classmethod
    def unmeasured(cls, problem: str, **fields) -> GradientReport:
        """The report of a check that stopped before any gradient was compared, because of ``problem``."""
        nan = float("nan")
        return cls(
            relative_errors={}, compared_with="nothing", tolerance=nan, epsilon=nan, error_bound=nan, proxy="",
            rule="", loss=nan, problems=[problem], **fields,
        )  # fmt: skip

    @property
    def worst(self) -> float:
        return max(self.relative_errors.values(), default=0.0)

    def __repr__(self) -> str:
        return (
            f"GradientReport(passed={self.passed}, worst={self.worst:.3g}, tolerance={self.tolerance:.3g}, "
            f"epsilon={self.epsilon:.3g}, n_configurations={len(self.n_atoms)})"
        )

    def __str__(self) -> str:
        lines = [
            self.verdict(
                f"{self.loss_name} gradient OK (largest relative error {self.worst:.2e} ≤ {self.tolerance:.2g})"
            ),
            f"compared with {self.compared_with}; {len(self.n_atoms)} configurations "
            f"(N = {', '.join(map(str, self.n_atoms))}), loss {self.loss:.6g}, trainer {self.precision}, "
            f"reference {self.reference_precision}, rtol {self.rtol:g}, tolerance {self.tolerance:.3g}",
            f"ε = {self.epsilon:.1e} ({self.proxy} proxy, {self.rule} rule), error bound of Eq. 7 ≈ {self.error_bound:.1e}",
        ]
        lines += self.warning_lines()
        lines += [f"{name}: {value:.3g}" for name, value in self.measurements.items()]
        for name, error in self.relative_errors.items():
            extra = ""
            if self.estimate_vs_exact is not None:
                extra = f"   (Eq. 7 vs exact {self.estimate_vs_exact[name]:.1e})"
            if name in self.energy_only:
                extra = "   (enters Ê but not f̂: zero force-loss gradient, as expected)"
            lines.append(f"  {name:<40s} rel. error {error:.2e}{extra}")
        return "\n".join(lines)


# -- forces --------------------------------------------------------------------------------------------
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
    difference = math.sqrt(sum(float(np.sum((x - r) ** 2)) for x, r in zip(candidates, references)))
    size = math.sqrt(sum(float(np.sum(r**2)) for r in references))
    used = significant(references)
    scales, residual = per_configuration_scales(
        [x for x, u in zip(candidates, used) if u], [r for r, u in zip(references, used) if u]
    )
    return ForcesComparison(
        difference / size if size else math.inf,
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

    The error is the largest |u·f̂ − FD| over configurations and directions, divided by the largest force
    of the set (at least :data:`FORCE_SCALE_FLOOR`): a perfect crystal's round-off forces set no scale.
    """
    rng = np.random.default_rng(seed)
    differences, projections, worst, scale = [], [], 0.0, FORCE_SCALE_FLOOR
    for energy, positions, forces in cases:
        fd, fn = directional_derivatives(energy, positions, forces, directions, step, rng)
        worst = max(worst, float(np.max(np.abs(fn - fd))))
        scale = max(scale, float(np.max(np.abs(fd))), float(np.linalg.norm(forces)))
        differences.append(fd)
        projections.append(fn)
    return DirectionalCheck(differences, projections, worst / scale)


@dataclass(repr=False)
class ForcesReport(CheckReport):
    """What a force check measured: the trainer's forces against −∂Ê/∂r and against central differences of Ê."""

    relative_error: float  # against −∂Ê/∂r by autograd when there is one, else against the central differences
    directional_error: float  # largest |u·f̂ − FD| / max(|FD|, |f̂|) over configurations and directions
    step: float  # Å
    rtol: float
    precision: str
    n_atoms: list[int]

    def __repr__(self) -> str:
        return f"ForcesReport(passed={self.passed}, relative_error={self.relative_error:.3g}, directional_error={self.directional_error:.3g})"

    def __str__(self) -> str:
        lines = [
            self.verdict("forces OK"),
            f"forces vs −∂Ê/∂r rel. error {self.relative_error:.2e}, largest directional central-difference error "
            f"{self.directional_error:.2e} (step {self.step:.0e} Å), rtol {self.rtol:g}, {self.precision}, "
            f"{len(self.n_atoms)} configurations (N = {', '.join(map(str, self.n_atoms))})",
        ]
        return "\n".join(lines + self.warning_lines())


# -- stress --------------------------------------------------------------------------------------------
#: Permutations of the off-diagonal Voigt components (yz, xz, xy) that other codes use.
OFF_DIAGONAL = ((1, 2), (0, 2), (0, 1))


def _relative(candidates: Sequence[np.ndarray], references: Sequence[np.ndarray]) -> float:
    size = math.sqrt(sum(float(np.sum(r**2)) for r in references))
    difference = math.sqrt(sum(float(np.sum((c - r) ** 2)) for c, r in zip(candidates, references)))
    return difference / size if size else math.inf


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
    error = _relative(candidates, references)
    if error <= max(rtol, 1e-12):
        return None
    if _relative(candidates, cell_only) <= max(10 * rtol, 1e-6) < _relative(cell_only, references):
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
        if _relative(candidates, [_permuted(r, order) for r in references]) <= max(10 * rtol, 1e-9):
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
            f"{self.precision}, {len(self.n_atoms)} configurations (N = {', '.join(map(str, self.n_atoms))})",
        ]
        return "\n".join(lines + self.warning_lines())
