"""Models bound to LAMMPS: the model protocol (:mod:`snapcheck.models.protocol`) on top of the engine cache.

:class:`~snapcheck.models.linear_snap.LinearSnap` and
:class:`~snapcheck.models.neural_snap.NeuralSnap` map descriptors to energies
and forces; the potentials here give them positions instead, through one
:class:`~snapcheck.descriptors.cache.EngineCache` (a LAMMPS engine per
configuration, created on first use and reused):

* ``energy``, ``energy_gradient`` and ``energy_and_gradient`` (both from one
  LAMMPS run) use the evaluations without derivatives (what the paper's Eq. 7
  needs at r±); each takes a ``cell`` (3 × 3, rows, Å) beside the positions,
  for a homogeneously strained configuration (the stress term of the
  generalised Eq. 7);
* ``forces`` and ``exact_force_loss_gradient`` use the evaluations with
  derivatives, cached at the configuration's own positions.

Nothing in the cache depends on θ, so a trainer replaces :attr:`model` after
every step and keeps the cache; pass ``cache`` to share one between
potentials.  Close a potential (or use it as a context manager) to free the
engines of a cache it created.
"""

from __future__ import annotations

import numpy as np

from snapcheck.data.configuration import Configuration
from snapcheck.descriptors.cache import EngineCache
from snapcheck.models.linear_snap import LinearSnap
from snapcheck.models.neural_snap import NeuralSnap


class _BoundPotential:
    """A model and the engine cache it evaluates through."""

    def __init__(self, model, cache: EngineCache | None):
        self.model = model
        self._owns_cache = cache is None
        self.cache = EngineCache(model.parameters, model.reference) if cache is None else cache

    @property
    def theta(self) -> np.ndarray:
        return self.model.theta

    def close(self) -> None:
        if self._owns_cache:
            self.cache.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class LinearSnapPotential(_BoundPotential):
    """A :class:`LinearSnap` bound to LAMMPS; its exact ∇θL is the closed form A_fᵀ g."""

    def __init__(self, model: LinearSnap, cache: EngineCache | None = None):
        super().__init__(model, cache)

    def energy(
        self, configuration: Configuration, positions: np.ndarray | None = None, cell: np.ndarray | None = None
    ) -> float:
        """Ê in eV."""
        return self.model.energy_from(self.cache.summed_values(configuration, positions, cell))

    def energy_gradient(
        self, configuration: Configuration, positions: np.ndarray | None = None, cell: np.ndarray | None = None
    ) -> np.ndarray:
        """∇θÊ = (n_e, ΣB_e) per element, flat like θ."""
        return self.model.energy_gradient_from(self.cache.summed_values(configuration, positions, cell))

    def energy_and_gradient(
        self, configuration: Configuration, positions: np.ndarray | None = None, cell: np.ndarray | None = None
    ) -> tuple[float, np.ndarray]:
        """(Ê, ∇θÊ) from one LAMMPS evaluation."""
        descriptors = self.cache.summed_values(configuration, positions, cell)
        return self.model.energy_from(descriptors), self.model.energy_gradient_from(descriptors)

    def forces(self, configuration: Configuration, positions: np.ndarray | None = None) -> np.ndarray:
        """f̂ in eV/Å, (N, 3)."""
        return self.model.forces_from(self.cache.summed(configuration, positions))

    def exact_force_loss_gradient(self, configuration: Configuration) -> np.ndarray:
        """∇θL = A_fᵀ g in closed form (:meth:`LinearSnap.force_loss_from`)."""
        return self.model.force_loss_from(configuration, self.cache.summed(configuration)).gradient


class NeuralSnapPotential(_BoundPotential):
    """A :class:`NeuralSnap` bound to LAMMPS; its exact ∇θL is the analytic R-op."""

    def __init__(self, model: NeuralSnap, cache: EngineCache | None = None):
        super().__init__(model, cache)

    def energy(
        self, configuration: Configuration, positions: np.ndarray | None = None, cell: np.ndarray | None = None
    ) -> float:
        """Ê in eV."""
        return self.model.energy_from(self.cache.per_atom_values(configuration, positions, cell))

    def energy_gradient(
        self, configuration: Configuration, positions: np.ndarray | None = None, cell: np.ndarray | None = None
    ) -> np.ndarray:
        """∇θÊ, flat like θ."""
        return self.model.energy_gradient_from(self.cache.per_atom_values(configuration, positions, cell))

    def energy_and_gradient(
        self, configuration: Configuration, positions: np.ndarray | None = None, cell: np.ndarray | None = None
    ) -> tuple[float, np.ndarray]:
        """(Ê, ∇θÊ) from one LAMMPS evaluation."""
        descriptors = self.cache.per_atom_values(configuration, positions, cell)
        return self.model.energy_from(descriptors), self.model.energy_gradient_from(descriptors)

    def forces(self, configuration: Configuration, positions: np.ndarray | None = None) -> np.ndarray:
        """f̂ in eV/Å, (N, 3)."""
        return self.model.forces_from(self.cache.per_atom(configuration, positions))

    def exact_force_loss_gradient(self, configuration: Configuration) -> np.ndarray:
        """∇θL of Eq. 2 by the analytic R-op (:mod:`snapcheck.models.neural_snap`)."""
        descriptors = self.cache.per_atom(configuration)
        return self.model.force_loss_gradient_from(
            descriptors, self.model.forces_from(descriptors) - configuration.forces
        )
