"""Training the neural SNAP potential with Adam, to energies or to energies and forces (Eq. 1; Table I).

**The loss** is the paper's Eq. 1 over a mini-batch of configurations (no regulariser),

    ℒ = c₁ ½⟨(Ê − E)²⟩ + c₂ ½⟨Σᵢ |f̂ᵢ − fᵢ|²⟩,

with Ê the total energy (eV; the DFT energy E includes everything, Ê includes
ZBL), c₁ in 1/eV² and c₂ in Å²/eV², so ℒ is dimensionless.  Its gradient is

    ∇θℒ = c₁ ⟨(Ê − E) ∇θÊ⟩ + c₂ ⟨∇̃θL⟩,

the energy term by one backpropagation (the model's hand-written ∇θÊ), the
force term by the paper's method (Sec. II C, Eq. 7) for every configuration c:
f̂ and g = f̂ − f from the cached derivatives ∂Bᵢ/∂rⱼ; η_c = ε a₀/g₀ with
g₀ = maxᵢ|gᵢ| (Eqs. 9–10); Bᵢ at r± = r ± η_c g from LAMMPS (the only new
LAMMPS work of a step); ∇̃θL_c = −(∇θÊ[r₊] − ∇θÊ[r₋])/(2η_c).  Every term is a
weighted sum of per-atom ∇θEᵢ, so the whole batch gradient is one backward pass
over the atoms at r, r₊ and r₋ with seeds

    c₁ (Ê_c − E_c)/M at r,     ∓ c₂ /(2 η_c M) at r±,

M the number of configurations in the batch.  Energy-only training (c₂ = 0)
needs no LAMMPS evaluation at all once the descriptors are cached.

**The optimiser** is Adam (β₁ = 0.9, β₂ = 0.999, 10⁻⁸) with the learning rate
decaying exponentially from ``learning_rate`` to ``final_learning_rate`` over
the epochs; an epoch visits every training configuration once, in an order
shuffled by the member's generator.

**The split** (:func:`split_by_group`) is stratified: within every group a
fixed fraction (rounded, at least one configuration for groups of two or more)
goes to the test set, chosen by ``numpy.random.default_rng(seed)``.

**The model** of member k is initialised from ``default_rng([seed, k])``, the
same draw for every setting, so the energy-only and the force-trained
networks of a member start from the same θ.  Inputs are standardised by the
training atoms' mean and standard deviation of each Bᵢ component, and the
output bias starts at the mean per-atom energy ⟨(E − E_ZBL)/N⟩.

**Checkpoints** (:class:`Checkpoint`) hold θ, Adam's moments, the epoch, the
generator state and the loss history, written atomically every
``checkpoint_every`` epochs and at the end.  A run that finds a checkpoint with
the same key (the spec, the member and the training set) resumes from it and
continues exactly as if it had not stopped; one with another key starts over.

**Errors** on held-out configurations: energy RMSE in meV/atom,
√⟨((Ê − E)/N)²⟩ over configurations, and force RMSE in eV/Å, the root mean
square over every force component of every atom.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from snapcheck.base.files import atomic_path
from snapcheck.data.configuration import Configuration
from snapcheck.data.selection import group_indices
from snapcheck.data.snap_files import SnapParameters
from snapcheck.descriptors.cache import EngineCache
from snapcheck.gradients.paper import LossPath, displacement, relative_error
from snapcheck.gradients.reference import paper_force_loss_gradient
from snapcheck.models.neural_snap import NeuralSnap
from snapcheck.models.potentials import NeuralSnapPotential
from snapcheck.runtime.executors import run_chunks
from snapcheck.runtime.partials import fingerprint

ADAM_BETAS = (0.9, 0.999)
ADAM_EPSILON = 1e-8


# -- the split --------------------------------------------------------------
@dataclass(frozen=True)
class Split:
    """Indices into the dataset's configuration list."""

    train: tuple[int, ...]
    test: tuple[int, ...]

    def table(self, configurations: Sequence[Configuration]) -> pd.DataFrame:
        """Configurations and atoms per group in each set (``group``, ``train``, ``test``, ``train_atoms``, ``test_atoms``)."""
        rows = {}
        for name, indices in (("train", self.train), ("test", self.test)):
            for index in indices:
                row = rows.setdefault(
                    configurations[index].group, dict.fromkeys(("train", "test", "train_atoms", "test_atoms"), 0)
                )
                row[name] += 1
                row[f"{name}_atoms"] += configurations[index].n_atoms
        return pd.DataFrame([{"group": group, **counts} for group, counts in rows.items()])


