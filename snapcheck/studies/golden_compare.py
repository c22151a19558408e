"""Comparing a trainer's candidate file with a golden reference file (``oracle compare``).

The formats of both files are in :mod:`snapcheck.studies.golden`.  ``--loss`` says which loss the candidate's
``loss`` and ``gradient`` are of, and the candidate's ``loss_terms`` must say the same (a candidate without it is
the paper's force loss): a force-loss gradient is never compared with a whole-loss reference by accident.  The
reference side of the paper's force loss (``forces``) is the file's ``loss`` and ``gradient``; of a training loss
over some terms, the sum of those terms' exact arrays (:func:`snapcheck.studies.golden.sum_of_terms`) under the
weights the file was exported with.  ``dataset`` is the loss of the reference's ``training_loss`` (every term its
FitSNAP input weighs and its configurations hold), or the paper's force loss for a reference without one; and for
a reference whose input weighs force rows alone, whose training loss a candidate cannot name apart from the paper's
(``forces`` is always the paper's loss), the paper's force loss too.

The error measures (Eqs. 11 and 14, each group's and configuration's share, a configuration's own relative error)
are the same for every loss.  Only two things depend on it.  Which configurations have no relative error of their
own: those whose every term is round-off, i.e. forces whose errors are round-off (the perfect crystals, where the
force term is itself round-off) and no other term of nonzero loss (the sweep's predicate,
:func:`snapcheck.studies.sweep.is_roundoff`).  And the likely bug: for a loss of several terms, when
the whole gradient is not one named factor of the reference, each configuration's candidate is fitted as a sum of
its exact terms, and a term off by a sign or factor is named (``gradients.diagnosis.likely_bug_by_term``).
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from snapcheck.base.errors import CheckFailed, InputError
from snapcheck.data.fitsnap_input import LOSS_TERMS
from snapcheck.gradients.diagnosis import VARYING_FACTORS, likely_bug, likely_bug_by_term
from snapcheck.gradients.paper import characteristic_force_error, relative_error
from snapcheck.runtime.flag_types import DATASET_LOSS, loss_terms
from snapcheck.studies.golden import TERM_KEYS, sum_of_terms
from snapcheck.studies.loss_choice import LossChoice
from snapcheck.studies.sweep import PAPER_LOSS, is_roundoff


@dataclass(frozen=True)
class Comparison:
    """A candidate against a reference.

    Attributes:
        table: the errors (:func:`compare`).
        likely: the likely bug, or None.
        terms: the terms of the loss compared (``("forces",)``: the paper's force loss).
        loss: what that loss is, in words.
        term_shares: for a loss of several terms, |∇θL_term|/|∇θL| over every configuration compared: how much a
            term can move Err[∇θL].
    """

    table: pd.DataFrame
    likely: str | None
    terms: tuple[str, ...]
    loss: str
    term_shares: dict[str, float]


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


def _named(terms: tuple[str, ...]) -> str:
    return ",".join(terms)


def declared_terms(candidate: dict, path: str | Path) -> tuple[str, ...]:
    """The terms the candidate's ``loss_terms`` names; the paper's force loss (``forces``) when it has none."""
    if "loss_terms" not in candidate:
        return PAPER_LOSS
    text = candidate["loss_terms"]
    try:
        if text.shape != () or text.dtype.kind != "U" or str(text) == DATASET_LOSS:
            raise ValueError
        parsed = loss_terms(str(text))
    except (ValueError, argparse.ArgumentTypeError):
        raise InputError(
            f"{path}: loss_terms is {text!r}: expected one string of comma-separated {', '.join(LOSS_TERMS)}"
        ) from None
    assert isinstance(parsed, tuple)
    return parsed


def _loss_of(reference: dict, reference_path: str | Path, loss: tuple[str, ...] | str) -> tuple[tuple[str, ...], str]:
    """The terms ``--loss`` names for this reference, and the loss in words."""
    training = (
        json.loads(str(reference["metadata_json"])).get("training_loss") if "metadata_json" in reference else None
    )
    terms = (tuple(training["terms"]) if training else PAPER_LOSS) if loss == DATASET_LOSS else loss
    assert isinstance(terms, tuple)
    if terms == PAPER_LOSS:
        return terms, LossChoice(PAPER_LOSS, None).describe()
    if not training:
        raise InputError(
            f"{reference_path}: --loss {_named(terms)}: the reference holds no training loss (it was exported "
            "without a FitSNAP input); export with --fit-input FILE.in, or compare the force loss with --loss forces"
        )
    unweighed = [term for term in terms if term not in training["weighed_terms"]]
    if unweighed:
        raise InputError(
            f"{reference_path}: --loss {_named(terms)}: the reference's FitSNAP input {training['fit_input']} weighs "
            f"no {unweighed[0]} rows; export with a --fit-input that does, or leave {unweighed[0]} out of --loss"
        )
    return terms, f"the training loss over {', '.join(terms)} with the weights of {Path(training['fit_input']).name}"


def _expected(
    reference: dict, reference_path: str | Path, terms: tuple[str, ...], rows: np.ndarray
) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """The reference's L (M,) and ∇θL (M, P) of the loss over ``terms`` for ``rows``, and each term's ∇θL."""
    if terms == PAPER_LOSS:
        return reference["loss"][rows], reference["gradient"][rows], {}
    keys = [f"{TERM_KEYS[term]}_{kind}" for term in terms for kind in ("loss", "gradient")]
    lacking = [key for key in ["term_weights", *keys] if key not in reference]
    if lacking:
        raise InputError(f"{reference_path}: --loss {_named(terms)}: the reference lacks {lacking}")
    arrays = {}
    for term in terms:
        for kind in ("loss", "gradient"):
            key = f"{TERM_KEYS[term]}_{kind}"
            arrays[key] = reference[key][rows]
            missing = np.flatnonzero(np.isnan(arrays[key].reshape(len(rows), -1)).any(axis=1))
            if len(missing):
                raise InputError(
                    f"{reference_path}: --loss {_named(terms)}: configuration {reference['names'][rows[missing[0]]]} "
                    f"has no {term} term ({key} is NaN: the data has no stress there); leave {term} out of --loss"
                )
    loss, gradient = sum_of_terms(arrays, terms)
    return loss, gradient, {term: arrays[f"{TERM_KEYS[term]}_gradient"] for term in LOSS_TERMS if term in terms}


def compare(
    reference_path: str | Path, candidate_path: str | Path, loss: tuple[str, ...] | str = DATASET_LOSS
) -> Comparison:
    """Errors of a candidate of the loss ``loss`` (``--loss``: terms, or ``dataset``) against a reference.

    The table has one row per configuration and one per group, plus a
    first row ``all`` with Eq. 11's (and Eq. 14's) error over every
    configuration the candidate covers.  Rows of configurations and groups give
    their share of that error: |Δ| over them divided by the *overall* norm of
    the reference, so that perfect crystals, whose exact L and ∇θL are at
    round-off level, neither hide nor dominate (the shares add up in
    quadrature to the ``all`` row).  Columns: ``level`` (all, group or
    configuration), ``name``, ``group``, ``loss_error``, ``gradient_error`` (the
    shares), and for configurations their own relative errors
    ``loss_relative_error`` and ``gradient_relative_error`` (|Δ|/|exact| of that
    configuration; NaN where ``measurable`` is False, see :func:`measurable_configurations`).
    A candidate whose ``loss_terms`` is not the loss ``loss`` names is bad input; one holding NaN or inf raises
    :class:`~snapcheck.base.errors.CheckFailed` naming the configurations and θ components.
    """
    reference = _load(reference_path, ("names", "groups", "loss", "gradient", "n_atoms"), "reference")
    candidate = _load(candidate_path, ("names", "loss", "gradient"), "candidate")
    terms, described = _loss_of(reference, reference_path, loss)
    declared = declared_terms(candidate, candidate_path)
    if declared != terms:
        given = (
            "absent, which means the paper's force loss (forces)"
            if "loss_terms" not in candidate
            else f"{_named(declared)!r}"
        )
        raise InputError(
            f"{candidate_path}: loss_terms is {given}, but --loss {loss if isinstance(loss, str) else _named(loss)} "
            f"compares {described} ({_named(terms)}); pass --loss {_named(declared)}, or write the loss --loss names "
            f"with loss_terms={_named(terms)!r}"
        )
    index = {name: k for k, name in enumerate(reference["names"].tolist())}
    unknown = [name for name in candidate["names"].tolist() if name not in index]
    if unknown:
        raise InputError(f"{candidate_path}: configurations {unknown[:5]} are not in the reference {reference_path}")
    rows = np.array([index[name] for name in candidate["names"].tolist()])
    expected_loss, expected_gradient, parts = _expected(reference, reference_path, terms, rows)
    if candidate["gradient"].shape != expected_gradient.shape:
        raise InputError(
            f"{candidate_path}: gradient has shape {candidate['gradient'].shape}, "
            f"expected {expected_gradient.shape} (configurations × θ)"
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
    own = _own_relative_errors(
        candidate, expected_loss, expected_gradient, measurable_configurations(reference, rows, terms)
    )
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
    n_atoms = reference["n_atoms"][rows]
    likely = likely_bug(candidate["gradient"], expected_gradient, n_atoms)
    if len(parts) > 1 and (likely is None or VARYING_FACTORS in likely):
        likely = likely_bug_by_term(candidate["gradient"], parts, n_atoms) or likely
    shares = {term: float(np.linalg.norm(part) / np.linalg.norm(expected_gradient)) for term, part in parts.items()}
    table = pd.concat([overall, by_group[table.columns], table], ignore_index=True)
    return Comparison(
        table.merge(own, on="name", how="left"), likely, terms, described, shares if len(shares) > 1 else {}
    )


def measurable_configurations(reference: dict, rows: np.ndarray, terms: tuple[str, ...]) -> np.ndarray:
    """True for the configurations (``rows``) whose exact ∇θL of the loss over ``terms`` is not round-off itself.

    The predicate of the sweep, :func:`snapcheck.studies.sweep.is_roundoff`, from what the reference stores:
    maxᵢ|gᵢ| of its ``force_errors`` (a reference without them: every configuration measurable); the paper's
    force loss moves the atoms; a training loss moves them where its force term is not 0 (a weight and force
    errors), and its energy or stress term is part of ∇θL where that term's loss is not 0 (a weight and a
    residual: ∂L/∂Ê ≠ 0, or a strain H ≠ 0).
    """
    residual = np.full(len(rows), np.inf)
    if "force_errors" in reference and "atom_offsets" in reference:
        offsets = reference["atom_offsets"]
        for k, row in enumerate(rows):
            residual[k] = characteristic_force_error(reference["force_errors"][offsets[row] : offsets[row + 1]])
    moves, others = np.full(len(rows), terms == PAPER_LOSS), np.zeros(len(rows), dtype=bool)
    if terms != PAPER_LOSS:
        for term in terms:
            nonzero = reference[f"{TERM_KEYS[term]}_loss"][rows] != 0
            if term == "forces":
                moves = nonzero
            else:
                others |= nonzero
    return np.array(
        [not is_roundoff(r, moves_atoms=m, other_terms=o) for r, m, o in zip(residual, moves, others)], dtype=bool
    )


def _own_relative_errors(
    candidate: dict, expected_loss: np.ndarray, expected_gradient: np.ndarray, measurable: np.ndarray
) -> pd.DataFrame:
    """Each configuration's own relative errors |Δ|/|exact| of L and ∇θL, NaN where it is not ``measurable``
    (its exact L and ∇θL are round-off themselves, and a relative error means nothing)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        gradient = np.linalg.norm(candidate["gradient"] - expected_gradient, axis=1) / np.linalg.norm(
            expected_gradient, axis=1
        )
        loss = np.abs(candidate["loss"] - expected_loss) / np.abs(expected_loss)
    return pd.DataFrame(
        {
            "name": candidate["names"],
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
            f"L is not finite for {len(bad_loss)} configurations "
            f"({', '.join(bad_loss[:5])}{' …' if len(bad_loss) > 5 else ''})"
        )
    if len(bad_rows):
        shown = []
        for k in bad_rows[:5]:
            columns = np.flatnonzero(~np.isfinite(candidate["gradient"][k]))
            values = sorted({str(v) for v in candidate["gradient"][k][columns]})
            listed = ", ".join(f"θ[{c}]" for c in columns[:6]) + (" …" if len(columns) > 6 else "")
            shown.append(f"{names[k]}: {listed} ({'/'.join(values)})")
        parts.append(
            f"∇θL is not finite for {len(bad_rows)} configurations: "
            f"{'; '.join(shown)}{' …' if len(bad_rows) > 5 else ''}"
        )
    raise CheckFailed(f"{path}: the candidate holds NaN or inf: " + "; ".join(parts))
