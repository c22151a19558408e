"""``assert_forces_consistent``: a trainer's forces against −∂Ê/∂r of its own energy.

Three comparisons, from ``energy_fn`` alone (on a float64 copy of the model when possible):

* central differences of Ê along seeded random directions against u·f̂ (the one force check,
  :func:`snapcheck.gradients.forces_check.directional_check`), which checks autograd itself; an error
  that does not shrink with the step names detached geometry, one that does a non-smooth Ê;
* the work of the forces along a straight path moving every atom by up to 0.05 Å against the change of
  Ê (Simpson's rule), which catches an Ê that jumps where a pair crosses a cutoff;
* the whole force arrays against autograd's −∂Ê/∂r in the model's dtype, configuration by
  configuration, so a sign, a factor or a per-atom-mean energy is named (and forces that change when
  taken with ``create_graph=True``, a custom backward).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence

import numpy as np
import torch

from snapcheck.gradients.checks import CheckFailure
from snapcheck.gradients.forces_check import (
    ForcesComparison,
    ForcesReport,
    compare_forces,
    describe_forces,
    directional_check,
)
from snapcheck.torch.backend import TorchPotential, forces_from_energy
from snapcheck.torch.setup import ENERGY_IGNORES_POSITIONS, setup


def _compare_with_autograd(potential: TorchPotential, atoms_list, forces_fn) -> ForcesComparison:
    """``forces_fn`` against autograd's −∂Ê/∂r of ``energy_fn``, per configuration, in the model's dtype."""
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


def forces_problem(potential: TorchPotential, atoms_list, forces_fn, rtol: float) -> str | None:
    """How ``forces_fn`` differs from autograd's −∂Ê/∂r in the model's dtype, or None."""
    comparison = _compare_with_autograd(potential, atoms_list, forces_fn)
    problem = describe_forces(comparison, rtol, [len(a) for a in atoms_list], "forces_fn")
    if problem is None:
        return None
    change = _create_graph_change(potential, atoms_list)
    if change > max(rtol, 1e-9):
        return (
            f"−∂Ê/∂r of energy_fn changes when it is taken with create_graph=True (relative difference {change:.2e}): "
            "a custom torch.autograd.Function whose backward differs when the graph is kept (it counts a path twice "
            "or drops one), so the forces a trainer trains on are not the forces the model predicts"
        )
    return problem


def _create_graph_change(potential: TorchPotential, atoms_list) -> float:
    """|f̂(create_graph=True) − f̂(create_graph=False)| / |f̂|, over all configurations."""
    plain = [potential.forces(atoms) for atoms in atoms_list]
    kept = [potential.forces(atoms, create_graph=True) for atoms in atoms_list]
    size = np.sqrt(sum(float(np.sum(f**2)) for f in plain))
    change = np.sqrt(sum(float(np.sum((a - b) ** 2)) for a, b in zip(kept, plain)))
    return float(change / size) if size else 0.0


#: Å: every atom moves by at most this along the path of :func:`_work_mismatch` (pairs by twice it, within the
#: 0.1 Å the paper's displacements reach).
PATH_LENGTH = 0.05
#: Simpson intervals along that path.
PATH_STEPS = 16


def _work_mismatch(potential: TorchPotential, atoms_list, seed: int) -> float:
    """The largest |Ê(end) − Ê(start) + ∫ f̂·dr| over a straight path moving every atom by up to
    :data:`PATH_LENGTH` Å in a random direction, relative to the largest |f̂·dr/ds| on it (Simpson's rule).

    Smooth Ê: ~1e-8 or less.  A jump in Ê along the path (a pair crossing a cutoff without a smooth
    switching function, a neighbour list that changes) shows as a mismatch of the size of the jump.
    """
    rng = np.random.default_rng(seed)
    worst = 0.0
    for atoms in atoms_list:
        start = atoms.get_positions()
        directions = rng.standard_normal(start.shape)
        move = (
            PATH_LENGTH * rng.uniform(size=(len(atoms), 1)) * directions / np.linalg.norm(directions, axis=1)[:, None]
        )
        s = np.linspace(0.0, 1.0, PATH_STEPS + 1)
        rates = np.array([float(np.sum(potential.forces(atoms, start + t * move) * move)) for t in s])
        weights = np.ones(PATH_STEPS + 1)
        weights[1:-1:2], weights[2:-1:2] = 4.0, 2.0
        work = float(weights @ rates) / (3 * PATH_STEPS)
        jump = potential.energy(atoms, start + move) - potential.energy(atoms, start) + work
        worst = max(worst, abs(jump) / max(float(np.max(np.abs(rates))), 1e-300))
    return worst


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
    atoms_list, potential, checked, rtol = start.atoms, start.potential, start.checked, start.rtol
    n_atoms = start.n_atoms
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
    float64_problem = forces_problem(checked, atoms_list, forces_fn, float64_tolerance)
    if worst > float64_tolerance:
        finer = directional_check(
            ((functools.partial(checked.energy, a), a.get_positions(), forces_of(a)) for a in atoms_list),
            directions,
            step / 10,
            seed,
        ).error
        if float64_problem is not None:
            report.problems.append(float64_problem)
        elif finer > 0.5 * worst:  # a derivative mismatch, not a truncation or a jump: it does not shrink with h
            report.problems.append(
                "autograd's −∂Ê/∂r misses part of Ê's dependence on the positions: central differences of energy_fn "
                f"differ from it by {worst:.2e} at a step of {step:.0e} Å and by {finer:.2e} at {step / 10:.0e} Å: "
                "part of the geometry is detached from the graph (computed under torch.no_grad(), .detach(), "
                "or through numpy), so forces and stress miss its terms"
            )
        else:
            report.problems.append(
                "Ê is not smooth: central differences of energy_fn disagree with autograd's −∂Ê/∂r and forces_fn "
                f"(largest error {worst:.2e} at {step:.0e} Å, {finer:.2e} at {step / 10:.0e} Å): a cutoff without a "
                "smooth switching function, or a neighbour list that changes within the step"
            )
        return report
    jump = _work_mismatch(checked, atoms_list, seed)
    if jump > (1e-4 if checked.precision == "float64" else 1e-2):
        report.problems.append(
            f"Ê is not smooth: along a straight path moving every atom by up to {PATH_LENGTH} Å, Ê changes by "
            f"{jump:.2e} (relative to the largest work rate) more than the work of its own forces: Ê jumps where a "
            "pair crosses the cutoff without a smooth switching function, or where a neighbour list changes"
        )
        return report
    if native is not None:
        suffix = ""
        if potential.precision != "float64":
            suffix = f" (in {potential.precision}; the float64 copy agrees, so this is round-off: loosen rtol)"
        report.problems.append(native + suffix)
    return report


def assert_forces_consistent(model: torch.nn.Module, energy_fn: Callable, configurations: Sequence, **options):
    """Raise :class:`CheckFailure` unless ``forces_fn(model, atoms, r)`` = −∂Ê/∂r of ``energy_fn``; return the report.

    Three comparisons (module docstring): central differences of ``energy_fn`` along ``directions``
    seeded random unit vectors u per configuration, −(Ê[r + hu] − Ê[r − hu])/(2h) = u·f̂ + O(h²) (on a
    float64 copy when possible, h = 1e-4 Å; else h = 1e-2 Å), which checks autograd itself; the work of
    the forces along a straight path of up to :data:`PATH_LENGTH` Å per atom against the change of Ê,
    which catches a jump in Ê; and whole force arrays against autograd's −∂Ê/∂r in the model's dtype
    (``rtol`` 1e-6 in float64, 1e-3 in float32).
    """
    __tracebackhide__ = True
    report = forces_error(model, energy_fn, configurations, **options)
    if not report.passed:
        raise CheckFailure(report)
    return report
