"""What the checks of snapcheck.testing and snapcheck.torch share: the reports, the failure, the tolerances.

The force check is :mod:`snapcheck.gradients.forces_check`, the stress check's naming
:mod:`snapcheck.gradients.stress_check`; their reports derive from :class:`CheckReport` here.

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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from snapcheck.gradients.paper import relative_error
from snapcheck.gradients.reference import EpsilonChoice

#: Default relative tolerances by the precision of the trainer's arithmetic.
DEFAULT_RTOL = {"float64": 1e-6, "float32": 1e-3}
#: The paper's estimate is trusted to PROXY_FACTOR[proxy] × the proxy at ε.  The energy proxy Err[L̃] tracks
#: the true error to within a factor of a few at the selected ε (Figs. 1–2); the gradient proxy is itself the
#: difference between neighbouring estimates, i.e. a direct measure of the estimate's error.
PROXY_FACTOR = {"energy": 10.0, "gradient": 1.0, "fixed": 0.0}


def estimate_tolerance(rtol: float, proxy: str, bound: float) -> float:
    """``rtol`` plus the estimate's own error bound (0 when ε was given, or when the proxy is not finite, as
    when every force error is zero: no bound is known, and an infinite one would pass anything)."""
    known = proxy != "fixed" and math.isfinite(bound)
    return rtol + (PROXY_FACTOR[proxy] * bound if known else 0.0)


def configurations(n_atoms: Sequence[int]) -> str:
    """ "3 configurations (N = 4, 24, 48)", "1 configuration (N = 54)": the set a report is of."""
    plural = "" if len(n_atoms) == 1 else "s"
    return f"{len(n_atoms)} configuration{plural} (N = {', '.join(str(int(n)) for n in n_atoms)})"


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
            f"ε = {self.epsilon:.1e} ({self.proxy} proxy, {self.rule} rule), "
            f"error bound of Eq. 7 ≈ {self.error_bound:.1e}",
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
