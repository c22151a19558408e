"""``assert_force_training_gradient`` and ``assert_forces_consistent``: a trainer's force training, checked.

The gradient under test is the trainer's ∇θ Σ_c loss_fn(forces_fn(model, atoms_c, r_c), f_c, atoms_c),
left in ``.grad`` by ``backward()`` (or by the trainer's own ``trainer_step(model, configurations)``,
e.g. its loss graph and backward on one batch; ``loss_fn`` is then the specification only).  The
reference comes from ``energy_fn`` alone (:mod:`snapcheck.torch.reference`): the paper's Eq. 7 at
automatic ε and, in float64, the exact forward-over-reverse product of Eq. 6.  Relative errors are
normwise per parameter tensor, by ``named_parameters()`` name, as Eq. 11 is over all of θ.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch

from snapcheck.gradients.paper import relative_error
from snapcheck.torch.diagnosis import compare_forces, describe_forces, describe_gradient
from snapcheck.torch.reference import (
    LOW_PRECISION,
    Reference,
    as_atoms_list,
    choose_epsilon,
    default_loss,
    dft_forces,
    flat,
    float64_copy,
    model_device,
    model_dtype,
    positions_tensor,
    scalar,
    slices,
    trained_parameters,
)

#: Default relative tolerances by the trainer's dtype (per tensor, against the float64 reference).
DEFAULT_RTOL = {torch.float64: 1e-6, torch.float32: 1e-3}
LOW_PRECISION_RTOL = 1e-3


def default_rtol(dtype: torch.dtype) -> float:
    return DEFAULT_RTOL.get(dtype, LOW_PRECISION_RTOL)


@dataclass
class GradientReport:
    """What :func:`assert_force_training_gradient` measured (relative errors per parameter tensor)."""

    relative_errors: dict[str, float]  # against the exact product when there is one, else Eq. 7
    relative_errors_fd: dict[str, float]  # against the paper's central difference (Eq. 7)
    relative_errors_exact: dict[str, float] | None  # against the exact product (float64 reference only)
    fd_vs_exact: dict[str, float] | None  # Eq. 7's own error at the chosen ε
    epsilon: float
    eta: float  # Å²/eV per unit of g
    error_bound: float  # the proxy at ε: the estimated relative error of Eq. 7
    proxy: dict[float, float]
    proxy_kind: str
    dtype: torch.dtype
    reference_dtype: torch.dtype
    rtol: float
    loss: float
    n_configurations: int
    energy_only: list[str] = field(default_factory=list)  # enter Ê but not f̂ (offsets): zero force-loss gradient

    def __str__(self) -> str:
        lines = [
            f"force-training gradient: {self.n_configurations} configurations, loss {self.loss:.6g}, trainer "
            f"{self.dtype}, reference {self.reference_dtype}, rtol {self.rtol:g}",
            f"  ε = {self.epsilon:.1e} ({self.proxy_kind} proxy), η = {self.eta:.3e}, "
            f"error bound of Eq. 7 ≈ {self.error_bound:.1e}",
        ]
        for name, error in self.relative_errors.items():
            extra = "" if self.fd_vs_exact is None else f"   (Eq. 7 vs exact {self.fd_vs_exact[name]:.1e})"
            if name in self.energy_only:
                extra = "   (energy only: no force-loss gradient, as expected)"
            lines.append(f"  {name:<40s} rel. error {error:.2e}{extra}")
        return "\n".join(lines)


@dataclass
class ForcesReport:
    """What :func:`assert_forces_consistent` measured."""

    relative_error: float  # normwise, forces_fn vs −∂Ê/∂r over all configurations, model dtype
    directional_errors: list[float]  # per (configuration, direction): |u·f − FD| / max(|FD|, |f|)
    ratio: float  # least-squares ratio of forces_fn to −∂Ê/∂r
    step: float  # Å
    rtol: float
    dtype: torch.dtype

    def __str__(self) -> str:
        return (
            f"forces: forces_fn vs −∂Ê/∂r rel. error {self.relative_error:.2e}, largest directional central-difference "
            f"error {max(self.directional_errors):.2e} (step {self.step:.0e} Å), ratio {self.ratio:.6f}, "
            f"rtol {self.rtol:g}, {self.dtype}"
        )


def forces_from_energy(energy_fn: Callable) -> Callable:
    """The forces_fn a correct trainer writes: −∂Ê/∂r with ``create_graph=True`` (so the loss reaches θ)."""

    def forces_fn(model, atoms, positions):
        (grad,) = torch.autograd.grad(energy_fn(model, atoms, positions), positions, create_graph=True)
        return -grad

    return forces_fn


def trainer_gradient(model, atoms_list, forces_fn, loss_fn, trainer_step) -> tuple[list, bool]:
    """The trainer's ∇θ(total loss) per parameter (None: no gradient), and whether the loss had a graph.

    The model's ``.grad`` is saved and restored, so checking inside a training loop changes nothing.
    """
    params = trained_parameters(model)
    saved = [p.grad for _, p in params]
    for _, p in params:
        p.grad = None
    has_graph = True
    try:
        if trainer_step is not None:
            trainer_step(model, atoms_list)
        else:
            dtype, device = model_dtype(model), model_device(model)
            total = 0
            for atoms in atoms_list:
                forces = forces_fn(model, atoms, positions_tensor(atoms, dtype, device, requires_grad=True))
                reference = torch.tensor(dft_forces(atoms), dtype=forces.dtype, device=device)
                total = total + scalar(loss_fn(forces, reference, atoms), "loss_fn")
            has_graph = bool(total.requires_grad)
            if has_graph:
                total.backward()
        return [None if p.grad is None else p.grad.detach().clone() for _, p in params], has_graph
    finally:
        for (_, p), grad in zip(params, saved):
            p.grad = grad


def per_tensor(test: np.ndarray, reference: np.ndarray, parts: dict[str, slice]) -> dict[str, float]:
    """Eq. 11's normwise relative error for each parameter tensor (0 when both are zero)."""
    errors = {}
    for name, s in parts.items():
        if not np.any(reference[s]):
            errors[name] = 0.0 if not np.any(test[s]) else math.inf
        else:
            errors[name] = relative_error(test[s], reference[s])
    return errors


