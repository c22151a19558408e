"""One atomic configuration with its DFT reference data.

A configuration is what one DFT calculation produces: atom positions in a
periodic cell, and the total energy, the forces and (optionally) the stress that
DFT assigned to them.  It is the unit of everything in the paper: the force loss
L of Eq. 2 is defined per configuration, and the dataset averages ⟨·⟩ of Eq. 1
run over configurations.

Units (FitSNAP's "metal" convention, the same as LAMMPS ``units metal``):

==============  ===========  =====================================
field           shape        unit
==============  ===========  =====================================
positions       (N, 3)       Å, Cartesian
cell            (3, 3)       Å, rows are the lattice vectors a, b, c
energy          scalar       eV, total energy of the cell
forces          (N, 3)       eV/Å
stress          (3, 3)       bar, positive = compressive (optional)
==============  ===========  =====================================

Every check runs when the object is built, so a ``Configuration`` that exists
is one that the descriptor engine can use.  Errors name the source file and
the configuration, so a bad record in a dataset of thousands is found at once.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from ase.data import atomic_numbers

from snapcheck.base.errors import InputError, locate
from snapcheck.data.units import ase_stress_from_pressure, pressure_from_ase_stress
from snapcheck.data.validation import check_geometry


def _finite_array(value, shape, what: str, where: str) -> np.ndarray:
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InputError(f"{where}: {what} is not a numeric array ({exc})") from None
    if array.shape != shape:
        raise InputError(f"{where}: {what} has shape {array.shape}, expected {shape}")
    if not np.all(np.isfinite(array)):
        bad = np.argwhere(~np.isfinite(array))[0]
        raise InputError(f"{where}: {what} holds a NaN or inf value at index {tuple(int(i) for i in bad)}")
    return array


@dataclass(frozen=True, eq=False)
class Configuration:
    """An atomic configuration and its DFT labels (units in the module docstring)."""

    name: str
    group: str
    positions: np.ndarray
    cell: np.ndarray
    species: tuple[str, ...]
    energy: float
    forces: np.ndarray
    stress: np.ndarray | None = None
    source: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        where = locate(self.source, self.name)
        positions = np.asarray(self.positions)
        if positions.ndim != 2 or positions.shape[1:] != (3,) or positions.shape[0] == 0:
            raise InputError(f"{where}: positions have shape {positions.shape}, expected (N, 3) with N ≥ 1")
        n_atoms = positions.shape[0]
        set_ = object.__setattr__
        set_(self, "positions", _finite_array(positions, (n_atoms, 3), "positions", where))
        set_(self, "cell", _finite_array(self.cell, (3, 3), "cell", where))
        set_(self, "forces", _finite_array(self.forces, (n_atoms, 3), "forces", where))
        set_(self, "energy", float(_finite_array(self.energy, (), "energy", where)))
        if self.stress is not None:
            set_(self, "stress", _finite_array(self.stress, (3, 3), "stress", where))
        species = tuple(str(s) for s in self.species)
        if len(species) != n_atoms:
            raise InputError(f"{where}: {len(species)} species for {n_atoms} atoms")
        unknown = sorted({s for s in species if s not in atomic_numbers or s == "X"})
        if unknown:
            raise InputError(f"{where}: unknown species {unknown}; expected chemical symbols such as 'Ta'")
        set_(self, "species", species)
        for array in (self.positions, self.cell, self.forces, self.stress):
            if array is not None:
                array.flags.writeable = False
        _check_cell(self.cell, where)
        check_geometry(self.positions, self.cell, where)

    @property
    def n_atoms(self) -> int:
        return self.positions.shape[0]

    @property
    def label(self) -> str:
        """``group/name``: unique within a dataset."""
        return f"{self.group}/{self.name}"

    @classmethod
    def from_atoms(cls, atoms, name: str = "", group: str = "", source: str = "") -> Configuration:
        """A configuration from an ``ase.Atoms`` with energy and forces attached (e.g. read from extxyz).

        ``name`` and ``group`` default to ``atoms.info["name"]``/``["group"]`` (as :meth:`to_atoms` writes them).

        ASE reports stress as σ in eV/Å³, positive = tensile; a configuration holds the pressure
        tensor in bar, positive = compressive: P = −σ / ``ase.units.bar``
        (:func:`snapcheck.data.units.pressure_from_ase_stress`).
        """
        name = name or str(atoms.info.get("name", atoms.get_chemical_formula()))
        group = group or str(atoms.info.get("group", ""))
        where = locate(source, name)
        try:
            energy, forces = atoms.get_potential_energy(), atoms.get_forces()
        except Exception as exc:  # noqa: BLE001 - ASE raises several types for a missing calculator
            raise InputError(
                f"{where}: the ase.Atoms has no energy and forces attached ({exc}); read them from an extxyz "
                "file or attach an ase.calculators.singlepoint.SinglePointCalculator(atoms, energy=..., forces=...)"
            ) from None
        stress = None
        try:
            stress = pressure_from_ase_stress(atoms.get_stress(voigt=False))
        except Exception:  # noqa: BLE001 - stress is optional
            pass
        return cls(
            name=name,
            group=group,
            positions=atoms.get_positions(),
            cell=np.asarray(atoms.get_cell()),
            species=tuple(atoms.get_chemical_symbols()),
            energy=energy,
            forces=forces,
            stress=stress,
            source=source,
        )

    def to_atoms(self):
        """A periodic ``ase.Atoms`` with the DFT energy, forces and stress attached (inverse of :meth:`from_atoms`)."""
        from ase import Atoms
        from ase.calculators.singlepoint import SinglePointCalculator

        atoms = Atoms(symbols=list(self.species), positions=self.positions, cell=self.cell, pbc=True)
        stress = None if self.stress is None else ase_stress_from_pressure(self.stress)
        atoms.calc = SinglePointCalculator(atoms, energy=self.energy, forces=np.array(self.forces), stress=stress)
        atoms.info.update(name=self.name, group=self.group)
        return atoms


def _check_cell(cell: np.ndarray, where: str) -> None:
    """A cell must span space and be right-handed: det(a, b, c) > 0.

    Singular means a volume below 1e-8 of the product of the vector lengths,
    i.e. the three vectors are coplanar to within round-off.
    """
    volume = float(np.linalg.det(cell))
    scale = float(np.prod(np.linalg.norm(cell, axis=1)))
    if scale == 0.0 or abs(volume) <= 1e-8 * scale:
        raise InputError(
            f"{where}: the cell is singular (volume {volume:.3g} Å³); "
            "its rows must be three independent lattice vectors"
        )
    if volume < 0:
        raise InputError(
            f"{where}: the cell is left-handed (det = {volume:.6g} Å³); "
            "reorder or negate a lattice vector so that a·(b×c) > 0"
        )