def split_by_group(configurations: Sequence[Configuration], test_fraction: float, seed: int) -> Split:
    """A train/test split stratified by group (module docstring)."""
    if not 0 < test_fraction < 1:
        raise ValueError(f"test_fraction must be between 0 and 1, got {test_fraction}")
    rng = np.random.default_rng(seed)
    train, test = [], []
    for members in group_indices(configurations).values():
        n_test = max(1, round(test_fraction * len(members))) if len(members) > 1 else 0
        shuffled = rng.permutation(members)
        test += shuffled[:n_test].tolist()
        train += shuffled[n_test:].tolist()
    return Split(tuple(sorted(train)), tuple(sorted(test)))


# -- the specification ------------------------------------------------------
@dataclass(frozen=True)
class TrainingSpec:
    """Hyperparameters of one training run.

    Attributes:
        widths: hidden-layer widths of the network.
        activation: ``tanh``, ``softplus`` or ``silu``.
        epochs: passes over the training set.
        batch_size: configurations per Adam step.
        learning_rate, final_learning_rate: Adam's step size, first and last epoch.
        energy_weight: c₁ of Eq. 1, 1/eV².
        force_weight: c₂ of Eq. 1, Å²/eV² (0: energy-only training).
        epsilon: ε of Eq. 9 for the force term (η = ε a₀/g₀).
        checkpoint_every: epochs between checkpoints.
    """

    widths: tuple[int, ...] = (32, 32)
    activation: str = "tanh"
    epochs: int = 200
    batch_size: int = 16
    learning_rate: float = 5e-3
    final_learning_rate: float = 5e-5
    energy_weight: float = 1.0
    force_weight: float = 0.0
    epsilon: float = 1e-5
    checkpoint_every: int = 10

    def learning_rate_at(self, epoch: int) -> float:
        """Exponential decay from ``learning_rate`` (epoch 0) to ``final_learning_rate`` (the last epoch)."""
        fraction = epoch / max(self.epochs - 1, 1)
        return self.learning_rate * (self.final_learning_rate / self.learning_rate) ** fraction


# -- Adam -------------------------------------------------------------------
@dataclass(frozen=True)
class AdamState:
    first: np.ndarray
    second: np.ndarray
    step: int = 0


def adam_step(
    theta: np.ndarray, gradient: np.ndarray, state: AdamState, learning_rate: float
) -> tuple[np.ndarray, AdamState]:
    """One Adam update (Kingma and Ba) with bias correction."""
    beta1, beta2 = ADAM_BETAS
    step = state.step + 1
    first = beta1 * state.first + (1 - beta1) * gradient
    second = beta2 * state.second + (1 - beta2) * gradient * gradient
    update = (first / (1 - beta1**step)) / (np.sqrt(second / (1 - beta2**step)) + ADAM_EPSILON)
    return theta - learning_rate * update, AdamState(first, second, step)


# -- checkpoints ------------------------------------------------------------
@dataclass(frozen=True)
class Checkpoint:
    """Everything needed to continue a run exactly: θ, Adam, the epoch, the generator, the losses; and the training wall time so far (s)."""

    key: str
    theta: np.ndarray
    adam: AdamState
    epoch: int
    rng_state: dict
    history: np.ndarray
    seconds: float

    def save(self, path: Path) -> None:
        with atomic_path(path) as temporary, open(temporary, "wb") as handle:
            np.savez(
                handle,
                key=self.key,
                theta=self.theta,
                first=self.adam.first,
                second=self.adam.second,
                step=self.adam.step,
                epoch=self.epoch,
                rng_state=json.dumps(self.rng_state),
                history=self.history,
                seconds=self.seconds,
            )

    @classmethod
    def load(cls, path: Path, key: str) -> Checkpoint | None:
        """The checkpoint at ``path`` if it exists and belongs to ``key``, else None."""
        if not path.is_file():
            return None
        with np.load(path) as stored:
            if str(stored["key"]) != key:
                return None
            return cls(
                key=key,
                theta=stored["theta"],
                adam=AdamState(stored["first"], stored["second"], int(stored["step"])),
                epoch=int(stored["epoch"]),
                rng_state=json.loads(str(stored["rng_state"])),
                history=stored["history"],
                seconds=float(stored["seconds"]),
            )