def reference_model(model, energy_fn, atoms_list, reference_dtype):
    """The model the reference runs on: a float64 copy for low-precision models when possible."""
    dtype = model_dtype(model)
    if dtype == torch.float64 or reference_dtype == "native":
        return model
    twin = float64_copy(model, energy_fn, atoms_list)
    if twin is None and reference_dtype == torch.float64:
        raise ValueError(
            "energy_fn does not run on a float64 copy of the model (it must build its tensors in positions.dtype); "
            "fix that, or pass reference_dtype='auto' to use the model's own dtype and the gradient proxy"
        )
    if reference_dtype not in ("auto", torch.float64):
        raise ValueError(f"reference_dtype={reference_dtype!r}: expected 'auto', 'native' or torch.float64")
    return model if twin is None else twin


def assert_force_training_gradient(
    model: torch.nn.Module,
    energy_fn: Callable,
    configurations: Sequence,
    *,
    forces_fn: Callable | None = None,
    loss_fn: Callable | None = None,
    trainer_step: Callable | None = None,
    rtol: float | None = None,
    reference_dtype="auto",
    epsilon="auto",
    allow_unused: Sequence[str] = (),
) -> GradientReport:
    """Assert that the trainer's ∇θ(force loss) equals the one implied by ``energy_fn``; return the report.

    ``configurations``: ``ase.Atoms`` with energy and forces attached, or snapcheck Configurations.
    ``energy_fn(model, atoms, positions)`` → Ê (scalar tensor, eV); ``forces_fn(model, atoms,
    positions)`` → f̂ (N, 3) (default: −∂Ê/∂r with create_graph); ``loss_fn(f̂, f, atoms)`` → scalar
    (default: ½Σ|f̂ − f|², Eq. 2), summed over configurations.  ``rtol`` defaults to 1e-6 for float64
    trainers and 1e-3 for float32.  Raises AssertionError naming the bug (see :mod:`.diagnosis`).
    """
    atoms_list = as_atoms_list(configurations)
    user_forces_fn = forces_fn
    forces_fn = forces_fn or forces_from_energy(energy_fn)
    paper_loss = loss_fn is None
    loss_fn = loss_fn or default_loss
    dtype = model_dtype(model)
    rtol = default_rtol(dtype) if rtol is None else rtol
    params = trained_parameters(model)
    parts = slices(params)
    n_atoms = sum(len(a) for a in atoms_list)

    reference = Reference.from_energy_fn(
        reference_model(model, energy_fn, atoms_list, reference_dtype), energy_fn, atoms_list, loss_fn
    )
    if not reference.differentiable:
        raise AssertionError(
            "snapcheck: energy_fn is not differentiable in the positions snapcheck passes (it detaches them, "
            "converts them to numpy, or runs under torch.no_grad()): build Ê from the `positions` tensor argument"
        )
    if reference.g0 == 0.0:
        raise AssertionError("snapcheck: ∂L/∂f̂ is zero on every configuration, so the force-loss gradient is zero")
    grads, has_graph = trainer_gradient(model, atoms_list, forces_fn, loss_fn, trainer_step)
    test = flat(grads, params)
    choice = choose_epsilon(reference, epsilon, paper_loss=paper_loss)
    enters_energy = reference.enters_energy()
    exact = None
    if reference.dtype == torch.float64:
        try:
            exact = reference.exact()
        except RuntimeError:  # a model without double backward: Eq. 7 stands alone
            exact = None
    truth = choice.gradient if exact is None else exact
    errors_fd = per_tensor(test, choice.gradient, parts)
    errors_exact = None if exact is None else per_tensor(test, exact, parts)
    report = GradientReport(
        relative_errors=errors_exact or errors_fd,
        relative_errors_fd=errors_fd,
        relative_errors_exact=errors_exact,
        fd_vs_exact=None if exact is None else per_tensor(choice.gradient, exact, parts),
        epsilon=choice.epsilon,
        eta=reference.eta(choice.epsilon),
        error_bound=choice.bound,
        proxy=choice.proxy,
        proxy_kind=choice.kind,
        dtype=dtype,
        reference_dtype=reference.dtype,
        rtol=rtol,
        loss=reference.loss,
        n_configurations=len(atoms_list),
        energy_only=[n for n, s in parts.items() if enters_energy[n] and not np.any(truth[s])],
    )
    problems = diagnose_gradient(
        model, energy_fn, atoms_list, user_forces_fn, grads, has_graph, test, truth, report, parts, n_atoms
    )
    unused = [n for n, enters in enters_energy.items() if not enters and n not in allow_unused]
    if unused:
        problems.append(
            "parameter tensor(s) " + ", ".join(unused) + " never receive a gradient: they do not enter the energy at "
            "all (an unused module, or registered but bypassed); pass allow_unused=[...] if that is intended"
        )
    if problems:
        raise AssertionError("snapcheck: " + "\n  ".join(problems) + "\n" + str(report))
    return report


