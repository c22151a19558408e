"""Bugs in the cell handling of a stress: a cell-dependent quantity that does not follow the strain.

The stress is σ = (1/V) ∂Ê/∂ε under r → r(I + ε)ᵀ, h → h(I + ε)ᵀ (eV/Å³, ASE's sign).  Every quantity
built from the cell (image offsets, k-vectors, the wrapping of atoms into the cell, the volume) must be
built from the strained cell; in these entries one was built once, from the unstrained one, or from
another cell.
"""

from __future__ import annotations

import numpy as np
import torch

from snapcheck.torch.potential import CUTOFF
from snapcheck.torch.zoo.potentials import (
    Pair,
    TinyMPNN,
    cell_tensor,
    energy_fn,
    graph,
    reciprocal_vectors,
    strain_derivative,
    stress_from,
)
from snapcheck.torch.zoo.registry import (
    STRESS_INP,
    STRESS_SET,
    Case,
    Entry,
    configurations,
    stress_case,
    with_reference,
)


def energy_with_precomputed_kvectors(model, atoms, positions, cell=None):
    """nvalchemi#136: the k-vectors generated once from the atoms' own (unstrained) cell and passed in."""
    g = graph(atoms, positions, cell)
    return model(positions, g._replace(kvectors=reciprocal_vectors(cell_tensor(atoms, positions))))


def nvalchemi_136(buggy: bool, dtype) -> Case:
    """A strain gradient through ``ewald_reciprocal_space`` with k-vectors built once from the unstrained cell
    missed ∂k/∂ε and returned a wrong virial, silently."""
    energy = energy_with_precomputed_kvectors if buggy else energy_fn
    return stress_case(Pair(dtype, ewald=True), configurations(*STRESS_SET), stress_from(energy), energy)


def energy_with_preprocessed_offsets(model, atoms, positions, cell=None):
    """schnetpack#401: the image offsets S·h computed by the neighbour-list transform in preprocessing."""
    g = graph(atoms, positions, cell)
    return model(positions, g._replace(offsets=graph(atoms, positions).offsets))


def schnetpack_401(buggy: bool, dtype) -> Case:
    """SchNetPack's neighbour list ran as offline preprocessing: the strain reached the positions but not the
    periodic image offsets, which were outside the computational graph."""
    energy = energy_with_preprocessed_offsets if buggy else energy_fn
    model = TinyMPNN(species=(49, 15), dtype=dtype)
    return stress_case(model, configurations(*STRESS_INP), stress_from(energy), energy)


def unwrapped(atoms):
    """``atoms`` with every third atom moved out of the cell by a lattice vector (as an MD trajectory leaves them)."""
    reference = {key: atoms.calc.results[key] for key in ("energy", "forces", "stress")}  # invariant under the move
    positions = atoms.get_positions()
    positions[::3] += atoms.cell.array[0] - atoms.cell.array[2]
    atoms.set_positions(positions)
    return with_reference(atoms, **reference)


def torchani_221(buggy: bool, dtype) -> Case:
    """TorchANI's ASE calculator strained the coordinates and then wrapped them into the cell with the
    unstrained cell: the image shift n·h of every atom outside the cell did not follow the strain."""

    def stress(model, atoms, positions, cell):
        lattice = torch.floor(torch.linalg.solve(cell.T, positions.detach().T).T)  # n, atoms outside: n ≠ 0
        wrapped = atoms.copy()
        wrapped.set_positions(atoms.get_positions() - lattice.numpy() @ np.asarray(atoms.cell))

        def energy(r, h):
            if buggy:  # strain, then wrap with the unstrained cell
                return energy_fn(model, wrapped, r - lattice @ cell, h)
            return energy_fn(model, wrapped, r - lattice @ h, h)  # wrap, then strain: n·h follows the strain

        return strain_derivative(energy, positions, cell) / torch.linalg.det(cell).abs()

    batch = [unwrapped(a) for a in configurations(("ta", "GSF_110", 0), ("ta", "Displaced_BCC", 0))]
    return stress_case(TinyMPNN(dtype=dtype), batch, stress)


def inflated_cell(atoms, cell: torch.Tensor) -> torch.Tensor:
    """The cell a neighbour-list helper builds for non-periodic directions: a box 5 cutoffs beyond the atoms."""
    extent = np.ptp(atoms.get_positions(), axis=0) + 5 * CUTOFF
    rows = [cell[k] if atoms.pbc[k] else torch.eye(3, dtype=cell.dtype)[k] * float(extent[k]) for k in range(3)]
    return torch.stack(rows)


#: Two Ta surface slabs, 24 and 40 atoms in cells of 53 and 37 Å along z (about 27 and 19 Å of vacuum).
SURFACES = (("ta", "Surface", 0), ("ta", "Surface", 3))


def slab(atoms):
    """A Ta surface cell as the slab it is: periodic in x and y only (the reference values stay attached)."""
    reference = {key: atoms.calc.results[key] for key in ("energy", "forces", "stress")}
    atoms.pbc = (True, True, False)
    return with_reference(atoms, **reference)


def mace_1523(buggy: bool, dtype) -> Case:
    """MACE's neighbourhood code inflated the cell along non-periodic directions and returned it, so the stress
    of a slab was the virial divided by the inflated volume; energies and forces were unaffected."""

    def stress(model, atoms, positions, cell):
        derivative = strain_derivative(lambda r, h: energy_fn(model, atoms, r, h), positions, cell)
        return derivative / torch.linalg.det(inflated_cell(atoms, cell) if buggy else cell).abs()

    return stress_case(TinyMPNN(dtype=dtype), [slab(a) for a in configurations(*SURFACES)], stress)


ENTRIES = (
    Entry(
        "nvalchemi-136",
        "https://github.com/NVIDIA/nvalchemi-toolkit-ops/issues/136",
        "ewald_reciprocal_space autograd silently returns a wrong virial (k-vectors from the unstrained cell)",
        "stress-frozen-cell",
        "cell handling",
        "Pair",
        nvalchemi_136,
        r"built once from the unstrained cell",
        ("stress",),
        related=("https://github.com/NVIDIA/nvalchemi-toolkit-ops/pull/138",),
    ),
    Entry(
        "schnetpack-401",
        "https://github.com/atomistic-machine-learning/schnetpack/issues/401",
        "Towards stress in dev: image offsets computed outside the computational graph",
        "stress-frozen-cell",
        "cell handling",
        "TinyMPNN",
        schnetpack_401,
        r"built once from the unstrained cell",
        ("stress",),
    ),
    Entry(
        "torchani-221",
        "https://github.com/aiqm/torchani/pull/221",
        "Fix order of wrapping and strain",
        "stress-frozen-cell",
        "cell handling",
        "TinyMPNN",
        torchani_221,
        r"wrap",
        ("stress",),
    ),
    Entry(
        "mace-1523",
        "https://github.com/ACEsuit/mace/pull/1523",
        "Fix stress normalization for partially periodic systems",
        "stress-volume",
        "cell handling",
        "TinyMPNN",
        mace_1523,
        r"volume",
        ("stress",),
        misnamed=(
            "the stress check says 'stress_fn has factors that vary by configuration'; on a cell that is not periodic "
            "in every direction it should say that the stress is divided by another volume than det(cell)"
        ),
    ),
)
