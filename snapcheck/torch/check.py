"""A PyTorch trainer's force training, checked: the same assertions as :mod:`snapcheck.testing`, for torch.

The gradient under test is the trainer's ∇θ Σ_c loss_fn(forces_fn(model, atoms_c, r_c), f_c, atoms_c),
left in ``.grad`` by ``backward()``, or by the trainer's own ``trainer_step(model, configurations)``
(its own loss graph and backward on the batch; ``loss_fn`` is then the specification only).  The
reference comes from ``energy_fn`` alone (:class:`~snapcheck.torch.backend.TorchPotential`): the
paper's Eq. 7 at automatic ε and, in float64, the exact forward-over-reverse product of Eq. 6.  A
low-precision model is referenced on a float64 copy whenever ``energy_fn`` follows the dtype of its
arguments; when it does not, the report warns that errors below float32 round-off are invisible.
Relative errors are normwise per parameter tensor, by ``named_parameters()`` name, as Eq. 11 is over
all of θ.

========================================================  =================================
raises :class:`~snapcheck.gradients.checks.CheckFailure`  returns the report instead
========================================================  =================================
:func:`assert_force_loss_gradient`                        :func:`force_loss_gradient_error`
========================================================  =================================

The forces themselves are checked by :mod:`snapcheck.torch.forces`, the stress by :mod:`snapcheck.torch.stress`.
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Callable, Sequence

import numpy as np
import torch

from snapcheck.base.errors import InputError
from snapcheck.gradients.checks import CheckFailure, GradientReport, default_rtol, estimate_tolerance, per_tensor
from snapcheck.gradients.diagnosis import describe_gradient, likely_bug_by_term
from snapcheck.gradients.epsilon import DEFAULT_RULE
from snapcheck.gradients.reference import Reference
from snapcheck.torch.backend import (
    TorchPotential,
    flat,
    forces_from_energy,
    reference_quantities,
    scalar,
)
from snapcheck.torch.forces import forces_problem
from snapcheck.torch.setup import ENERGY_IGNORES_POSITIONS, setup

#: A float64 energy proxy that never falls below this means Ê and its autograd gradient disagree (a correct
#: model reaches 1e-8 or better, docs/figures.md).
INCONSISTENT_PROXY = 1e-4


def trainer_gradient(
    potential: TorchPotential, atoms_list, forces_fn, trainer_step, stress_fn=None
) -> tuple[list, bool]:
    """The trainer's ∇θ(total loss) per parameter (None: no gradient), and whether the loss had a graph.

    Without ``trainer_step`` the loss is ``potential.loss_fn`` of the trainer's own predictions:
    ``forces_fn`` (and for a whole loss Ê from ``energy_fn`` and ``stress_fn``), summed over the
    configurations.  The model's ``.grad`` is saved and restored, so checking inside a training loop
    changes nothing.
    """
    params = potential.params
    saved = [p.grad for _, p in params]
    for _, p in params:
        p.grad = None
    has_graph = True
    try:
        if trainer_step is not None:
            trainer_step(potential.model, atoms_list)
        else:
            total = functools.reduce(
                operator.add, (_trainer_loss(potential, a, forces_fn, stress_fn) for a in atoms_list)
            )
            has_graph = bool(total.requires_grad)
            if has_graph:
                total.backward()
        return [None if p.grad is None else p.grad.detach().clone() for _, p in params], has_graph
    finally:
        for (_, p), grad in zip(params, saved):
            p.grad = grad


def _trainer_loss(potential: TorchPotential, atoms, forces_fn, stress_fn) -> torch.Tensor:
    """One configuration's loss from the trainer's own force (and stress) code."""
    positions = potential.tensor(atoms.get_positions(), requires_grad=True)
    reference = {key: potential.tensor(value) for key, value in reference_quantities(atoms, potential.terms).items()}
    forces = forces_fn(potential.model, atoms, positions)
    if potential.terms == ("forces",):
        return scalar(potential.loss_fn(forces, reference["forces"], atoms), "loss_fn")
    predicted = {"forces": forces}
    if "energy" in potential.terms:
        predicted["energy"] = potential.call_energy(atoms, positions)
    if "stress" in potential.terms:
        if stress_fn is None:
            raise InputError("a loss with a stress term needs the trainer's stress_fn (or its trainer_step)")
        predicted["stress"] = stress_fn(potential.model, atoms, positions, potential.tensor(np.asarray(atoms.cell)))
    return scalar(potential.loss_fn(predicted, {k: reference[k] for k in potential.terms}, atoms), "loss_fn")


def force_loss_gradient_error(
    model: torch.nn.Module,
    energy_fn: Callable,
    configurations: Sequence,
    *,
    forces_fn: Callable | None = None,
    loss_fn: Callable | None = None,
    terms: Sequence[str] = ("forces",),
    stress_fn: Callable | None = None,
    trainer_step: Callable | None = None,
    rtol: float | None = None,
    epsilon: float | str = "auto",
    rule: str = DEFAULT_RULE,
    allow_unused: Sequence[str] = (),
) -> GradientReport:
    """The report of :func:`assert_force_loss_gradient`, without raising."""
    __tracebackhide__ = True
    start = setup(model, energy_fn, configurations, rtol, loss_fn=loss_fn, terms=terms)
    atoms_list, potential, checked, rtol = start.atoms, start.potential, start.checked, start.rtol
    common = dict(
        loss_name="force-loss" if tuple(terms) == ("forces",) else "training-loss",
        rtol=rtol,
        precision=potential.precision,
        reference_precision=checked.precision,
        n_atoms=start.n_atoms,
        warnings=start.warnings,
    )
    if start.energy_ignores_positions():
        return GradientReport.unmeasured(ENERGY_IGNORES_POSITIONS, **common)
    reference = Reference(checked, atoms_list)
    if all(t.path.is_zero() for t in reference.terms):
        return GradientReport.unmeasured(
            "∂L/∂f̂ is zero on every configuration: there is no gradient to check", **common
        )
    grads, has_graph = trainer_gradient(
        potential, atoms_list, forces_fn or forces_from_energy(energy_fn), trainer_step, stress_fn
    )
    candidate = flat(grads, potential.params)
    choice = reference.choose(epsilon, rule=rule)
    exact = reference.exact()
    truth = choice.estimate.gradients if exact is None else exact
    parts = potential.parameter_slices
    total = truth.sum(axis=0)
    if exact is None:
        compared_with = f"the paper's Eq. 7 at ε = {choice.epsilon:.1e} ({checked.precision})"
        tolerance = estimate_tolerance(rtol, choice.proxy, choice.bound)
    else:
        compared_with, tolerance = "the exact forward-over-reverse product of energy_fn (float64)", rtol
    report = GradientReport.from_choice(
        choice,
        relative_errors=per_tensor(candidate, total, parts),
        compared_with=compared_with,
        tolerance=tolerance,
        loss=reference.loss,
        **common,
    )
    if exact is not None:
        estimate = choice.estimate.gradients.sum(axis=0)
        report.estimate_errors = per_tensor(candidate, estimate, parts)
        report.estimate_vs_exact = per_tensor(estimate, total, parts)
    enters_energy = _enters_energy(reference)
    report.energy_only = [n for n, s in parts.items() if enters_energy[n] and not np.any(truth[:, s])]
    report.problems += _diagnose(
        potential, reference, atoms_list, forces_fn, grads, has_graph, candidate, truth, report
    )
    unused = [n for n, enters in enters_energy.items() if not enters and n not in allow_unused]
    if unused:
        report.problems.append(
            "parameter tensor(s) " + ", ".join(unused) + " never receive a gradient: they do not enter the energy at "
            "all (an unused module, or registered but bypassed); pass allow_unused=[...] if that is intended"
        )
    return report


def _enters_energy(reference: Reference) -> dict[str, bool]:
    """name → whether the tensor's ∇θÊ is nonzero at some configuration's own positions."""
    enters = np.zeros(reference.n_parameters, dtype=bool)
    for term in reference.terms:
        enters |= reference.backend.evaluate(term.configuration, term.path.positions, None).energy_gradient != 0
    return {name: bool(enters[s].any()) for name, s in reference.backend.parameter_slices.items()}


def _diagnose(potential, reference, atoms_list, forces_fn, grads, has_graph, candidate, truth, report) -> list[str]:
    """The problems with the trainer's gradient, forces first."""
    low_precision = potential.precision != "float64"
    parts = potential.parameter_slices
    not_finite = [n for n, s in parts.items() if not np.all(np.isfinite(candidate[s]))]
    if not_finite:
        return [
            "the trainer's gradient is not finite (NaN or inf) in parameter tensor(s) " + ", ".join(not_finite) + ": a "
            "division by zero in its forces, stress or loss (a zero volume or norm in the batch, an empty "
            "configuration) or a logarithm or square root of a non-positive number"
        ]
    wrong_forces = None
    if forces_fn is not None:
        wrong_forces = forces_problem(potential, atoms_list, forces_fn, default_rtol(potential.precision))
    if not has_graph or not np.any(candidate):
        if wrong_forces is not None:
            return [f"zero gradient: no parameter receives a force-loss gradient, because {wrong_forces}"]
        return [
            "zero gradient: the predicted forces carry no graph to the parameters; the forces were taken with "
            "torch.autograd.grad(...) without create_graph=True (or detached, or under torch.no_grad()): use "
            "create_graph=True"
        ]
    if wrong_forces is not None:
        return [f"the forces are wrong, so the force-loss gradient is: {wrong_forces}"]
    missing = [
        n for (n, s), g in zip(parts.items(), grads) if np.any(truth[:, s]) and (g is None or not np.any(candidate[s]))
    ]
    if missing:
        return [
            "missing gradient: parameter tensor(s) " + ", ".join(missing) + " receive no gradient from the trainer "
            "although the force loss depends on them (detached, frozen or skipped in the trainer's force path)"
        ]
    if report.worst > report.tolerance:
        pieces = reference.exact_parts() if len(potential.terms) > 1 else None
        by_term = None if pieces is None or len(pieces) < 2 else likely_bug_by_term(candidate, pieces, report.n_atoms)
        if by_term is not None:
            return [f"{by_term} (the gradient fitted term by term against the exact product of each)"]
        return [
            describe_gradient(
                candidate, truth, report.n_atoms, worst=report.worst, rtol=report.rtol, low_precision=low_precision
            )
        ]
    if report.estimate_vs_exact and max(report.estimate_vs_exact.values()) > max(
        report.rtol,
        1e3 * report.error_bound + 1e-12,
        INCONSISTENT_PROXY if report.error_bound > INCONSISTENT_PROXY else 0,
    ):
        return [
            "the paper's central difference disagrees with the exact product beyond its error bound: energy_fn is "
            "not smooth over r ± ηg (a cutoff without switching, or a neighbour list rebuilt without a skin)"
        ]
    if report.proxy == "energy" and report.error_bound > INCONSISTENT_PROXY:
        return [
            f"the energy proxy never falls below {report.error_bound:.1e}: central differences of energy_fn along "
            "the loss's direction disagree with Σ g·f̂ from autograd's forces at every ε, so autograd's −∂Ê/∂r is "
            "not the derivative of Ê: part of the geometry is detached (torch.no_grad(), .detach(), numpy), or Ê "
            "is not smooth"
        ]
    return []


