"""Assertions for other projects' test suites, in the spirit of e3nn's ``assert_equivariant``.

A trainer that computes the force-loss gradient ∇θL (by double backpropagation,
by the paper's Eq. 7, or by hand) checks it in one line::

    from snapcheck.testing import assert_force_loss_gradient
    assert_force_loss_gradient(my_model, configurations)

``my_model`` follows :mod:`snapcheck.models.protocol` (θ, Ê, f̂ and ∇θÊ) and
offers ``force_loss_gradient(configuration)``, the trainer's own ∇θL of Eq. 2
for one configuration; or pass ``gradient_fn=``.  PyTorch trainers use the same
names in :mod:`snapcheck.torch`, with ``(model, energy_fn)`` in place of the model.

==================================  =================================
raises :class:`CheckFailure`        returns the report instead
==================================  =================================
:func:`assert_force_loss_gradient`  :func:`force_loss_gradient_error`
:func:`assert_forces_consistent`    :func:`forces_error`
==================================  =================================

The reference is independent of the code under test:

* for linear SNAP (a :class:`~snapcheck.models.potentials.LinearSnapPotential`,
  or any object whose ``exact_force_loss_gradient`` is that potential's), the
  closed form ∇θL = A_fᵀg with A_f from LAMMPS ``compute snap``, unless that
  closed form is itself the candidate;
* for any other model, even one with an exact gradient of its own (which may be
  the very code under test), the paper's central difference (Eq. 7) at
  automatic ε (:mod:`snapcheck.gradients.reference`), whose own error is
  bounded by :data:`~snapcheck.gradients.checks.PROXY_FACTOR` × its proxy: the
  assertion tolerates ``rtol`` plus that bound, and says so.

The error is Eq. 11's: one L2 norm over every θ component of every
configuration.  The failure message's first line names the likely bug.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence

import numpy as np

from snapcheck.data.configuration import Configuration
from snapcheck.gradients.backend import NumpyBackend
from snapcheck.gradients.checks import CheckFailure, GradientReport, estimate_tolerance, per_tensor
from snapcheck.gradients.diagnosis import describe_gradient
from snapcheck.gradients.epsilon import DEFAULT_RULE
from snapcheck.gradients.forces_check import ForcesReport, compare_forces, describe_forces, directional_check
from snapcheck.gradients.reference import Reference

__all__ = [
    "CheckFailure",
    "ForcesReport",
    "GradientReport",
    "assert_force_loss_gradient",
    "assert_forces_consistent",
    "force_loss_gradient_error",
    "forces_error",
]


def _closed_form(model, candidate: Callable) -> Callable | None:
    """The LAMMPS closed form A_fᵀg of ``model`` when it has one that is not ``candidate`` itself."""
    from snapcheck.models.potentials import LinearSnapPotential  # loads LAMMPS: only when asked

    snap = model if isinstance(model, LinearSnapPotential) else None
    owner = getattr(getattr(model, "exact_force_loss_gradient", None), "__self__", None)
    snap = snap or (owner if isinstance(owner, LinearSnapPotential) else None)
    if snap is None:
        return None
    method = snap.exact_force_loss_gradient
    same = getattr(candidate, "__func__", candidate) is getattr(method, "__func__", method) and getattr(
        candidate, "__self__", None
    ) is getattr(method, "__self__", None)
    return None if same else method


def force_loss_gradient_error(
    model,
    configurations: Sequence[Configuration],
    *,
    gradient_fn: Callable | None = None,
    rtol: float = 1e-6,
    epsilon: float | str = "auto",
    rule: str = DEFAULT_RULE,
) -> GradientReport:
    """The report of :func:`assert_force_loss_gradient`, without raising."""
    __tracebackhide__ = True
    candidate_fn = gradient_fn or getattr(model, "force_loss_gradient", None)
    if not callable(candidate_fn):
        raise TypeError(
            f"{type(model).__name__} has no force_loss_gradient(configuration): give the gradient under test as "
            "gradient_fn=<function of a configuration returning ∇θL>"
        )
    reference = Reference(NumpyBackend(model), configurations)
    candidates = np.array([np.asarray(candidate_fn(c), dtype=float) for c in configurations])
    choice = reference.choose(epsilon, rule=rule)
    exact = _closed_form(model, candidate_fn)
    if exact is not None:
        truth, compared_with, tolerance = (
            np.array([exact(c) for c in configurations]),
            "the linear SNAP closed form A_fᵀg from LAMMPS compute snap",
            rtol,
        )
    else:
        truth = choice.estimate.gradients
        compared_with = f"the paper's central difference (Eq. 7) at ε = {choice.epsilon:.3g}" + (
            f", chosen by the {choice.proxy} proxy (bound {choice.bound:.2g})"
            if choice.proxy != "fixed"
            else " as given"
        )
        tolerance = estimate_tolerance(rtol, choice.proxy, choice.bound)
    name = getattr(candidate_fn, "__qualname__", type(candidate_fn).__name__)
    report = GradientReport.from_choice(
        choice,
        relative_errors={"θ": float("inf")},
        compared_with=compared_with,
        rtol=rtol,
        tolerance=tolerance,
        precision="float64",
        reference_precision="float64",
        loss=reference.loss,
        n_atoms=reference.n_atoms,
    )
    if candidates.shape != truth.shape:
        report.problems.append(
            f"{name} returns gradients of shape {candidates.shape[1:]}, the model's θ has {truth.shape[1:]}"
        )
        return report
    report.relative_errors = per_tensor(candidates, truth, {"θ": slice(None)})
    if exact is not None:
        report.estimate_vs_exact = per_tensor(choice.estimate.gradients, truth, {"θ": slice(None)})
    if not report.worst <= tolerance:
        per_configuration = np.linalg.norm(candidates - truth, axis=1)
        worst = int(np.argmax(per_configuration))
        parameters = np.argsort(-np.abs(candidates[worst] - truth[worst]))[:5]
        report.problems += [
            describe_gradient(candidates, truth, reference.n_atoms, worst=report.worst, rtol=rtol)
            + f" — {name}: relative error {report.worst:.3g} > tolerance {tolerance:.3g} (Eq. 11 over "
            f"{len(configurations)} configurations)",
            f"worst configuration: {configurations[worst].label} "
            f"(error norm {per_configuration[worst]:.3g} eV²/Å² per unit θ)",
            "worst parameters: "
            + ", ".join(f"θ[{p}] candidate {candidates[worst, p]:.6g} vs {truth[worst, p]:.6g}" for p in parameters),
        ]
    return report


def assert_force_loss_gradient(model, configurations: Sequence[Configuration], **options) -> GradientReport:
    """Raise :class:`CheckFailure` when the candidate ∇θL differs from an independent reference; return the report.

    ``options``: ``gradient_fn`` (default ``model.force_loss_gradient``), ``rtol`` (1e-6, plus the
    estimate's bound when the reference is the estimate), ``epsilon`` and ``rule`` (module docstring).
    """
    __tracebackhide__ = True
    report = force_loss_gradient_error(model, configurations, **options)
    if not report.passed:
        raise CheckFailure(report)
    return report


def _forces_subject(forces_fn: Callable | None) -> str:
    """How a force message names the code under test: ``model.forces``, ``forces_fn (its name)`` or ``forces_fn``."""
    if forces_fn is None:
        return "model.forces"
    name = getattr(forces_fn, "__name__", type(forces_fn).__name__)
    return "forces_fn" if name == "<lambda>" else f"forces_fn ({name})"


def forces_error(
    model,
    configurations: Sequence[Configuration],
    *,
    forces_fn: Callable | None = None,
    rtol: float = 1e-6,
    directions: int = 3,
    seed: int = 0,
    step: float = 1e-4,
) -> ForcesReport:
    """The report of :func:`assert_forces_consistent`, without raising."""
    __tracebackhide__ = True
    subject = _forces_subject(forces_fn)
    forces_fn = forces_fn or (lambda c: model.forces(c, c.positions))
    check = directional_check(
        (
            (functools.partial(model.energy, c), c.positions, np.asarray(forces_fn(c), dtype=float))
            for c in configurations
        ),
        directions,
        step,
        seed,
    )
    worst = check.error
    comparison = compare_forces(check.projections, check.differences)
    n_atoms = [c.n_atoms for c in configurations]
    report = ForcesReport(comparison.relative_error, worst, step, rtol, "float64", n_atoms)
    if worst > rtol:
        report.problems.append(
            describe_forces(comparison, rtol, n_atoms, subject)
            or f"{subject} differs from central differences of model.energy by up to {worst:.2e} (relative to the "
            f"largest force of the set, step {step:g} Å) although the whole force arrays agree to "
            f"{comparison.relative_error:.2e}: an error in a few components (one atom's forces, one periodic image), "
            f"or an energy that is not smooth within ±{step:g} Å (a cutoff without a switching function, a neighbour "
            "list rebuilt inside the step); compare the forces with −∂Ê/∂r atom by atom, and if the energy is smooth "
            "and the error is the size of round-off, pass a larger rtol"
        )
    return report


def assert_forces_consistent(model, configurations: Sequence[Configuration], **options) -> ForcesReport:
    """Raise :class:`CheckFailure` unless ``forces_fn(configuration)`` (default ``model.forces``) = −∂Ê/∂r.

    Checked against central differences of ``model.energy`` along ``directions`` seeded random unit
    vectors u per configuration (``step`` 1e-4 Å): the largest |u·f̂ − FD| over every configuration and
    direction must be ≤ ``rtol`` × one scale for the whole set, the largest |FD| or a configuration's ‖f̂‖
    (over its 3N components), and at least
    :data:`~snapcheck.gradients.forces_check.FORCE_SCALE_FLOOR` (1e-2 eV/Å), so a perfect crystal's
    round-off forces set no scale (:func:`~snapcheck.gradients.forces_check.directional_check`).
    """
    __tracebackhide__ = True
    report = forces_error(model, configurations, **options)
    if not report.passed:
        raise CheckFailure(report)
    return report
