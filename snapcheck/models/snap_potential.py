"""The linear SNAP model as an :class:`~snapcheck.models.protocol.EnergyModel`.

:class:`~snapcheck.models.linear_snap.LinearSnap` maps descriptors to
energies and forces; :class:`SnapPotential` binds it to LAMMPS, one
:class:`~snapcheck.descriptors.SnapEngine` per configuration, created on first
use and reused for every later evaluation of that configuration:

* ``energy`` and ``energy_gradient`` use the fast evaluation (ΣB and ZBL);
* ``forces`` and ``exact_force_loss_gradient`` use the full one (A_f = −∂ΣB/∂r).

Close it (or use it as a context manager) to free the LAMMPS instances.
"""

from __future__ import annotations

import numpy as np

from snapcheck.data.configuration import Configuration
from snapcheck.descriptors.lammps_engine import SnapEngine
from snapcheck.gradients.exact import exact_force_loss
from snapcheck.models.linear_snap import LinearSnap


class SnapPotential:
    def __init__(self, model: LinearSnap):
        self.model = model
        self._engines: dict[int, tuple[Configuration, SnapEngine]] = {}

    @property
    def theta(self) -> np.ndarray:
        return self.model.theta

    def _engine(self, configuration: Configuration) -> SnapEngine:
        key = id(configuration)
        if key not in self._engines:
            # The configuration is kept with its engine so that its id() stays unique.
            self._engines[key] = (configuration, SnapEngine(configuration, self.model.parameters, self.model.reference))
        return self._engines[key][1]

    def energy(self, configuration: Configuration, positions: np.ndarray | None = None) -> float:
        """Ê in eV."""
        return self.model.energy(self._engine(configuration).evaluate_fast(_positions(configuration, positions)))

    def energy_gradient(self, configuration: Configuration, positions: np.ndarray | None = None) -> np.ndarray:
        """∇θÊ = (n_e, ΣB_e) per element, flat like θ."""
        return self.model.energy_gradient(self._engine(configuration).evaluate_fast(_positions(configuration, positions)))

    def forces(self, configuration: Configuration, positions: np.ndarray | None = None) -> np.ndarray:
        """f̂ in eV/Å, (N, 3)."""
        return self.model.forces(self._engine(configuration).evaluate(positions))

    def exact_force_loss_gradient(self, configuration: Configuration) -> np.ndarray:
        """∇θL = A_fᵀ g in closed form (see :mod:`snapcheck.gradients.exact`)."""
        return exact_force_loss(self.model, configuration, self._engine(configuration).evaluate()).gradient

    def close(self) -> None:
        for _, engine in self._engines.values():
            engine.close()
        self._engines.clear()

    def __enter__(self) -> SnapPotential:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _positions(configuration: Configuration, positions: np.ndarray | None) -> np.ndarray:
    return configuration.positions if positions is None else positions
