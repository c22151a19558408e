"""Stress in snapcheck: its unit, its sign and its Voigt order, in one place.

**The pressure tensor, bar.**  A configuration's ``stress`` and every stress
snapcheck computes is the pressure tensor P in bar, positive = compressive:
what LAMMPS reports in ``metal`` units (``compute pressure``, thermo ``pxx`` …),
what FitSNAP fits and what its datasets store.  For a homogeneous strain ε
applied to the cell and the positions together (rows r → r (I + ε), cell
H → H (I + ε), ε symmetric), the virial pressure of a potential Ê at zero
temperature is

    P_ab = −(1/V) ∂Ê/∂ε_ab,

V the cell volume (Å³); LAMMPS computes it as nktv2p · W_ab / V from the virial
W_ab = Σⱼ r_j,a f_j,b (eV), and nktv2p converts eV/Å³ to bar.

**ASE's stress, eV/Å³.**  ASE, and the PyTorch trainers that follow it (MACE,
NequIP), report σ = (1/V) ∂E/∂ε in eV/Å³, positive = tensile:

    σ = −P / (bar per eV/Å³).

**Two values of "bar per eV/Å³".**  LAMMPS's ``nktv2p`` in ``metal`` units
(:data:`NKTV2P`, seven digits) and ASE's ``1 / ase.units.bar`` (CODATA 2014)
differ in the eighth digit (7.6e-8 relative).  Each conversion here inverts the one
that produced its numbers: a pressure LAMMPS computed (a model's P̂) becomes
(1/V) ∂Ê/∂ε exactly with nktv2p (:func:`ase_stress_from_lammps_pressure`); a
label read from, or handed to, ASE uses ASE's bar (:func:`pressure_from_ase_stress`,
:func:`ase_stress_from_pressure`), so that ASE's numbers survive a round trip.

**Voigt order.**  LAMMPS's pressure rows, its virial rows and ASE's 6-vectors
share one order: xx, yy, zz, yz, xz, xy (:data:`VOIGT`).
"""

from __future__ import annotations

import numpy as np
from ase import units

#: bar per eV/Å³: LAMMPS's ``nktv2p`` in ``metal`` units (``force->nktv2p``), which every pressure it reports uses.
NKTV2P = 1.6021765e6

#: The (row, column) of each Voigt component: xx, yy, zz, yz, xz, xy (LAMMPS's and ASE's order).
VOIGT = ((0, 0), (1, 1), (2, 2), (1, 2), (0, 2), (0, 1))

#: bar per unit of each FitSNAP JSON ``StressStyle`` snapcheck reads (keys lower case; FitSNAP's own
#: spellings ``bar``, ``bars``, ``metal``, ``kbar``, ``kb``/``kB`` from its ``units/pressure.py``, and GPa and
#: eV/Å³, for which FitSNAP has none).  eV/Å³ uses ASE's bar: such labels come from ASE.  The unit changes, the
#: sign does not: a FitSNAP ``Stress`` is a pressure, compressive positive, in whatever unit.
STRESS_STYLES = {
    "bar": 1.0,
    "bars": 1.0,
    "metal": 1.0,
    "kbar": 1e3,
    "kb": 1e3,
    "gpa": 1e4,
    "ev/angstrom^3": 1.0 / units.bar,
    "ev/å^3": 1.0 / units.bar,
    "ev/å³": 1.0 / units.bar,
    "ev/a^3": 1.0 / units.bar,
}


def tensor_from_voigt(voigt: np.ndarray) -> np.ndarray:
    """Symmetric tensors (3, 3, …) from their Voigt rows (6, …) in the order of :data:`VOIGT`."""
    voigt = np.asarray(voigt)
    tensor = np.empty((3, 3) + voigt.shape[1:], dtype=voigt.dtype)
    for row, (a, b) in enumerate(VOIGT):
        tensor[a, b] = tensor[b, a] = voigt[row]
    return tensor


def voigt_from_tensor(tensor: np.ndarray) -> np.ndarray:
    """The Voigt rows (6, …) of tensors (3, 3, …), upper triangle, in the order of :data:`VOIGT`."""
    tensor = np.asarray(tensor)
    return np.stack([tensor[a, b] for a, b in VOIGT])


def ase_stress_from_lammps_pressure(pressure: np.ndarray) -> np.ndarray:
    """σ = (1/V) ∂Ê/∂ε in eV/Å³ (ASE's sign) of a pressure LAMMPS computed, in bar: −P / nktv2p, exactly."""
    return -np.asarray(pressure) / NKTV2P


def pressure_from_ase_stress(stress: np.ndarray) -> np.ndarray:
    """The pressure in bar (compressive positive) of an ASE stress σ in eV/Å³ (tensile positive): −σ / ase.units.bar."""
    return -np.asarray(stress) / units.bar


def ase_stress_from_pressure(pressure: np.ndarray) -> np.ndarray:
    """ASE's stress σ in eV/Å³ of a pressure in bar: −P · ase.units.bar.

    The inverse of :func:`pressure_from_ase_stress`.
    """
    return -np.asarray(pressure) * units.bar
