"""``assert_stress_consistent``: a trainer's stress against (1/V) ∂Ê/∂ε of its own energy.

The stress of a potential is the derivative of its energy under a homogeneous strain ε of the cell
and the positions together (rows are vectors: r → r(I + ε)ᵀ, cell → cell(I + ε)ᵀ),

    σ = (1/V) ∂Ê/∂ε,          in eV/Å³, ASE's sign (tensile positive; LAMMPS's pressure is P = −σ),

with V the volume of the unstrained cell.  Two references, from ``energy_fn(model, atoms, positions,
cell)`` alone:

* **exact**: autograd through a strain tensor (:meth:`~snapcheck.torch.backend.TorchPotential.stress`);
* **central difference**: for each of the six symmetric strain components, a *new* ase.Atoms with the
  strained cell and positions, and (Ê(+h) − Ê(−h))/(2hV).  A new object, so whatever ``energy_fn``
  builds once per configuration (periodic image shifts, k-vectors) is built again from the strained
  cell.  Where the two disagree, ``energy_fn`` itself is at fault: a cell-dependent term built once
  from the unstrained cell, which autograd through the strain cannot see.

The trainer's ``stress_fn(model, atoms, positions, cell)`` (a (3, 3) tensor, or six numbers in ASE's
Voigt order xx, yy, zz, yz, xz, xy) is compared with the exact σ, configuration by configuration, and
a disagreement is named (:data:`snapcheck.gradients.diagnosis.STRESS_FACTORS`): the sign, a virial
given as a stress (−V), a missing or extra 1/V, a division by the number of atoms, a unit (GPa, kbar,
bar), a strain applied to the cell but not to the positions, another Voigt order, an asymmetric result.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import torch

from snapcheck.base.errors import InputError
from snapcheck.gradients.checks import CheckFailure
from snapcheck.gradients.paper import relative_error_over
from snapcheck.gradients.stress_check import StressReport, describe_stress
from snapcheck.torch.backend import CELL_ARGUMENT, TorchPotential, apply_strain, zero_strain
from snapcheck.torch.setup import ENERGY_IGNORES_POSITIONS, setup

#: ASE's Voigt order.
VOIGT = ((0, 0), (1, 1), (2, 2), (1, 2), (0, 2), (0, 1))
#: Å/Å: the strain step of the central difference (float64 copy; 1e-3 when the reference stays in float32).
STRAIN_STEP = 1e-5


def as_tensor_3x3(values, where: str) -> np.ndarray:
    """A stress as (3, 3) from (3, 3) or six Voigt numbers in ASE's order."""
    array = np.asarray(values.detach().double().cpu().numpy() if torch.is_tensor(values) else values, dtype=float)
    if array.shape == (3, 3):
        return array
    if array.shape == (6,):
        tensor = np.empty((3, 3))
        for value, (a, b) in zip(array, VOIGT):
            tensor[a, b] = tensor[b, a] = value
        return tensor
    raise InputError(f"{where} must return a (3, 3) stress or six Voigt numbers in eV/Å³, got shape {array.shape}")


def strained(atoms, epsilon: np.ndarray):
    """A new ase.Atoms with cell and positions strained by (I + ε): nothing cached for ``atoms`` applies."""
    copy = atoms.copy()
    positions, cell = apply_strain(atoms.get_positions(), np.asarray(atoms.cell), epsilon)
    copy.set_cell(cell, scale_atoms=False)
    copy.set_positions(positions)
    return copy


def stress_by_differences(potential: TorchPotential, atoms, step: float) -> np.ndarray:
    """(1/V) ∂Ê/∂ε by central differences over strained copies of ``atoms``, symmetric components (3, 3)."""
    volume = abs(float(np.linalg.det(np.asarray(atoms.cell))))
    sigma = np.zeros((3, 3))
    for a, b in VOIGT:
        direction = np.zeros((3, 3))
        direction[a, b] = direction[b, a] = step if a == b else step / 2
        plus, minus = (strained(atoms, sign * direction) for sign in (1.0, -1.0))
        difference = potential.energy(plus, plus.get_positions(), np.asarray(plus.cell))
        difference -= potential.energy(minus, minus.get_positions(), np.asarray(minus.cell))
        sigma[a, b] = sigma[b, a] = difference / (2 * step * volume)
    return sigma


def stress_of_cell_strain(potential: TorchPotential, atoms) -> np.ndarray:
    """(1/V) ∂Ê/∂ε with the cell strained and the positions held: what a strain that misses the positions gives."""
    positions = potential.tensor(atoms.get_positions())
    epsilon = zero_strain(positions)
    _, cell = apply_strain(positions, potential.tensor(np.asarray(atoms.cell)), epsilon)
    energy = potential.call_energy(atoms, positions, cell)
    grad = torch.autograd.grad(energy, epsilon, allow_unused=True)[0] if energy.requires_grad else None
    volume = abs(float(np.linalg.det(np.asarray(atoms.cell))))
    return np.zeros((3, 3)) if grad is None else grad.detach().double().cpu().numpy() / volume


def moved_by_a_lattice_vector(atoms):
    """A copy of ``atoms`` with its first atom moved by the first lattice vector: the same periodic configuration."""
    moved = atoms.copy()
    positions = moved.get_positions()
    positions[0] += np.asarray(moved.cell)[0]
    moved.set_positions(positions)
    return moved


