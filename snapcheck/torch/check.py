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

from collections.abc import Callable, Sequence

import numpy as np
import torch

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
from snapcheck.gradients.diagnosis import describe_gradient
from snapcheck.gradients.epsilon import DEFAULT_RULE
from snapcheck.gradients.reference import Reference
from snapcheck.torch.backend import (
    TorchPotential,
    as_atoms_list,
    dft_forces,
    flat,
    forces_from_energy,
    scalar,
)

ENERGY_IGNORES_POSITIONS = (
    "energy_fn does not depend on the positions tensor snapcheck passes: Ê has no gradient with respect to it in "
    "any configuration. "
    "Build Ê from the `positions` argument (not from atoms.positions, a graph or neighbour data built "
    "beforehand, a detached copy, a numpy round trip, or under torch.no_grad())"
)


def _reference_potential(potential: TorchPotential, atoms_list, warnings: list[str]) -> TorchPotential:
    """The float64 copy of a low-precision potential when ``energy_fn`` allows one; a warning when not."""
    twin = potential.float64(atoms_list[0])
    if twin is None:
        warnings.append(
            f"the reference runs in {potential.precision}: energy_fn does not follow the dtype of the model and "
            "positions (it builds tensors in a fixed dtype), so errors below single-precision round-off (~1e-3) "
            "are invisible; create tensors with positions.dtype to get a float64 reference"
        )
        return potential
    return twin


def trainer_gradient(potential: TorchPotential, atoms_list, forces_fn, trainer_step) -> tuple[list, bool]:
    """The trainer's ∇θ(total loss) per parameter (None: no gradient), and whether the loss had a graph.

    The model's ``.grad`` is saved and restored, so checking inside a training loop changes nothing.
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
            total = 0
            for atoms in atoms_list:
                forces = forces_fn(potential.model, atoms, potential.tensor(atoms.get_positions(), requires_grad=True))
                total = total + scalar(potential.loss_fn(forces, potential.tensor(dft_forces(atoms)), atoms), "loss_fn")
            has_graph = bool(total.requires_grad)
            if has_graph:
                total.backward()
        return [None if p.grad is None else p.grad.detach().clone() for _, p in params], has_graph
    finally:
        for (_, p), grad in zip(params, saved):
            p.grad = grad


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
    trainer_step: Callable | None = None,
    rtol: float | None = None,
    epsilon: float | str = "auto",
    rule: str = DEFAULT_RULE,
    allow_unused: Sequence[str] = (),
) -> GradientReport:
    """The report of :func:`assert_force_loss_gradient`, without raising."""
    __tracebackhide__ = True
    atoms_list = as_atoms_list(configurations)
    potential = TorchPotential(model, energy_fn, loss_fn)
    rtol = default_rtol(potential.precision) if rtol is None else rtol
    warnings: list[str] = []
    checked = _reference_potential(potential, atoms_list, warnings)
    report = GradientReport(
        relative_errors={},
        compared_with="",
        rtol=rtol,
        tolerance=rtol,
        epsilon=float("nan"),
        error_bound=float("nan"),
        proxy="",
        rule="",
        precision=potential.precision,
        reference_precision=checked.precision,
        loss=float("nan"),
        n_atoms=[len(a) for a in atoms_list],
        warnings=warnings,
    )
    if not any(checked.depends_on_positions(atoms) for atoms in atoms_list):
        report.problems.append(ENERGY_IGNORES_POSITIONS)
        return report
    reference = Reference(checked, atoms_list)
    report.loss = reference.loss
    if all(t.path.is_zero() for t in reference.terms):
        report.problems.append(
            "∂L/∂f̂ is zero on every configuration, so the force-loss gradient is zero: nothing to check"
        )
        return report
    grads, has_graph = trainer_gradient(potential, atoms_list, forces_fn or forces_from_energy(energy_fn), trainer_step)
    candidate = flat(grads, potential.params)
    choice = reference.choose(epsilon, rule=rule)
    exact = reference.exact()
    truth = choice.estimate.gradients if exact is None else exact
    parts = potential.parameter_slices
    report.epsilon, report.error_bound, report.proxy, report.rule = (
        choice.epsilon,
        choice.bound,
        choice.proxy,
        choice.rule,
    )
    report.relative_errors = per_tensor(candidate, truth.sum(axis=0), parts)
    if exact is None:
        report.compared_with = f"the paper's Eq. 7 at ε = {choice.epsilon:.1e} ({checked.precision})"
        report.tolerance = estimate_tolerance(rtol, choice.proxy, choice.bound)
    else:
        report.compared_with = "the exact forward-over-reverse product of energy_fn (float64)"
        report.estimate_errors = per_tensor(candidate, choice.estimate.gradients.sum(axis=0), parts)
        report.estimate_vs_exact = per_tensor(choice.estimate.gradients.sum(axis=0), truth.sum(axis=0), parts)
    enters_energy = _enters_energy(reference)
    report.energy_only = [n for n, s in parts.items() if enters_energy[n] and not np.any(truth[:, s])]
    report.problems += _diagnose(potential, atoms_list, forces_fn, grads, has_graph, candidate, truth, report)
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


def _diagnose(potential, atoms_list, forces_fn, grads, has_graph, candidate, truth, report) -> list[str]:
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
    ``loss_fn(f̂, f, atoms)`` → scalar (default ½Σ|f̂ − f|², Eq. 2), summed over configurations;
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
    atoms_list = as_atoms_list(configurations)
    potential = TorchPotential(model, energy_fn)
    forces_fn = forces_fn or forces_from_energy(energy_fn)
    rtol = default_rtol(potential.precision) if rtol is None else rtol
    warnings: list[str] = []
    checked = _reference_potential(potential, atoms_list, warnings)
    n_atoms = [len(a) for a in atoms_list]
    report = ForcesReport(float("nan"), float("nan"), 0.0, rtol, potential.precision, n_atoms, warnings=warnings)
    if not any(checked.depends_on_positions(atoms) for atoms in atoms_list):
        report.problems.append(ENERGY_IGNORES_POSITIONS)
        return report
    report.step = step = 1e-4 if checked.precision == "float64" else 1e-2

    def forces_of(atoms) -> np.ndarray:
        forces = forces_fn(checked.model, atoms, checked.tensor(atoms.get_positions(), requires_grad=True))
        return forces.detach().double().cpu().numpy()

    check = directional_check(
        ((lambda r, a=a: checked.energy(a, r), a.get_positions(), forces_of(a)) for a in atoms_list),
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
