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

================================================  ==========================================
raises :class:`~snapcheck.gradients.checks.CheckFailure`   returns the report instead
================================================  ==========================================
:func:`assert_force_loss_gradient`                 :func:`force_loss_gradient_error`
:func:`assert_forces_consistent`                   :func:`forces_error`
================================================  ==========================================
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from snapcheck.base.errors import InputError
from snapcheck.gradients.checks import (
    CheckFailure,
    ForcesComparison,
    ForcesReport,
    GradientReport,
    compare_forces,
    default_rtol,
    describe_forces,
    directional_check,
    estimate_tolerance,
    per_tensor,
)
from snapcheck.gradients.diagnosis import describe_gradient, likely_bug_by_term
from snapcheck.gradients.epsilon import DEFAULT_RULE
from snapcheck.gradients.reference import Reference
from snapcheck.torch.backend import (
    TorchPotential,
    as_atoms_list,
    flat,
    forces_from_energy,
    reference_quantities,
    scalar,
)

ENERGY_IGNORES_POSITIONS = (
    "energy_fn does not depend on the positions tensor snapcheck passes: Ê has no gradient with respect to it in "
    "any configuration. "
    "Build Ê from the `positions` argument (not from atoms.positions, a graph or neighbour data built "
    "beforehand, a detached copy, a numpy round trip, or under torch.no_grad())"
)


@dataclass(frozen=True)
class Setup:
    """What every torch check starts from: the configurations as ase.Atoms, the model's backend, the backend
    the reference runs on (a float64 copy when ``energy_fn`` allows one), ``rtol`` and the warnings so far."""

    atoms: list
    potential: TorchPotential
    checked: TorchPotential
    rtol: float
    warnings: list[str]

    @property
    def n_atoms(self) -> list[int]:
        return [len(a) for a in self.atoms]

    def energy_ignores_positions(self) -> bool:
        return not any(self.checked.depends_on_positions(atoms) for atoms in self.atoms)


def setup(model, energy_fn: Callable, configurations, rtol: float | None, **potential_options) -> Setup:
    """:class:`Setup` for a check; a warning when the reference cannot run in float64."""
    atoms_list = as_atoms_list(configurations)
    potential = TorchPotential(model, energy_fn, **potential_options)
    warnings: list[str] = []
    checked = potential.float64(atoms_list[0])
    if checked is None:
        warnings.append(
            f"the reference runs in {potential.precision}: energy_fn does not follow the dtype of the model and "
            "positions (it builds tensors in a fixed dtype), so errors below single-precision round-off (~1e-3) "
            "are invisible; create tensors with positions.dtype to get a float64 reference"
        )
        checked = potential
    rtol = default_rtol(potential.precision) if rtol is None else rtol
    return Setup(atoms_list, potential, checked, rtol, warnings)


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


def _compare_with_autograd(potential: TorchPotential, atoms_list, forces_fn) -> ForcesComparison:
    """``forces_fn`` against autograd's −∂Ê/∂r of ``energy_fn``, configuration by configuration, in the model's dtype."""
    candidates, references = [], []
    for atoms in atoms_list:
        forces = forces_fn(potential.model, atoms, potential.tensor(atoms.get_positions(), requires_grad=True))
        if not torch.is_tensor(forces) or tuple(forces.shape) != (len(atoms), 3):
            raise TypeError(
                f"forces_fn must return an ({len(atoms)}, 3) tensor of forces in eV/Å, got "
                f"{type(forces).__name__} of shape {tuple(getattr(forces, 'shape', ()))}"
            )
        candidates.append(forces.detach().double().cpu().numpy())
        references.append(potential.forces(atoms))
    return compare_forces(candidates, references)


