"""Checks of a configuration's geometry that the array shapes cannot express.

Two atoms at the same place, or closer than any physical bond
(:data:`MIN_DISTANCE`, periodic images included), make the bispectrum
descriptors and the reference potential infinite: a check would print NaN and
a fit or training would end silently with θ = NaN.  Such a configuration is
refused when it is built (:class:`~snapcheck.data.configuration.Configuration`
calls :func:`check_geometry`), naming the file, the configuration, the two
atoms and their distance.

:func:`wrap_into_cell` is also what the descriptor engine uses to bring
positions into the cell before LAMMPS sees them.
"""

from __future__ import annotations

import itertools

import numpy as np
from scipy.spatial import cKDTree

from snapcheck.base.errors import InputError

#: Å: no two atoms (periodic images included) may be closer; the shortest bonds in nature are ≈ 0.74 Å (H₂).
MIN_DISTANCE = 0.1

#: The 27 lattice shifts of a cell and its neighbours, (0, 0, 0) first.
SHIFTS = np.array(sorted(itertools.product((-1, 0, 1), repeat=3), key=lambda s: any(s)), dtype=np.float64)


def wrap_into_cell(
    positions: np.ndarray, cell: np.ndarray, *, leave_within: int = 0, inverse: np.ndarray | None = None
) -> np.ndarray:
    """Positions (rows, Å) shifted by whole lattice vectors into the cell (rows a, b, c).

    Only atoms outside move, by exact multiples of the lattice vectors, so
    energies, forces and descriptors are those of the wrapped configuration
    and atoms inside keep their coordinates bit for bit.  ``leave_within = 1``
    also leaves alone every fractional coordinate within one period of the
    cell, [−1, 2): LAMMPS moves those back itself (it moves an atom by at most
    one period and loses atoms that lie farther out, as MD dumps and extxyz
    files often hold them), and leaving them to it keeps earlier results bit for bit.  ``inverse``: the
    cell's inverse, when the caller wraps often into one cell.
    """
    fractional = positions @ (np.linalg.inv(cell) if inverse is None else inverse)
    shifts = np.floor(fractional)
    shifts[(fractional >= -leave_within) & (fractional < 1 + leave_within)] = 0.0
    return positions - shifts @ cell if np.any(shifts) else positions


def closest_pair(positions: np.ndarray, cell: np.ndarray, within: float) -> tuple[int, int, float] | None:
    """(i, j, distance in Å) of the closest two atoms nearer than ``within``, periodic images included; else None.

    ``i == j`` means an atom and its own periodic image (a cell thinner than ``within``).  One k-d tree
    query over the cell and its 26 neighbours: each atom's nearest points are itself and its nearest
    other point (an atom, or an image), whatever their order when two coincide.
    """
    n = len(positions)
    inside = wrap_into_cell(positions, cell)
    images = (inside[None, :, :] + (SHIFTS @ cell)[:, None, :]).reshape(-1, 3)
    distances, indices = cKDTree(images).query(inside, k=3, distance_upper_bound=within)
    others = indices != np.arange(n)[:, None]  # not the atom itself (SHIFTS starts with 0, 0, 0)
    distances = np.where(others, distances, np.inf)
    nearest = distances.min(axis=1)
    if not np.any(nearest < within):
        return None
    i = int(np.argmin(nearest))
    k = int(indices[i, np.argmin(distances[i])])
    return min(i, k % n), max(i, k % n), float(nearest[i])


def check_geometry(positions: np.ndarray, cell: np.ndarray, where: str) -> None:
    """Refuse atoms closer than :data:`MIN_DISTANCE` (periodic images included), naming both atoms."""
    pair = closest_pair(positions, cell, MIN_DISTANCE)
    if pair is not None:
        i, j, distance = pair
        what = (
            f"atom {i} is {distance:.3g} Å from its own periodic image"
            if i == j
            else (f"atoms {i} and {j} (rows of Positions, from 0) are {distance:.3g} Å apart")
        )
        raise InputError(
            f"{where}: Positions: {what}, periodic images included; atoms closer than {MIN_DISTANCE} Å "
            "make the descriptors infinite"
        )
