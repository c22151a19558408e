"""What the paper's method needs from an energy model (Sec. II C).

"Our only assumption is that subroutines are available to efficiently
calculate the energy Ê, as well as its two gradients, ∂Ê/∂r_i and ∇θÊ."  Any
object with these three methods (duck-typed: no base class to inherit) can
have its force-loss gradient estimated by Eq. 7 and checked by snapcheck:

========================================  ================  =======
method                                    returns           unit
========================================  ================  =======
``energy(configuration, positions)``      Ê                 eV
``forces(configuration, positions)``      f̂ = −∂Ê/∂r, (N,3)  eV/Å
``energy_gradient(configuration, pos.)``  ∇θÊ, (P,)         eV/[θ]
========================================  ================  =======

``positions`` (N, 3) in Å replace the configuration's own; the cell, species
and reference data stay those of ``configuration``.  ``theta`` gives the
current parameters (P,).  A model that also knows its exact force-loss
gradient may offer ``exact_force_loss_gradient(configuration)``: snapcheck then
uses it as the reference instead of the paper's estimate.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np

from snapcheck.data.configuration import Configuration


@runtime_checkable
class EnergyModel(Protocol):
    @property
    def theta(self) -> np.ndarray: ...

    def energy(self, configuration: Configuration, positions: np.ndarray) -> float: ...

    def forces(self, configuration: Configuration, positions: np.ndarray) -> np.ndarray: ...

    def energy_gradient(self, configuration: Configuration, positions: np.ndarray) -> np.ndarray: ...


def check_model(model) -> None:
    """Raise a TypeError that lists what ``model`` lacks of the protocol."""
    missing = [name for name in ("theta", "energy", "forces", "energy_gradient") if not hasattr(model, name)]
    if missing:
        raise TypeError(
            f"{type(model).__name__} is not an energy model snapcheck can use: it lacks {missing}. "
            "Give it theta, energy(configuration, positions), forces(configuration, positions) "
            "and energy_gradient(configuration, positions) (see snapcheck.models.protocol)."
        )