def _image_dependence(stress: Callable, atoms_list) -> float:
    """The largest relative change of ``stress(atoms)`` when the first atom is moved by a lattice vector."""
    worst = 0.0
    for atoms in atoms_list:
        here, there = stress(atoms), stress(moved_by_a_lattice_vector(atoms))
        worst = max(worst, float(np.abs(here - there).max()) / max(float(np.abs(here).max()), 1e-300))
    return worst


def wrapped(atoms):
    """A copy of ``atoms`` with every atom moved into the cell (the same periodic configuration)."""
    inside = atoms.copy()
    inside.wrap()
    return inside


def stress_error(
    model: torch.nn.Module,
    energy_fn: Callable,
    configurations: Sequence,
    *,
    stress_fn: Callable | None = None,
    rtol: float | None = None,
) -> StressReport:
    """The report of :func:`assert_stress_consistent`, without raising."""
    __tracebackhide__ = True
    start = setup(model, energy_fn, configurations, rtol)
    atoms_list, potential, checked, rtol = start.atoms, start.potential, start.checked, start.rtol
    n_atoms = start.n_atoms
    if not potential.takes_cell:
        raise InputError(f"the stress check needs {CELL_ARGUMENT}")
    step = STRAIN_STEP if checked.precision == "float64" else 1e-3
    volumes = [abs(float(np.linalg.det(np.asarray(a.cell)))) for a in atoms_list]
    report = StressReport(float("nan"), float("nan"), step, rtol, potential.precision, n_atoms, warnings=start.warnings)
    if start.energy_ignores_positions():
        report.problems.append(ENERGY_IGNORES_POSITIONS)
        return report
    exact = [checked.stress(atoms) for atoms in atoms_list]
    differences = [stress_by_differences(checked, atoms, step) for atoms in atoms_list]
    scale = max(max(float(np.abs(x).max()) for x in exact), 1e-300)
    symmetric = [(e + e.T) / 2 for e in exact]  # central differences see only the symmetric part
    report.difference_error = max(float(np.abs(e - d).max()) for e, d in zip(symmetric, differences)) / scale
    tolerance = 1e-6 if checked.precision == "float64" else 3e-3
    if report.difference_error > tolerance:
        report.problems.append(
            "energy_fn's stress is not (1/V) ∂Ê/∂ε of a strained configuration: autograd through the cell argument "
            f"and central differences over strained copies of the atoms disagree by {report.difference_error:.2e} "
            "(relative to the largest stress); a cell-dependent term (periodic image shifts, k-vectors, a "
            "reciprocal cell) is built once from the unstrained cell instead of from the `cell` argument"
        )
        return report
    image = _image_dependence(checked.stress, atoms_list)
    if image > tolerance:
        report.problems.append(
            "energy_fn's stress depends on which periodic image an atom is given in: moving one atom by a lattice "
            f"vector changes (1/V) ∂Ê/∂ε by {image:.2e} (relative): positions are wrapped into the cell with the "
            "unstrained cell; wrap with the `cell` argument, after the strain, or not at all"
        )
        return report
    if stress_fn is None:
        return report

    def candidate(atoms) -> np.ndarray:
        positions = potential.tensor(atoms.get_positions(), requires_grad=True)
        return as_tensor_3x3(stress_fn(model, atoms, positions, potential.tensor(np.asarray(atoms.cell))), "stress_fn")

    candidates = [candidate(atoms) for atoms in atoms_list]
    not_finite = [
        atoms.get_chemical_formula() for atoms, c in zip(atoms_list, candidates) if not np.all(np.isfinite(c))
    ]
    if not_finite:
        report.problems.append(
            f"stress_fn returns NaN or inf on {', '.join(not_finite)}: a division by zero (a zero volume, e.g. a "
            "cross product taken along the wrong dimension of a batch of cells)"
        )
        return report
    native = [potential.stress(atoms) for atoms in atoms_list] if checked is not potential else exact
    report.relative_error = relative_error_over(candidates, native)
    if report.relative_error > rtol:
        inside = [wrapped(atoms) for atoms in atoms_list]
        right_inside = relative_error_over([candidate(a) for a in inside], native) <= max(10 * rtol, 1e-9)
        if right_inside:  # σ is the same periodic configuration's: only the images the atoms are given in differ
            report.problems.append(
                "stress_fn depends on which periodic image an atom is given in: right with every atom inside the "
                f"cell, off by {report.relative_error:.2e} (relative) with the atoms as given: it wraps the positions "
                "into the cell with the unstrained cell after the strain; wrap first, or with the strained cell"
            )
            return report
    problem = describe_stress(
        candidates,
        native,
        [stress_of_cell_strain(potential, atoms) for atoms in atoms_list],
        n_atoms,
        volumes,
        rtol,
    )
    if problem is not None:
        report.problems.append(problem)
    return report


def assert_stress_consistent(model: torch.nn.Module, energy_fn: Callable, configurations: Sequence, **options):
    """Raise :class:`CheckFailure` unless ``energy_fn``'s stress is that of a strained configuration and the
    trainer's ``stress_fn(model, atoms, positions, cell)`` equals σ = (1/V) ∂Ê/∂ε (eV/Å³, ASE's sign).

    ``options``: ``stress_fn`` (without it only ``energy_fn`` is checked) and ``rtol`` (1e-6 in float64,
    1e-3 in float32).  Returns the report (module docstring).
    """
    __tracebackhide__ = True
    report = stress_error(model, energy_fn, configurations, **options)
    if not report.passed:
        raise CheckFailure(report)
    return report