def diagnose_gradient(
    model, energy_fn, atoms_list, user_forces_fn, grads, has_graph, test, truth, report, parts, n_atoms
) -> list[str]:
    """The problems with the trainer's gradient, forces first (see :mod:`snapcheck.torch.diagnosis`)."""
    dtype, rtol = report.dtype, report.rtol
    comparison = None if user_forces_fn is None else compare_forces(model, energy_fn, atoms_list, user_forces_fn)
    forces_problem = None if comparison is None else describe_forces(comparison, default_rtol(dtype))
    if not has_graph or not np.any(test):
        if forces_problem is not None:
            return [f"zero gradient: no parameter receives a force-loss gradient, because {forces_problem}"]
        if not has_graph or (comparison is not None and not comparison.has_graph):
            return [
                "zero gradient: the predicted forces carry no graph to the parameters; forces_fn took "
                "torch.autograd.grad(...) without create_graph=True (or detached the forces, or ran under "
                "torch.no_grad()): use create_graph=True"
            ]
        return [
            "zero gradient: the trainer's backward left no gradient in any parameter (.grad never set, zero_grad "
            "after backward, or the loss detached)"
        ]
    if forces_problem is not None:
        return [f"the forces are wrong, so the force-loss gradient is: {forces_problem}"]
    missing = [
        n for n, s in parts.items() if np.any(truth[s]) and (grads[list(parts).index(n)] is None or not np.any(test[s]))
    ]
    if missing:
        return [
            "missing gradient: parameter tensor(s) " + ", ".join(missing) + " receive no gradient from the trainer "
            "although the force loss depends on them (detached, frozen or skipped in the trainer's force path)"
        ]
    worst = max(report.relative_errors.values())
    if worst > rtol:
        return [describe_gradient(test, truth, worst, rtol, dtype, n_atoms, report.n_configurations)]
    if report.fd_vs_exact and max(report.fd_vs_exact.values()) > max(rtol, 1e3 * report.error_bound + 1e-12):
        return [
            "the paper's central difference disagrees with the exact product beyond its error bound: energy_fn is "
            "not smooth over r ± ηg (a cutoff without switching, or a neighbour list rebuilt without a skin)"
        ]
    return []