def _forces_problem(potential: TorchPotential, atoms_list, forces_fn, rtol: float) -> str | None:
    """How ``forces_fn`` differs from autograd's −∂Ê/∂r in the model's dtype, or None."""
    comparison = _compare_with_autograd(potential, atoms_list, forces_fn)
    return describe_forces(comparison, rtol, [len(a) for a in atoms_list], "forces_fn")


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
    forces_problem = None
    if forces_fn is not None:
        forces_problem = _forces_problem(potential, atoms_list, forces_fn, default_rtol(potential.precision))
    if not has_graph or not np.any(candidate):
        if forces_problem is not None:
            return [f"zero gradient: no parameter receives a force-loss gradient, because {forces_problem}"]
        return [
            "zero gradient: the predicted forces carry no graph to the parameters; the forces were taken with "
            "torch.autograd.grad(...) without create_graph=True (or detached, or under torch.no_grad()): use "
            "create_graph=True"
        ]
    if forces_problem is not None:
        return [f"the forces are wrong, so the force-loss gradient is: {forces_problem}"]
    parts = potential.parameter_slices
    missing = [
        n for (n, s), g in zip(parts.items(), grads) if np.any(truth[:, s]) and (g is None or not np.any(candidate[s]))
    ]
    if missing:
        return [
            "missing gradient: parameter tensor(s) " + ", ".join(missing) + " receive no gradient from the trainer "
            "although the force loss depends on them (detached, frozen or skipped in the trainer's force path)"
        ]
    if report.worst > report.tolerance:
        parts = reference.exact_parts() if len(potential.terms) > 1 else None
        by_term = None if parts is None or len(parts) < 2 else likely_bug_by_term(candidate, parts, report.n_atoms)
        if by_term is not None:
            return [f"{by_term} (the gradient fitted term by term against the exact product of each)"]
        return [
            describe_gradient(
                candidate, truth, report.n_atoms, worst=report.worst, rtol=report.rtol, low_precision=low_precision
            )
        ]
    if report.estimate_vs_exact and max(report.estimate_vs_exact.values()) > max(
        report.rtol, 1e3 * report.error_bound + 1e-12
    ):
        return [
            "the paper's central difference disagrees with the exact product beyond its error bound: energy_fn is "
            "not smooth over r ± ηg (a cutoff without switching, or a neighbour list rebuilt without a skin)"
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


def forces_error(
    model: torch.nn.Module,
    energy_fn: Callable,
    configurations: Sequence,
    *,
    forces_fn: Callable | None = None,
    rtol: float | None = None,
    directions: int = 3,
    seed: int = 0,
) -> ForcesReport:
    """The report of :func:`assert_forces_consistent`, without raising."""
    __tracebackhide__ = True
    start = setup(model, energy_fn, configurations, rtol)
    atoms_list, potential, checked, rtol, n_atoms = (
        start.atoms,
        start.potential,
        start.checked,
        start.rtol,
        start.n_atoms,
    )
    forces_fn = forces_fn or forces_from_energy(energy_fn)
    report = ForcesReport(float("nan"), float("nan"), 0.0, rtol, potential.precision, n_atoms, warnings=start.warnings)
    if start.energy_ignores_positions():
        report.problems.append(ENERGY_IGNORES_POSITIONS)
        return report
    report.step = step = 1e-4 if checked.precision == "float64" else 1e-2

    def forces_of(atoms) -> np.ndarray:
        forces = forces_fn(checked.model, atoms, checked.tensor(atoms.get_positions(), requires_grad=True))
        return forces.detach().double().cpu().numpy()

    check = directional_check(
        ((functools.partial(checked.energy, a), a.get_positions(), forces_of(a)) for a in atoms_list),
        directions,
        step,
        seed,
    )
    worst = check.error
    comparison = _compare_with_autograd(potential, atoms_list, forces_fn)
    report.relative_error, report.directional_error = comparison.relative_error, worst
    native = describe_forces(comparison, rtol, n_atoms, "forces_fn")
    float64_tolerance = 1e-6 if checked.precision == "float64" else 3e-3
    float64_problem = _forces_problem(checked, atoms_list, forces_fn, float64_tolerance)
    if worst > float64_tolerance:
        report.problems.append(
            float64_problem
            or "energy_fn is not differentiable as autograd sees it: central differences of energy_fn disagree with "
            f"both autograd's −∂Ê/∂r and forces_fn (largest error {worst:.2e}); a cutoff without switching, "
            "or a neighbour list that changes within ±1e-4 Å"
        )
    elif native is not None:
        suffix = ""
        if potential.precision != "float64":
            suffix = f" (in {potential.precision}; the float64 copy agrees, so this is round-off: loosen rtol)"
        report.problems.append(native + suffix)
    return report


def assert_forces_consistent(model: torch.nn.Module, energy_fn: Callable, configurations: Sequence, **options):
    """Raise :class:`CheckFailure` unless ``forces_fn(model, atoms, r)`` = −∂Ê/∂r of ``energy_fn``; return the report.

    Two comparisons: central differences of ``energy_fn`` along ``directions`` seeded random unit
    vectors u per configuration, −(Ê[r + hu] − Ê[r − hu])/(2h) = u·f̂ + O(h²) (on a float64 copy when
    possible, h = 1e-4 Å; else h = 1e-2 Å), which checks autograd itself; and whole force arrays
    against autograd's −∂Ê/∂r in the model's dtype (``rtol`` 1e-6 in float64, 1e-3 in float32).
    """
    __tracebackhide__ = True
    report = forces_error(model, energy_fn, configurations, **options)
    if not report.passed:
        raise CheckFailure(report)
    return report
