"""Comparing a trainer's candidate file with a golden reference file (``oracle compare``).

The formats of both files are in :mod:`snapcheck.studies.golden`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from snapcheck.base.errors import CheckFailed, InputError
from snapcheck.gradients.diagnosis import likely_bug
from snapcheck.gradients.paper import relative_error
from snapcheck.studies.sweep import ROUNDOFF_FORCE_ERROR


def _load(path: str | Path, required: tuple[str, ...], what: str) -> dict[str, np.ndarray]:
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {key: archive[key] for key in archive.files}
    except (OSError, ValueError) as exc:
        raise InputError(f"{path}: cannot read the {what} file ({exc})") from None
    missing = [key for key in required if key not in arrays]
    if missing:
        raise InputError(f"{path}: the {what} file lacks {missing} (see snapcheck.studies.golden for the format)")
    return arrays


def compare(reference_path: str | Path, candidate_path: str | Path) -> tuple[pd.DataFrame, str | None]:
    """Errors of a candidate against a reference, and the likely bug.

    Returns a table with one row per configuration and one per group, plus a
    first row ``all`` with Eq. 11's (and Eq. 14's) error over every
    configuration the candidate covers.  Rows of configurations and groups give
    their share of that error: |Δ| over them divided by the *overall* norm of
    the reference, so that perfect crystals, whose exact L and ∇θL are at
    round-off level, neither hide nor dominate (the shares add up in
    quadrature to the ``all`` row).  Columns: ``level`` (all, group or
    configuration), ``name``, ``group``, ``loss_error``, ``gradient_error`` (the
    shares), and for configurations their own relative errors
    ``loss_relative_error`` and ``gradient_relative_error`` (|Δ|/|exact| of that
    configuration; NaN where ``measurable`` is False, see :func:`_own_relative_errors`).
    A candidate holding NaN or inf raises :class:`~snapcheck.base.errors.CheckFailed`
    naming the configurations and θ components.
    """
    reference = _load(reference_path, ("names", "groups", "loss", "gradient", "n_atoms"), "reference")
    candidate = _load(candidate_path, ("names", "loss", "gradient"), "candidate")
    index = {name: k for k, name in enumerate(reference["names"].tolist())}
    unknown = [name for name in candidate["names"].tolist() if name not in index]
    if unknown:
        raise InputError(f"{candidate_path}: configurations {unknown[:5]} are not in the reference {reference_path}")
    rows = np.array([index[name] for name in candidate["names"].tolist()])
    expected_gradient, expected_loss = reference["gradient"][rows], reference["loss"][rows]
    if candidate["gradient"].shape != expected_gradient.shape:
        raise InputError(
            f"{candidate_path}: gradient has shape {candidate['gradient'].shape}, expected {expected_gradient.shape} (configurations × θ)"
        )
    if candidate["loss"].shape != expected_loss.shape:
        raise InputError(f"{candidate_path}: loss has shape {candidate['loss'].shape}, expected {expected_loss.shape}")
    refuse_non_finite(candidate, candidate_path)
    loss_delta = np.abs(candidate["loss"] - expected_loss) / np.linalg.norm(expected_loss)
    gradient_delta = np.linalg.norm(candidate["gradient"] - expected_gradient, axis=1) / np.linalg.norm(
        expected_gradient
    )
    groups = reference["groups"][rows]
    table = pd.DataFrame(
        {
            "level": "configuration",
            "name": candidate["names"],
            "group": groups,
            "loss_error": loss_delta,
            "gradient_error": gradient_delta,
        }
    )
    own = _own_relative_errors(reference, rows, candidate)
    by_group = (
        table.groupby("group", sort=True)[["loss_error", "gradient_error"]]
        .agg(lambda shares: float(np.sqrt(np.sum(shares**2))))
        .reset_index()
        .assign(level="group", name=lambda frame: frame["group"])
    )
    overall = pd.DataFrame(
        [
            {
                "level": "all",
                "name": "all",
                "group": "all",
                "loss_error": relative_error(candidate["loss"], expected_loss),
                "gradient_error": relative_error(candidate["gradient"], expected_gradient),
            }
        ]
    )
    likely = likely_bug(candidate["gradient"], expected_gradient, reference["n_atoms"][rows])
    table = pd.concat([overall, by_group[table.columns], table], ignore_index=True)
    return table.merge(own, on="name", how="left"), likely


def _own_relative_errors(reference: dict, rows: np.ndarray, candidate: dict) -> pd.DataFrame:
    """Each configuration's own relative errors |Δ|/|exact| of L and ∇θL, NaN where its force errors are round-off.

    ``measurable`` is False where the reference's maxᵢ|gᵢ| is below
    :data:`~snapcheck.studies.sweep.ROUNDOFF_FORCE_ERROR`: there the exact L and
    ∇θL are round-off themselves (perfect crystals) and a relative error means nothing.
    """
    names = candidate["names"]
    measurable = np.ones(len(rows), dtype=bool)
    if "force_errors" in reference and "atom_offsets" in reference:
        offsets = reference["atom_offsets"]
        for k, row in enumerate(rows):
            errors = reference["force_errors"][offsets[row] : offsets[row + 1]]
            measurable[k] = np.sqrt(np.max(np.sum(errors**2, axis=1))) >= ROUNDOFF_FORCE_ERROR
    expected_gradient, expected_loss = reference["gradient"][rows], reference["loss"][rows]
    with np.errstate(divide="ignore", invalid="ignore"):
        gradient = np.linalg.norm(candidate["gradient"] - expected_gradient, axis=1) / np.linalg.norm(
            expected_gradient, axis=1
        )
        loss = np.abs(candidate["loss"] - expected_loss) / np.abs(expected_loss)
    return pd.DataFrame(
        {
            "name": names,
            "measurable": measurable,
            "loss_relative_error": np.where(measurable, loss, np.nan),
            "gradient_relative_error": np.where(measurable, gradient, np.nan),
        }
    )


def refuse_non_finite(candidate: dict, path: str | Path) -> None:
    """A candidate with NaN or inf fails the check, naming the configurations and θ components that are not finite."""
    names = candidate["names"].tolist()
    bad_loss = [names[k] for k in np.flatnonzero(~np.isfinite(candidate["loss"]))]
    bad_rows = np.flatnonzero(~np.all(np.isfinite(candidate["gradient"]), axis=1))
    if not bad_loss and not len(bad_rows):
        return
    parts = []
    if bad_loss:
        parts.append(
            f"L is not finite for {len(bad_loss)} configurations ({', '.join(bad_loss[:5])}{' …' if len(bad_loss) > 5 else ''})"
        )
    if len(bad_rows):
        shown = []
        for k in bad_rows[:5]:
            columns = np.flatnonzero(~np.isfinite(candidate["gradient"][k]))
            values = sorted({str(v) for v in candidate["gradient"][k][columns]})
            listed = ", ".join(f"θ[{c}]" for c in columns[:6]) + (" …" if len(columns) > 6 else "")
            shown.append(f"{names[k]}: {listed} ({'/'.join(values)})")
        parts.append(
            f"∇θL is not finite for {len(bad_rows)} configurations: {'; '.join(shown)}{' …' if len(bad_rows) > 5 else ''}"
        )
    raise CheckFailed(f"{path}: the candidate holds NaN or inf: " + "; ".join(parts))