def assert_forces_consistent(
    model: torch.nn.Module,
    energy_fn: Callable,
    configurations: Sequence,
    *,
    forces_fn: Callable | None = None,
    rtol: float | None = None,
    directions: int = 3,
    seed: int = 0,
) -> ForcesReport:
    """Assert ``forces_fn(model, atoms, r) = −∂Ê/∂r``; return the report.

    Two comparisons: central differences of ``energy_fn`` along ``directions`` seeded random unit
    vectors u per configuration, −(Ê[r + hu] − Ê[r − hu])/(2h) = u·f̂ + O(h²) (on a float64 copy when
    possible, h = 1e-4 Å; else h = 1e-2 Å), which checks autograd itself; and whole force arrays
    against autograd's −∂Ê/∂r in the model's dtype (rtol 1e-6 in float64, 1e-3 in float32).
    """
    atoms_list = as_atoms_list(configurations)
    forces_fn = forces_fn or forces_from_energy(energy_fn)
    dtype = model_dtype(model)
    rtol = default_rtol(dtype) if rtol is None else rtol
    checked = reference_model(model, energy_fn, atoms_list, "auto")
    checked_dtype, device = model_dtype(checked), model_device(checked)
    step = 1e-4 if checked_dtype == torch.float64 else 1e-2
    rng = np.random.default_rng(seed)
    errors, fd_values, fn_values = [], [], []
    for atoms in atoms_list:
        forces = forces_fn(checked, atoms, positions_tensor(atoms, checked_dtype, device, requires_grad=True))
        forces = forces.detach().double().cpu().numpy()
        for _ in range(directions):
            u = rng.standard_normal((len(atoms), 3))
            u /= np.linalg.norm(u)
            with torch.no_grad():
                plus, minus = (
                    float(energy_fn(checked, atoms, positions_tensor(atoms, checked_dtype, device, positions=r)))
                    for r in (atoms.get_positions() + step * u, atoms.get_positions() - step * u)
                )
            fd, fn = -(plus - minus) / (2 * step), float(np.sum(forces * u))
            errors.append(abs(fn - fd) / max(abs(fd), float(np.linalg.norm(forces)), 1e-300))
            fd_values.append(fd)
            fn_values.append(fn)
    native = compare_forces(model, energy_fn, atoms_list, forces_fn)
    report = ForcesReport(native.relative_error, errors, native.ratio, step, rtol, dtype)
    fd_tolerance = 1e-6 if checked_dtype == torch.float64 else 3e-3
    problem = None
    if max(errors) > fd_tolerance:
        problem = describe_forces(compare_forces(checked, energy_fn, atoms_list, forces_fn), fd_tolerance)
        if problem is None:
            problem = (
                "energy_fn is not differentiable as autograd sees it: central differences of energy_fn disagree with "
                f"both autograd's −∂Ê/∂r and forces_fn (largest error {max(errors):.2e}); a cutoff without switching, "
                "or a neighbour list that changes within ±1e-4 Å"
            )
    elif native.relative_error > rtol:
        problem = describe_forces(native, rtol)
        if dtype in LOW_PRECISION:
            problem += f" (in {dtype}; the float64 copy agrees, so this is {dtype} round-off: loosen rtol)"
    if problem:
        raise AssertionError("snapcheck: " + problem + "\n" + str(report))
    return report
