"""Extended XYZ training files, read with ASE, grouped as FitSNAP's XYZ scraper groups them.

An extxyz file holds frames one after the other; each frame's comment line
carries ``Lattice="a1x a1y a1z a2x … a3z"`` (the lattice vectors, as rows of
snapcheck's cell, the same numbers as a FitSNAP JSON ``Lattice``),
``energy=`` (total, eV), ``stress="9 numbers"`` and ``Properties=`` with the
per-atom ``species``, ``pos`` (Å) and ``forces`` (eV/Å).
:func:`ase.io.read` reads them all (``index=":"``).

FitSNAP's XYZ scraper (``fitsnap3lib/scrapers/xyz_scraper.py``) makes one group
per file, named by the file stem (``Displaced_BCC.xyz`` → ``Displaced_BCC``),
frames in file order; snapcheck does the same and names a frame
``<stem>:<index>``.

**Stress.**  In these files ``stress`` is FitSNAP's: the JSON ``Stress`` copied
verbatim, in bar, positive = compressive (LAMMPS's pressure sign), and FitSNAP
applies no conversion.  ASE would mean eV/Å³ with tensile positive, but its
reader stores the numbers as given, so they are taken here as bar, pressure
positive, exactly like the JSON copy (the two copies of the Ta data agree bit
for bit, ``tests/data/test_extxyz.py``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from snapcheck.base.errors import InputError, locate
from snapcheck.data.configuration import Configuration
from snapcheck.data.units import tensor_from_voigt

#: The file endings taken as extended XYZ.
EXTXYZ_SUFFIXES = (".xyz", ".extxyz")


def extxyz_files(folder: Path) -> list[Path]:
    """The extxyz files directly in ``folder``, sorted by name (= FitSNAP's group order)."""
    return sorted(path for path in folder.iterdir() if path.suffix in EXTXYZ_SUFFIXES and path.is_file())


def read_extxyz(path: str | Path, group: str | None = None) -> list[Configuration]:
    """Every frame of one extxyz file, in file order; the group is the file stem by default."""
    import ase.io

    path = Path(path)
    group = group if group is not None else path.stem
    try:
        frames = ase.io.read(path, index=":", format="extxyz")
    except OSError as exc:
        raise InputError(f"{path}: cannot read the file ({exc.strerror or exc})") from None
    except Exception as exc:  # ASE raises a variety of parse errors
        raise InputError(f"{path}: not a valid extended XYZ file ({type(exc).__name__}: {exc})") from None
    if not frames:
        raise InputError(f"{path}: holds no frames")
    configurations = []
    for index, atoms in enumerate(frames):
        name = f"{path.stem}:{index}"
        where = locate(str(path), name)
        results = atoms.calc.results if atoms.calc is not None else {}
        for field in ("energy", "forces"):
            if field not in results:
                raise InputError(
                    f"{where}: the frame has no DFT {field} (energy= on the comment line, forces in Properties=)"
                )
        if not atoms.cell.rank == 3:
            raise InputError(f"{where}: no Lattice= with three lattice vectors; snapcheck needs a periodic cell")
        stress = results.get("stress")
        configurations.append(
            Configuration(
                name=name,
                group=group,
                positions=atoms.positions,
                cell=np.array(atoms.cell),
                species=tuple(atoms.get_chemical_symbols()),
                energy=results["energy"],
                forces=results["forces"],
                stress=None if stress is None else _voigt_to_tensor(np.asarray(stress), where),
                source=str(path),
            )
        )
    return configurations


def _voigt_to_tensor(stress: np.ndarray, where: str) -> np.ndarray:
    """The frame's stress (Voigt xx, yy, zz, yz, xz, xy, or 3 × 3) as a 3 × 3 tensor."""
    if stress.shape == (3, 3):
        return stress
    if stress.shape != (6,):
        raise InputError(f"{where}: stress has shape {stress.shape}, expected 9 numbers")
    return tensor_from_voigt(stress)