def assert_force_loss_gradient(model: torch.nn.Module, energy_fn: Callable, configurations: Sequence, **options):
    """Raise :class:`CheckFailure` unless the trainer's ∇θ(force loss) equals the one implied by ``energy_fn``.

    ``configurations``: ``ase.Atoms`` with energy and forces attached, or snapcheck Configurations.
    ``energy_fn(model, atoms, positions)`` → Ê (scalar tensor, eV); ``options``: ``forces_fn(model,
    atoms, positions)`` → f̂ (N, 3), the trainer's force code (default: −∂Ê/∂r with create_graph);
    ``loss_fn(f̂, f, atoms)`` → scalar (default ½Σ|f̂ − f|², Eq. 2), summed over configurations; with
    ``terms`` (any of "energy", "forces", "stress") a whole training loss ``loss_fn(predicted, reference,
    atoms)`` over dicts of those quantities (Ê in eV, f̂ in eV/Å, σ̂ (3, 3) in eV/Å³ with ASE's sign;
    a stress term needs ``energy_fn(model, atoms, positions, cell)`` and, without ``trainer_step``, the
    trainer's ``stress_fn(model, atoms, positions, cell)``), the reference values from the atoms' calculator;
    ``trainer_step(model, configurations)``, the trainer's own loss and backward (it receives the
    model and the list of ase.Atoms, and leaves the batch gradient in ``.grad``: snapcheck zeroes
    ``.grad`` before and restores it after); ``rtol`` (1e-6 in float64, 1e-3 in float32);
    ``epsilon``, ``rule``, ``allow_unused``.  Returns the report.
    """
    __tracebackhide__ = True
    report = force_loss_gradient_error(model, energy_fn, configurations, **options)
    if not report.passed:
        raise CheckFailure(report)
    return report
