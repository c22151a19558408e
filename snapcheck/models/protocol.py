"""What the paper's method needs from an energy model (Sec. II C).

"Our only assumption is that subroutines are available to efficiently
calculate the energy Ê, as well as its two gradients, ∂Ê/∂r_i and ∇θÊ."  Any
object with these three methods and ``theta`` (duck-typed: no base class to
inherit) can have its force-loss gradient estimated by Eq. 7 and checked by
snapcheck:

========================================  ================  =======
member                                    returns           unit
========================================  ================  =======
``theta``                                 θ, (P,)           [θ]
``energy(configuration, positions)``      Ê                 eV
``forces(configuration, positions)``      f̂ = −∂Ê/∂r, (N,3)  eV/Å
``energy_gradient(configuration, pos.)``  ∇θÊ, (P,)         eV/[θ]
========================================  ================  =======

``positions`` (N, 3) in Å replace the configuration's own; the cell, species
and reference data stay those of ``configuration``.  A model may also offer
``energy_and_gradient(configuration, positions)`` → (Ê, ∇θÊ) from one
evaluation, which the estimate then uses, and
``exact_force_loss_gradient(configuration)``, its own exact ∇θL of Eq. 2.
The potentials bound to LAMMPS (:mod:`snapcheck.models.potentials`) also take
``cell`` (3 × 3, rows, Å) in ``energy``, ``energy_gradient`` and
``energy_and_gradient``: a homogeneously strained configuration, for stress.

The pure models of :mod:`snapcheck.models` (:class:`~snapcheck.models.linear_snap.LinearSnap`,
:class:`~snapcheck.models.neural_snap.NeuralSnap`) map *descriptors* to values
and name their methods ``energy_from``, ``forces_from`` …; the potentials of
:mod:`snapcheck.models.potentials` bind them to LAMMPS and implement this
protocol.
"""

from __future__ import annotations

import inspect
from typing import Protocol, runtime_checkable

import numpy as np

from snapcheck.base.errors import InputError
from snapcheck.data.configuration import Configuration

#: The methods of the protocol, each called as ``method(configuration, positions)``.
METHODS = ("energy", "forces", "energy_gradient")


@runtime_checkable
class EnergyModel(Protocol):
    @property
    def theta(self) -> np.ndarray: ...

    def energy(self, configuration: Configuration, positions: np.ndarray) -> float: ...

    def forces(self, configuration: Configuration, positions: np.ndarray) -> np.ndarray: ...

    def energy_gradient(self, configuration: Configuration, positions: np.ndarray) -> np.ndarray: ...


class ModelProtocolError(InputError, TypeError):
    """An object given as a model lacks a member of :class:`EnergyModel` or takes other arguments."""


def check_model(model) -> None:
    """Raise :class:`ModelProtocolError` naming what ``model`` lacks or what a method's signature gets wrong."""
    name = type(model).__name__
    problems = [f"it has no {member!r}" for member in ("theta", *METHODS) if not hasattr(model, member)]
    for method in METHODS:
        function = getattr(model, method, None)
        if function is None:
            continue
        if not callable(function):
            problems.append(f"{method} is not callable")
            continue
        try:
            inspect.signature(function).bind(None, None)
        except TypeError:
            problems.append(
                f"{method}{inspect.signature(function)} cannot be called as {method}(configuration, positions)"
            )
        except ValueError:  # no signature (a builtin): trust it
            pass
    if problems:
        hint = (
            "; a pure descriptor model (LinearSnap, NeuralSnap) is bound to LAMMPS by LinearSnapPotential or "
            "NeuralSnapPotential"
            if hasattr(model, "energy_from")
            else ""
        )
        raise ModelProtocolError(
            f"{name} is not an energy model snapcheck can use: {'; '.join(problems)}. Give it theta, "
            "energy(configuration, positions), forces(configuration, positions) and "
            f"energy_gradient(configuration, positions) (snapcheck.models.protocol){hint}"
        )
