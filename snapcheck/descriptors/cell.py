"""Bringing a general periodic cell into LAMMPS's lower-triangular form.

LAMMPS requires a triclinic cell with lattice vectors (rows)

    a = (a_x, 0, 0),  b = (b_x, b_y, 0),  c = (c_x, c_y, c_z),   a_x, b_y, c_z > 0.

Any right-handed cell H (rows a, b, c) is brought there by a rotation.  Write
the QR factorisation Hᵀ = Q R with R upper-triangular and diag(R) > 0; then
H Q = Rᵀ is lower-triangular.  Since det H > 0 and diag(R) > 0, det Q = +1: Q is
a proper rotation, not a reflection.  Positions (rows) rotate the same way,
r' = r Q.

Energies and the bispectrum B are invariant under the rotation.  Vectors that
LAMMPS returns in the rotated frame (forces, the descriptor derivatives
∂B/∂r) come back to the user's frame as v = v' Qᵀ.
"""

from __future__ import annotations

import numpy as np


def lammps_rotation(cell: np.ndarray) -> np.ndarray:
    """The rotation Q with ``cell @ Q`` lower-triangular and a positive diagonal.

    A cell already in that form gets exactly the identity, so that its numbers
    reach LAMMPS untouched by round-off.
    """
    cell = np.asarray(cell, dtype=np.float64)
    if not np.any(np.triu(cell, 1)) and np.all(np.diag(cell) > 0):
        return np.eye(3)
    q, r = np.linalg.qr(cell.T)
    signs = np.sign(np.diag(r))
    signs[signs == 0] = 1.0
    return q * signs


def to_lammps_frame(cell: np.ndarray, positions: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return (lower-triangular cell, rotated positions, rotation Q)."""
    rotation = lammps_rotation(cell)
    lower = np.tril(cell @ rotation)
    return lower, positions @ rotation, rotation
