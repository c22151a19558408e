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

**The optimiser** is Adam (:mod:`snapcheck.studies.adam`) with the learning rate
decaying exponentially from ``learning_rate`` to ``final_learning_rate`` over
the epochs; an epoch visits every training configuration once, in an order
shuffled by the member's generator.

**The model** (:func:`initial_model`) is drawn from the generator it is given
(:mod:`snapcheck.studies.ensemble` seeds member k with ``[seed, k]``).  Inputs
are standardised by the training atoms' mean and standard deviation of each
Bᵢ component, and the output bias starts at the mean per-atom energy
⟨(E − E_ZBL)/N⟩.

**Checkpoints** (:mod:`snapcheck.studies.checkpoints`) are written every
``checkpoint_every`` epochs and at the end; :func:`train` resumes from one with
its key.  The split, the held-out errors and the ensembles are
:mod:`snapcheck.studies.split`, :mod:`snapcheck.studies.training_metrics` and
:mod:`snapcheck.studies.ensemble`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from snapcheck.data.configuration import Configuration
from snapcheck.data.snap_files import SnapParameters
from snapcheck.descriptors.cache import EngineCache
from snapcheck.gradients.paper import LossPath, displacement
from snapcheck.models.neural_snap import NeuralSnap
from snapcheck.models.potentials import NeuralSnapPotential
from snapcheck.studies.adam import AdamState, adam_step
from snapcheck.studies.checkpoints import Checkpoint


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
    """A trained model, its per-epoch mean batch losses, the epochs run by this call and the wall time (s).

    The wall time is that of all epochs over all calls.
    """

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