def run_key(spec: TrainingSpec, seed: int, member: int, training: Sequence[Configuration]) -> str:
    """A digest of everything that determines a run: spec, seed, member and the training configurations."""
    text = json.dumps(
        {"spec": asdict(spec), "seed": seed, "member": member, "train": [c.label for c in training]}, sort_keys=True
    )
    return hashlib.sha256(text.encode()).hexdigest()


# -- one model --------------------------------------------------------------
def initial_model(
    parameters: SnapParameters,
    spec: TrainingSpec,
    cache: EngineCache,
    training: Sequence[Configuration],
    rng: np.random.Generator,
) -> NeuralSnap:
    """A fresh network standardised on the training atoms (module docstring)."""
    evaluations = [cache.per_atom(c) for c in training]
    atoms = np.concatenate([e.descriptors for e in evaluations])
    scale = atoms.std(axis=0)
    offset = np.mean([(c.energy - e.reference_energy) / c.n_atoms for c, e in zip(training, evaluations)])
    return NeuralSnap.initialize(
        parameters,
        spec.widths,
        rng,
        spec.activation,
        shift=atoms.mean(axis=0),
        scale=np.where(scale > 0, scale, 1.0),
        energy_offset=offset,
    )


def batch_loss_gradient(
    potential: NeuralSnapPotential, batch: Sequence[Configuration], spec: TrainingSpec
) -> tuple[float, np.ndarray]:
    """ℒ of Eq. 1 over ``batch`` and its gradient, the force term by Eq. 7 (module docstring)."""
    model, cache = potential.model, potential.cache
    m = len(batch)
    evaluations = [cache.per_atom(c) for c in batch]
    atoms, seeds = [], []
    energy_loss = force_loss = 0.0
    for configuration, evaluation in zip(batch, evaluations):
        residual = model.energy_from(evaluation) - configuration.energy
        energy_loss += 0.5 * residual**2 / m
        atoms.append(evaluation.descriptors)
        seeds.append(np.full(configuration.n_atoms, spec.energy_weight * residual / m))
        if not spec.force_weight:
            continue
        errors = model.forces_from(evaluation) - configuration.forces
        force_loss += 0.5 * float(np.sum(errors * errors)) / m
        step = displacement(LossPath(configuration.positions, errors), spec.epsilon)
        if step is None:
            continue
        # Eq. 7 as seeds: −(∇θÊ[r₊] − ∇θÊ[r₋])/(2η) weighted by c₂/M; step.minus is r₊ = r + ηg, step.plus r₋
        for (positions, _), sign in ((step.minus, -1.0), (step.plus, 1.0)):
            atoms.append(cache.per_atom_values(configuration, positions).descriptors)
            seeds.append(np.full(configuration.n_atoms, sign * spec.force_weight / (2.0 * step.eta * m)))
    gradient = model.atom_energy_gradient(np.concatenate(atoms), np.concatenate(seeds))
    return spec.energy_weight * energy_loss + spec.force_weight * force_loss, gradient


@dataclass(frozen=True)
class TrainingRun:
    """A trained model, its per-epoch mean batch losses, the epochs run by this call and the wall time of all epochs over all calls (s)."""

    model: NeuralSnap
    history: np.ndarray
    epochs_run: int
    seconds: float


