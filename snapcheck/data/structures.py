"""The one test structure: rattled supercells of bcc tantalum, for benchmarks where no DFT data is needed.

A cubic bcc cell of lattice constant a = 3.316 Å (Ta06A's equilibrium) holds
2 atoms; ``repeats`` copies of it along each axis give N = 2·n₁n₂n₃ atoms.
Every coordinate is displaced by an independent N(0, σ²) draw from
``numpy.random.default_rng(seed)``, so the forces are nonzero and the cell is
the same for the same seed.  The reference data are zeros (energy 0 eV, forces
0 eV/Å): callers that need targets set them (e.g. the trained model's forces).
"""

from __future__ import annotations

import numpy as np
from ase.build import bulk

from snapcheck.data.configuration import Configuration

LATTICE_CONSTANT = 3.316  # Å, bcc Ta


def bcc_tantalum(
    repeats: int | tuple[int, int, int], seed: int = 0, displacement: float = 0.1, lattice: float = LATTICE_CONSTANT
) -> Configuration:
    """A rattled bcc Ta supercell (module docstring): ``repeats`` m or (n₁, n₂, n₃), σ = ``displacement`` Å."""
    shape = (repeats,) * 3 if isinstance(repeats, int) else tuple(repeats)
    atoms = bulk("Ta", "bcc", a=lattice, cubic=True).repeat(shape)
    positions = atoms.positions + np.random.default_rng(seed).normal(0.0, displacement, atoms.positions.shape)
    return Configuration(
        name=f"bcc Ta {'x'.join(map(str, shape))}",
        group="bcc Ta",
        positions=positions,
        cell=np.array(atoms.cell),
        species=tuple(atoms.get_chemical_symbols()),
        energy=0.0,
        forces=np.zeros_like(positions),
    )
