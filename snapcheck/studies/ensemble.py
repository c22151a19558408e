"""Ensembles of Table I: every network is one task on an executor, resumable from its checkpoint.

A :class:`MemberTask` carries everything one network needs (setting, member
index, spec, seed, the data and the checkpoint folder), so it runs on any
executor of :mod:`snapcheck.runtime.executors`; :func:`train_ensemble` runs them
all, the expensive ones first.  Member k is initialised from
``default_rng([seed, k])``, the same draw for every setting, so the
energy-only and the force-trained networks of a member start from the same θ.

Each worker process keeps one :class:`~snapcheck.descriptors.cache.EngineCache`
for the data it trains on (:func:`engine_cache_for`): the descriptors at the
dataset positions are computed once per process, whatever the number of members.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from snapcheck.data.configuration import Configuration
from snapcheck.data.snap_files import SnapParameters
from snapcheck.descriptors.cache import EngineCache
from snapcheck.models.potentials import NeuralSnapPotential
from snapcheck.runtime.executors import run_chunks
from snapcheck.runtime.partials import fingerprint
from snapcheck.studies.checkpoints import run_key
from snapcheck.studies.split import Split
from snapcheck.studies.training import TrainingSpec, initial_model, train
from snapcheck.studies.training_metrics import Predictions, gradient_error, predict


@dataclass(frozen=True)
class EnsembleData:
    """What every member trains and is tested on: configurations and the split (plain data, sent with every task)."""

    configurations: tuple[Configuration, ...]
    split: Split
    parameters: SnapParameters

    @property
    def training(self) -> list[Configuration]:
        return [self.configurations[i] for i in self.split.train]

    @property
    def test(self) -> list[Configuration]:
        return [self.configurations[i] for i in self.split.test]


@dataclass(frozen=True)
class MemberTask:
    """One network of an ensemble: a setting (its spec), a member index, the base seed, and the data."""

    setting: str
    member: int
    spec: TrainingSpec
    seed: int
    data: EnsembleData
    checkpoint_dir: Path | None = None

    @property
    def label(self) -> str:
        return f"{self.setting}#{self.member}"


@dataclass(frozen=True)
class MemberResult:
    """A trained member: its test predictions, losses, wall time and gradient check.

    ``gradient_error`` is Err[∇̃L] of the paper's estimate at the spec's ε
    against the exact R-op gradient, over the test configurations, for the
    trained network.  ``seconds`` is the training wall time over every run
    that contributed (checkpoints carry it), ``epochs_run`` the epochs of this one.
    """

    setting: str
    member: int
    spec: TrainingSpec
    theta: np.ndarray
    history: np.ndarray
    predictions: Predictions
    gradient_error: float
    seconds: float
    epochs_run: int


#: This process's engine cache for the data it trains on (module docstring).
_PROCESS_CACHE: dict[str, EngineCache] = {}


def engine_cache_for(data: EnsembleData) -> EngineCache:
    """This process's engine cache for ``data``; a cache of other data is closed first."""
    key = fingerprint((data.configurations, data.parameters))
    if key not in _PROCESS_CACHE:
        for stale in _PROCESS_CACHE.values():
            stale.close()
        _PROCESS_CACHE.clear()
        _PROCESS_CACHE[key] = EngineCache(data.parameters)
    return _PROCESS_CACHE[key]


def train_member(task: MemberTask) -> MemberResult:
    """Initialise, train (resuming from a checkpoint when there is one), predict the test set.

    Runs on any executor of :mod:`snapcheck.runtime.executors`: the task
    carries its data; the LAMMPS descriptors are kept per process.
    """
    data = task.data
    training = data.training
    cache = engine_cache_for(data)
    rng = np.random.default_rng([task.seed, task.member])
    potential = NeuralSnapPotential(initial_model(data.parameters, task.spec, cache, training, rng), cache)
    checkpoint = (
        task.checkpoint_dir / f"{task.setting}-member{task.member}.npz" if task.checkpoint_dir is not None else None
    )
    run = train(potential, training, task.spec, rng, checkpoint, run_key(task.spec, task.seed, task.member, training))
    return MemberResult(
        setting=task.setting,
        member=task.member,
        spec=task.spec,
        theta=run.model.theta,
        history=run.history,
        predictions=predict(potential, data.test),
        gradient_error=gradient_error(potential, data.test, task.spec.epsilon),
        seconds=run.seconds,
        epochs_run=run.epochs_run,
    )


def train_ensemble(tasks: Sequence[MemberTask], **execution) -> list[MemberResult]:
    """Train every task on the executor that ``execution`` chooses; results in the order of ``tasks``.

    ``execution``: the keyword arguments of
    :func:`snapcheck.runtime.executors.run_chunks` (``jobs``, ``scheduler``,
    ``partials``, ``run_log``, ``progress``).  The most expensive members
    (force training: LAMMPS at every step) start first, so that the cheap ones
    fill the gaps; the progress bar counts epochs of finished members.
    """
    order = sorted(
        range(len(tasks)), key=lambda index: (tasks[index].spec.force_weight == 0, -tasks[index].spec.epochs, index)
    )
    results = run_chunks(
        train_member,
        [tasks[i] for i in order],
        sizes=[tasks[i].spec.epochs for i in order],
        description="training",
        unit="epoch",
        **execution,
    )
    ordered: list[MemberResult | None] = [None] * len(tasks)
    for index, result in zip(order, results):
        ordered[index] = result
    return ordered