def train(
    potential: NeuralSnapPotential,
    training: Sequence[Configuration],
    spec: TrainingSpec,
    rng: np.random.Generator,
    checkpoint: Path | None = None,
    key: str = "",
    after_epoch: Callable[[int, float], None] = lambda epoch, loss: None,
) -> TrainingRun:
    """Adam on mini-batches from ``potential.model``; resumes from ``checkpoint`` when its key matches.

    ``after_epoch(epoch, loss)`` is called after every epoch, once its
    checkpoint is written (a caller may stop the run there).
    """
    theta = potential.model.theta.copy()
    adam, epoch, history, seconds = AdamState(np.zeros_like(theta), np.zeros_like(theta)), 0, np.zeros(0), 0.0
    saved = Checkpoint.load(checkpoint, key) if checkpoint is not None else None
    if saved is not None:
        theta, adam, epoch, history, seconds = saved.theta, saved.adam, saved.epoch, saved.history, saved.seconds
        rng.bit_generator.state = saved.rng_state
    first_epoch = epoch
    while epoch < spec.epochs:
        start = time.perf_counter()
        order = rng.permutation(len(training))
        losses = []
        for begin in range(0, len(order), spec.batch_size):
            potential.model = potential.model.with_theta(theta)
            loss, gradient = batch_loss_gradient(
                potential, [training[i] for i in order[begin : begin + spec.batch_size]], spec
            )
            theta, adam = adam_step(theta, gradient, adam, spec.learning_rate_at(epoch))
            losses.append(loss)
        epoch += 1
        history = np.append(history, np.mean(losses))
        seconds += time.perf_counter() - start
        if checkpoint is not None and (epoch % spec.checkpoint_every == 0 or epoch == spec.epochs):
            Checkpoint(key, theta, adam, epoch, rng.bit_generator.state, history, seconds).save(checkpoint)
        after_epoch(epoch, float(history[-1]))
    potential.model = potential.model.with_theta(theta)
    return TrainingRun(potential.model, history, epoch - first_epoch, seconds)


# -- held-out errors --------------------------------------------------------
@dataclass(frozen=True)
class Predictions:
    """Predictions on a set of configurations.

    Attributes:
        energy_errors: (Ê − E)/N per configuration, eV/atom.
        forces: f̂ of every atom, stacked, (Σ N, 3) eV/Å.
        reference_forces: the DFT f, the same shape.
    """

    energy_errors: np.ndarray
    forces: np.ndarray
    reference_forces: np.ndarray

    @property
    def energy_rmse(self) -> float:
        """meV/atom."""
        return float(np.sqrt(np.mean(self.energy_errors**2))) * 1e3

    @property
    def force_rmse(self) -> float:
        """eV/Å, over every component."""
        return float(np.sqrt(np.mean((self.forces - self.reference_forces) ** 2)))


def predict(potential: NeuralSnapPotential, configurations: Sequence[Configuration]) -> Predictions:
    """Energies and forces of ``configurations`` at their own positions."""
    evaluations = [potential.cache.per_atom(c) for c in configurations]
    return Predictions(
        energy_errors=np.array(
            [(potential.model.energy_from(e) - c.energy) / c.n_atoms for c, e in zip(configurations, evaluations)]
        ),
        forces=np.concatenate([potential.model.forces_from(e) for e in evaluations]),
        reference_forces=np.concatenate([c.forces for c in configurations]),
    )


def gradient_error(potential: NeuralSnapPotential, configurations: Sequence[Configuration], epsilon: float) -> float:
    """Err[∇̃L] (Eq. 11) of the paper's estimate at ``epsilon`` against the exact R-op gradient."""
    exact = np.array([potential.exact_force_loss_gradient(c) for c in configurations])
    estimate = paper_force_loss_gradient(potential, configurations, epsilon=epsilon).per_configuration
    return relative_error(estimate, exact)


# -- ensembles --------------------------------------------------------------
@dataclass(frozen=True)
class EnsembleData:
    """What every member trains and is tested on: the configurations and the split (plain data, sent with every task)."""

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


#: This process's engine cache for the data it trains on: the descriptors at the
#: dataset positions are computed once per process, whatever the number of members.
_PROCESS_CACHE: dict[str, EngineCache] = {}


def _engine_cache(data: EnsembleData) -> EngineCache:
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
    cache = _engine_cache(data)
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
