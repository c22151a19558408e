"""Held-out errors of a trained network: energy RMSE in meV/atom, force RMSE in eV/Å, and the gradient check.

Energy RMSE is √⟨((Ê − E)/N)²⟩ over configurations; force RMSE the root mean
square over every force component of every atom.  :func:`gradient_error` is
Err[∇̃L] (Eq. 11) of the paper's estimate against the exact R-op gradient.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from snapcheck.data.configuration import Configuration
from snapcheck.gradients.paper import relative_error
from snapcheck.gradients.reference import paper_force_loss_gradient
from snapcheck.models.potentials import NeuralSnapPotential


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

    def part(self, configurations: np.ndarray, atoms: np.ndarray) -> Predictions:
        """The predictions of some configurations: ``configurations`` selects them, ``atoms`` their atoms' rows."""
        return Predictions(self.energy_errors[configurations], self.forces[atoms], self.reference_forces[atoms])


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
