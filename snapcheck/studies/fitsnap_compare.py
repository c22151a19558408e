"""snapcheck's linear fit against FitSNAP's, number by number: the agreement table.

Each line of the table compares one quantity of snapcheck's fit
(:mod:`snapcheck.models.linear_fit`) with FitSNAP's, a live run or the stored
fit (:mod:`snapcheck.studies.fitsnap_crosscheck` gets them and maps their rows
and columns onto snapcheck's):

==================  ==========================================================  ==========
quantity            compared                                                    tolerance
==================  ==========================================================  ==========
A, per row type     row by row, each of FitSNAP's columns with snapcheck's      1e-10
                    column of the same descriptor: per column max|Δ| / max|x|
b, energy / force   row by row, max|Δ| (eV/atom, eV/Å)                          1e-10
b, stress           row by row, max|Δ| / max|x| (bar)                           1e-10
w, per row type     row by row, identical                                       exact
coefficients β      max|Δ| / max|β|, where the rows determine β (below)           1e-8
metrics             per line (group, weighting, row type), at FitSNAP's β:      1e-8;
                    |Δ| / max(|x|, RMS of the line's labels b or w·b)
                    (R²: max(|x|, 1)); the stored fit's: |Δ| / |x|              1e-5
==================  ==========================================================  ==========

Rows are matched by (configuration, row type, component): the component is 0
for the energy row, 3·atom + axis for force rows and the Voigt index (xx, yy,
zz, yz, xz, xy) for the stress rows.  Stress rows are compared in LAMMPS's
frame (the cell rotated to lower-triangular form, where both codes evaluate),
in bar, with LAMMPS's sign (positive = compressive): A's stress rows are
nktv2p·W/V (the descriptors' virial W, nktv2p = 1.6021765e6 bar per eV/Å³,
V in Å³), b's are σ_DFT − P_ref.  They reach 1e7–1e14 bar per unit
coefficient, so their figure is relative; so is A's, per column, because a
column's entries scale with its descriptor (the quadratic Ta's products reach
1e8 eV/atom, its linear terms are of order 1).  A column that is zero in
FitSNAP's rows (β₀ in force rows) is judged by its absolute difference.

**β** is compared where the rows determine it.  Both codes solve by
``scipy.linalg.lstsq(w·A, w·b, 1e-13)``, on rows in different orders and
differing in round-off (~1e-13 of a column, the A lines).  That is the size of
the relative cut-off itself: a singular value of w·A within
:data:`TRUNCATION_MARGIN` of it may be kept by one solve and dropped by the
other, and a kept one that small magnifies the rows' differences up to 1e13-fold
along its direction, so the two β differ there (5 InP configurations for 480
coefficients; 24 quadratic Ta configurations for 1596: singular values at 1–3
times the cut-off).  The line then says so, with FitSNAP's singular values
(:class:`~snapcheck.studies.fitsnap_live.FitsnapRun`), and is not judged;
otherwise its note names what FitSNAP's SVD kept.  Exactly repeated columns
(InP's bnormflag: 52 of 240 per element) give singular values at round-off,
1e-16, far below the cut-off: both solves drop them, and the minimum-norm β
agree.

**Metrics** are snapcheck's (:func:`~snapcheck.models.linear_fit.fit_metrics`
on its own rows) at FitSNAP's β, the live run's or the stored one: they test
that both codes compute the same count, MAE, RMSE and R² of the same
residuals, while the β line tests the solve.  (Two SVD solves of an
ill-conditioned problem, the quadratic Ta's 1596 columns, give β that differ by
~1e-9 relative, along directions A hardly sees; that still moves the energy MAE
of its Volume groups, a few 1e-4 eV/atom, by ~1e-4 of itself.)  A residual's error is of the order of
round-off in its labels,
so the live run's lines are judged relative to the RMS of the line's labels
where the residual is smaller (a fit of 19 InP configurations with 480
coefficients leaves energy residuals of 1e-6 eV/atom on 5 eV/atom); the stored
file prints 6 digits, so its lines are judged relative to each value.  Two
lines that are both the same non-finite number (R² = −inf for a group of one
configuration) agree.  A line is left out when its residuals are round-off: the
perfect crystals of the Volume groups (Ta) and Bulk (InP) have zero forces by
symmetry, so both fits' force residuals there are ~1e-15 eV/Å, and their MAE,
RMSE and R² are noise that no two codes share.  Where the labels are zero to
round-off, so are both fits' predictions (the same symmetry), and the labels, unlike the
residuals, are the same in both codes: a line (weighted or not) is left out when the RMS
of the *unweighted* labels b of its group and row type (:func:`label_scales`) is below
:data:`ROUND_OFF_FRACTION` of the RMS of that row type's labels over every group
(``*ALL``).  A small group weight (the Elastic groups' 1e-8) makes a weighted metric small but
not round-off, and the weight cancels in a relative difference, so such lines
are compared.  ``left_out_lines`` names the lines left out.

What cannot be compared is a line of its own, ``status`` ``not compared`` with
the reason in ``note``: the stored matrices where the example did not dump them
(InP, the quadratic Ta), and the whole stored fit on a subset (``--configs``),
because the stored fit is FitSNAP's fit of every configuration.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from snapcheck.base.errors import CheckFailed
from snapcheck.data.configuration import Configuration
from snapcheck.data.snap_files import read_snapcoeff
from snapcheck.models.linear_fit import SINGULAR_VALUE_CUTOFF, FitRows, LinearFit, fit_metrics
from snapcheck.studies.fitsnap_crosscheck import (
    FITSNAP_VERSION,
    STORED_MATRICES,
    StoredFit,
    align,
    fitsnap_columns,
    read_stored_metrics,
    read_stored_reference,
)
from snapcheck.studies.fitsnap_live import FitsnapRun

#: Tolerances of the comparison: A relative per column, b absolute (relative for stress), w exact, β and the
#: metrics relative.
TOLERANCES = {"A": 1e-10, "b": 1e-10, "w": 0.0, "beta": 1e-8, "metrics": 1e-8}
#: The stored metrics are printed with 6 significant digits.
STORED_METRICS_TOLERANCE = 1e-5
#: Metric lines whose labels' RMS is below this fraction of the whole dataset's are round-off.
ROUND_OFF_FRACTION = 1e-10
#: A singular value within this factor of the cut-off is kept or dropped by round-off.
TRUNCATION_MARGIN = 10.0
ROW_TYPES = ("Energy", "Force", "Stress")
METRICS = ("ncount", "mae", "rmse", "rsq")
#: Rows of A compared at a time (InP's full A has 367,900 rows).
CHUNK_ROWS = 20_000


def _line(quantity, against, size, max_abs, max_rel, tolerance, relative: bool, note: str = "") -> dict:
    judged = max_rel if relative else max_abs
    return {
        "quantity": quantity,
        "against": against,
        "size": int(size),
        "max_abs_diff": max_abs,
        "max_rel_diff": max_rel,
        "tolerance": tolerance,
        "criterion": "relative" if relative else "absolute",
        "status": "agrees" if judged <= tolerance else "disagrees",
        "note": note,
    }


def not_compared(quantity: str, against: str, tolerance: float, reason: str) -> dict:
    """A line of the table for a quantity that cannot be compared, and why."""
    line = _line(quantity, against, 0, float("nan"), float("nan"), tolerance, True, reason)
    return {**line, "criterion": "", "status": "not compared"}


def _agreement(quantity, against, ours, theirs, tolerance: float, relative: bool) -> dict:
    """One line: max|Δ| and the normwise max|Δ| / max|x| over the block, so that entries that are zero in exact
    arithmetic (forces on symmetry sites) do not turn round-off into a relative error of 1."""
    ours, theirs = np.asarray(ours, dtype=float), np.asarray(theirs, dtype=float)
    max_abs = float(np.max(np.abs(ours - theirs), initial=0.0))
    scale = float(np.max(np.abs(theirs), initial=0.0))
    return _line(quantity, against, ours.size, max_abs, max_abs / scale if scale > 0 else max_abs, tolerance, relative)


def _matrix_agreement(
    quantity, against, ours: np.ndarray, theirs: np.ndarray, mine: np.ndarray, other: np.ndarray, columns, note
) -> dict:
    """A's rows ``mine`` (snapcheck's, at ``columns``) against ``other`` (FitSNAP's): per column max|Δ| / max|x|."""
    difference, scale = np.zeros(len(columns)), np.zeros(len(columns))
    for start in range(0, len(mine), CHUNK_ROWS):
        block = theirs[other[start : start + CHUNK_ROWS]]
        delta = np.abs(ours[mine[start : start + CHUNK_ROWS]][:, columns] - block)
        difference = np.maximum(difference, delta.max(axis=0))
        scale = np.maximum(scale, np.abs(block).max(axis=0))
    per_column = np.where(scale > 0, difference / np.where(scale > 0, scale, 1.0), difference)
    size = len(mine) * len(columns)
    return _line(quantity, against, size, float(difference.max()), float(per_column.max()), TOLERANCES["A"], True, note)


def column_note(n_ours: int, columns: np.ndarray, n_elements: int) -> str:
    """Which of snapcheck's columns A's lines compare (see :func:`.fitsnap_crosscheck.fitsnap_columns`)."""
    if len(columns) == n_ours:
        return f"all {n_ours} columns, in the same order"
    missing = sorted(set(range(n_ours)) - set(columns.tolist()))
    return (
        f"FitSNAP's {len(columns)} columns against snapcheck's {n_ours}: its column e·K + k is snapcheck's "
        f"e·(K + 1) + 1 + k (K = {n_ours // n_elements - 1}); snapcheck's β₀ columns {missing} (n_e/N in energy "
        "rows, 0 elsewhere) are not in FitSNAP's A under bzeroflag 1, which fits no β₀; both fits set β₀ = 0 "
        "(compared with β)"
    )


def _row_agreements(ours: FitRows, theirs: FitRows, columns: np.ndarray, against: str, n_elements: int) -> list[dict]:
    order = align(ours, theirs)
    note = column_note(ours.matrix.shape[1], columns, n_elements)
    results = []
    for row_type in ROW_TYPES:
        mine = np.flatnonzero((ours.index["row_type"] == row_type).to_numpy())
        if not len(mine):
            continue
        other, name = order[mine], row_type.lower()
        results += [
            _matrix_agreement(f"A, {name} rows", against, ours.matrix, theirs.matrix, mine, other, columns, note),
            _agreement(
                f"b, {name} rows", against, ours.truth[mine], theirs.truth[other], TOLERANCES["b"], row_type == "Stress"
            ),
            _agreement(f"w, {name} rows", against, ours.weights[mine], theirs.weights[other], TOLERANCES["w"], False),
        ]
    return results


def label_scales(rows: FitRows) -> pd.DataFrame:
    """Per metrics line (group incl. ``*ALL``, weighting, row type): the RMS of its labels b (w·b when weighted)."""
    frame = rows.index[["group", "row_type"]].assign(
        Unweighted=rows.truth**2, weighted=(rows.weights * rows.truth) ** 2
    )
    both = pd.concat([frame.assign(group="*ALL"), frame])
    mean_square = both.groupby(["group", "row_type"])[["Unweighted", "weighted"]].mean()
    scales = np.sqrt(mean_square).stack().rename("scale").reset_index()
    return scales.rename(columns={scales.columns[2]: "weighting"})


def _metric_agreements(
    ours: pd.DataFrame, theirs: pd.DataFrame, against: str, tolerance: float, scales: pd.DataFrame, floor: bool
) -> list[dict]:
    """Metrics compared line by line, leaving out the lines whose labels are round-off (module docstring): |Δ| / |x|,
    or with ``floor`` |Δ| / max(|x|, the RMS of the line's labels, :func:`label_scales`), for R² max(|x|, 1)."""
    keys = ["group", "weighting", "row_type"]
    merged = ours.merge(theirs, on=keys, how="outer", suffixes=("", "_theirs"), indicator=True)
    if (merged["_merge"] != "both").any():
        missing = merged[merged["_merge"] != "both"].iloc[0]
        side = "snapcheck" if missing["_merge"] == "left_only" else against
        reason = f"the line {tuple(missing[keys])} is in {side}'s metrics only"
        return [not_compared(f"metrics, {m}", against, tolerance, reason) for m in METRICS]
    merged = merged.merge(scales, on=keys, how="left")
    unweighted = scales[scales["weighting"] == "Unweighted"].set_index(["group", "row_type"])["scale"]
    line_labels = unweighted.reindex(pd.MultiIndex.from_frame(merged[["group", "row_type"]])).to_numpy()
    round_off = line_labels < ROUND_OFF_FRACTION * unweighted.xs("*ALL").reindex(merged["row_type"]).to_numpy()
    kept = merged[~round_off]
    left_out = "; ".join(
        f"{g} {r} {w}" for g, r, w in merged.loc[round_off, ["group", "row_type", "weighting"]].itertuples(index=False)
    )
    results = []
    for metric in METRICS:
        mine, other = kept[metric].to_numpy(dtype=float), kept[f"{metric}_theirs"].to_numpy(dtype=float)
        same = (mine == other) | (np.isnan(mine) & np.isnan(other))  # −inf R² of a one-configuration group
        size = np.abs(other)
        if floor:
            size = np.maximum(size, 1.0 if metric == "rsq" else kept["scale"].to_numpy())
        with np.errstate(divide="ignore", invalid="ignore"):
            absolute = np.where(same, 0.0, np.abs(mine - other))
            relative = np.where(same, 0.0, absolute / size)
        line = _line(
            f"metrics, {metric}", against, len(kept), float(absolute.max()), float(relative.max()), tolerance, True
        )
        results.append({**line, "left_out": int(round_off.sum()), "left_out_lines": left_out})
    return results


def fitsnap_solve(run: FitsnapRun) -> tuple[str, bool]:
    """What FitSNAP's SVD kept, and whether that determines β: no singular value within
    :data:`TRUNCATION_MARGIN` of the cut-off, where round-off decides whether it is kept."""
    relative = run.singular_values / run.singular_values[0]
    kept = relative[run.rank - 1]
    dropped = relative[run.rank] if run.rank < len(relative) else 0.0
    text = (
        f"FitSNAP's SVD keeps {run.rank} of {len(relative)} singular values, down to {kept:.2g} of the largest, "
        f"and drops {len(relative) - run.rank}" + (f", the largest of them at {dropped:.2g}" if dropped else "")
    )
    determined = (
        kept >= SINGULAR_VALUE_CUTOFF * TRUNCATION_MARGIN and dropped <= SINGULAR_VALUE_CUTOFF / TRUNCATION_MARGIN
    )
    if determined:
        return text, True
    return (
        f"{text}: within {TRUNCATION_MARGIN:g}× of the {SINGULAR_VALUE_CUTOFF:g} cut-off, round-off decides which are "
        "kept, and so β; the metrics are compared at FitSNAP's β",
        False,
    )


def compare_with_run(fit: LinearFit, run: FitsnapRun) -> list[dict]:
    """Agreements of snapcheck's fit with a live FitSNAP run."""
    against = f"FitSNAP {FITSNAP_VERSION} run"
    parameters = fit.model.parameters
    n_elements = len(parameters.elements)
    expected = fitsnap_columns(n_elements, parameters.n_descriptors, bool(parameters.bzeroflag))
    if not np.array_equal(run.columns, expected):
        raise CheckFailed(
            f"FitSNAP's A has {len(run.columns)} columns, snapcheck's settings imply {len(expected)} for FitSNAP "
            f"({n_elements} elements × {parameters.n_descriptors} descriptors, bzeroflag {parameters.bzeroflag})"
        )
    results = _row_agreements(fit.rows, run.rows, run.columns, against, n_elements)
    beta = _agreement("coefficients β", against, fit.model.coefficients, run.coefficients, TOLERANCES["beta"], True)
    solve, determined = fitsnap_solve(run)
    results.append({**beta, "note": solve} if determined else {**beta, "status": "not compared", "note": solve})
    ours = fit_metrics(fit.rows, run.coefficients.ravel())  # at FitSNAP's β (module docstring)
    scales = label_scales(fit.rows)
    return results + _metric_agreements(ours, run.metrics, against, TOLERANCES["metrics"], scales, floor=True)


def compare_with_stored(
    fit: LinearFit, configurations: list[Configuration], stored: StoredFit, subset: str = ""
) -> list[dict]:
    """Agreements of snapcheck's fit with FitSNAP's stored fit; ``subset`` says why a subset's fit is not compared."""
    against = f"FitSNAP stored fit ({stored.folder.name})"
    rows = [(f"{q}, {r.lower()} rows", TOLERANCES[q]) for r in ROW_TYPES for q in ("A", "b", "w")]
    if subset:
        reason = f"{subset}: the stored fit is FitSNAP's fit of the whole dataset"
        quantities = [*rows, ("coefficients β", TOLERANCES["beta"])]
        quantities += [(f"metrics, {m}", STORED_METRICS_TOLERANCE) for m in METRICS]
        return [not_compared(q, against, tolerance, reason) for q, tolerance in quantities]
    parameters = fit.model.parameters
    if stored.has_matrices:
        columns = fitsnap_columns(len(parameters.elements), parameters.n_descriptors, bool(parameters.bzeroflag))
        reference = read_stored_reference(stored.folder, configurations, fit.rows, columns)
        results = _row_agreements(fit.rows, reference, columns, against, len(parameters.elements))
    else:
        reason = f"{stored.folder.name} holds no {', '.join(STORED_MATRICES)} (FitSNAP's [EXTRAS] dump_* were 0)"
        results = [not_compared(q, against, tolerance, reason) for q, tolerance in rows]
    _, _, _, coefficients = read_snapcoeff(stored.snapcoeff)
    results.append(
        _agreement("coefficients β", against, fit.model.coefficients, coefficients, TOLERANCES["beta"], True)
    )
    if stored.metrics is None:
        reason = f"{stored.folder.name} holds no metrics table named as the input's [OUTFILE] metrics"
        return results + [not_compared(f"metrics, {m}", against, STORED_METRICS_TOLERANCE, reason) for m in METRICS]
    ours, theirs = fit_metrics(fit.rows, coefficients.ravel()), read_stored_metrics(stored.metrics)  # at the stored β
    scales = label_scales(fit.rows)
    return results + _metric_agreements(ours, theirs, against, STORED_METRICS_TOLERANCE, scales, floor=False)
