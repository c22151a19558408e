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

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from snapcheck.data.units import tensor_from_voigt, voigt_from_tensor


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
    """Return (lower-triangular cell, rotated positions, rotation Q) of :meth:`Frame.of` ``cell``."""
    frame = Frame.of(cell)
    return frame.cell, positions @ frame.rotation, frame.rotation


def voigt_in_lammps_frame(voigt: np.ndarray, rotation: np.ndarray) -> np.ndarray:
    """Symmetric tensors (6, ...) in Voigt order turned into LAMMPS's frame: T' = Qᵀ T Q."""
    if np.array_equal(rotation, np.eye(3)):
        return voigt
    return voigt_from_tensor(np.einsum("ca,cd...,db->ab...", rotation, tensor_from_voigt(voigt), rotation))


def change_box_command(low: Sequence[float], high: Sequence[float], xy: float, yz: float, xz: float) -> str:
    """``change_box`` to these bounds and tilts, in Å (LAMMPS's own box change; it leaves the atoms where
    they are, and the engine places them itself).  Tilts beyond half a box length are allowed (LAMMPS warns)."""
    bounds = " ".join(f"{axis} final {lo:.17g} {hi:.17g}" for axis, lo, hi in zip("xyz", low, high))
    return f"change_box all {bounds} xy final {xy:.17g} xz final {xz:.17g} yz final {yz:.17g} units box"


@dataclass(frozen=True)
class Frame:
    """A periodic cell as LAMMPS holds it.

    Attributes:
        cell: the lower-triangular cell (rows, Å) in LAMMPS's frame, ``user cell @ rotation``.
        inverse: its inverse (1/Å).
        rotation: Q, user frame → LAMMPS's: v' = v Q; back: v = v' Qᵀ.
        volume: V in Å³.
    """

    cell: np.ndarray
    inverse: np.ndarray
    rotation: np.ndarray
    volume: float

    @classmethod
    def of(cls, cell: np.ndarray) -> Frame:
        """The frame of a right-handed cell (rows a, b, c in Å, the user's frame)."""
        cell = np.asarray(cell, dtype=np.float64)
        if cell.shape != (3, 3) or not np.all(np.isfinite(cell)):
            raise ValueError(f"a cell must be 3 × 3 finite numbers (rows a, b, c in Å), got shape {cell.shape}")
        if np.linalg.det(cell) <= 0:
            raise ValueError(
                f"the cell has det = {np.linalg.det(cell):.6g} Å³; its rows must be right-handed, a·(b×c) > 0"
            )
        rotation = lammps_rotation(cell)
        lower = np.tril(cell @ rotation)
        return cls(lower, np.linalg.inv(lower), rotation, abs(float(np.linalg.det(lower))))

    def change_box(self) -> str:
        """The LAMMPS command that gives an existing box this cell (atoms are not moved)."""
        (ax, _, _), (bx, by, _), (cx, cy, cz) = self.cell
        return change_box_command((0.0, 0.0, 0.0), (ax, by, cz), bx, cy, cx)

    def to_user(self, voigt: np.ndarray) -> np.ndarray:
        """Symmetric tensors (6, ...) in Voigt order from LAMMPS's frame back to the user's: T = Q T' Qᵀ."""
        if np.array_equal(self.rotation, np.eye(3)):
            return voigt
        rotated = np.einsum("ac,cd...,bd->ab...", self.rotation, tensor_from_voigt(voigt), self.rotation)
        return voigt_from_tensor(rotated)
