"""Neighbour lists no longer than the model needs.

FitSNAP inputs give the reference potential as ``pair_style hybrid/overlay
zero 10.0 zbl 4.0 4.8``: the ``zero`` sub-style adds no energy and exists only
so that LAMMPS builds neighbour lists long enough for ``compute snap``, whose
cutoff for a pair of elements (i, j) is rcutfac·(R_i + R_j) (Thompson et al.,
the ``radelem`` R of each element).  LAMMPS builds its lists at the largest
cutoff of any sub-style plus the skin, so a 10 Å ``zero`` for a 4.68 Å SNAP
cutoff makes every list about five times longer than needed, and every
evaluation pays for it in neighbour building and in the bispectrum's loop over
neighbours (about a third of an evaluation's time for Ta).

:func:`neighbour_pair_style` sets the ``zero`` cutoff to the SNAP cutoff;
every other sub-style keeps its own, and LAMMPS takes the largest.  Energies,
forces and descriptors are the same functions of the positions; only the order
in which LAMMPS sums over neighbours changes, which moves results by round-off
(a few units in the last place).
"""

from __future__ import annotations

from snapcheck.data.snap_files import SnapParameters


def snap_cutoff(parameters: SnapParameters) -> float:
    """The largest SNAP pair cutoff, rcutfac·2·max(R), in Å."""
    return parameters.rcutfac * 2.0 * max(parameters.radii)


def neighbour_pair_style(pair_style: str, parameters: SnapParameters) -> str:
    """``pair_style`` with the global cutoff of a ``zero`` sub-style set to the SNAP cutoff (module docstring)."""
    words = pair_style.split()
    for index, word in enumerate(words[:-1]):
        if word == "zero":
            words[index + 1] = f"{snap_cutoff(parameters):.17g}"
    return " ".join(words)
