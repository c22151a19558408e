"""The one small interface through which every model reaches the paper's estimate: a backend.

The estimate of Eq. 7 needs, for each configuration, the direction of the path
(g = ∂L/∂f̂, and H for a stress term), the exact quantities its proxy compares
with (L and D = Σ g·f̂ + V H:σ̂), and Ê with ∇θÊ at points of the path.  A
backend supplies exactly that, in float64 numpy arrays, whatever the model's
own framework:

=================================================  ==============================================
``parameter_slices``                               name → slice of the flat θ (one block for a
                                                   numpy model, one per tensor for torch)
``precision``                                      the model's arithmetic: ``float64``, ``float32`` …
``paper_loss``                                     True when L_c = ½Σ|f̂ − f|² (Eq. 2), so the
                                                   energy proxy is Err[L̃] of Eq. 14
``term(configuration)``                            a :class:`Term`: f̂, L, the path, D
``evaluate(configuration, positions, cell)``       Ê (eV) and ∇θÊ (flat) at a point of the path
``exact(term)``                                    the exact d/dt ∇θÊ along the path (e.g. a
                                                   forward-over-reverse product), or None
=================================================  ==============================================

:class:`NumpyBackend` adapts any model of :mod:`snapcheck.models.protocol`
(linear SNAP through LAMMPS, the numpy network, Morse) with the paper's loss;
:class:`snapcheck.torch.TorchPotential` is the torch backend.  Both meet the
estimate in :class:`snapcheck.gradients.reference.Reference`: numpy and torch
are two backends of one core, never two copies of it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import numpy as np

from snapcheck.gradients.paper import Evaluation, LossPath
from snapcheck.models.protocol import check_model


@dataclass(frozen=True)
class Term:
    """One configuration's part of the loss at the current θ.

    Attributes:
        configuration: what the backend evaluates (a snapcheck Configuration, an ase.Atoms …).
        path: the path whose derivative is this term's ∇θL (:class:`~snapcheck.gradients.paper.LossPath`).
        forces: f̂ at the configuration's own positions, (N, 3) in eV/Å.
        loss: L_c.
        directional: D_c = Σ g·f̂ + V H:σ̂, the exact derivative of Ê along the path at t = 0.
        energy_weight: ∂L/∂Ê, whose term (∂L/∂Ê)∇θÊ is first order and evaluated exactly (0: none).
    """

    configuration: Any
    path: LossPath
    forces: np.ndarray
    loss: float
    directional: float
    energy_weight: float = 0.0

    @property
    def n_atoms(self) -> int:
        return len(self.path.positions)


@runtime_checkable
class Backend(Protocol):
    """What the estimate needs from a model (module docstring)."""

    @property
    def parameter_slices(self) -> Mapping[str, slice]: ...

    @property
    def precision(self) -> str: ...

    @property
    def paper_loss(self) -> bool: ...

    def term(self, configuration) -> Term: ...

    def evaluate(self, configuration, positions: np.ndarray, cell: np.ndarray | None) -> Evaluation: ...

    def exact(self, term: Term) -> np.ndarray | None: ...


def paper_term(configuration, forces: np.ndarray) -> Term:
    """The paper's force loss L = ½Σ|f̂ − f|² (Eq. 2): g = f̂ − f (Eq. 4), D = Σ g·f̂."""
    errors = forces - configuration.forces
    return Term(
        configuration=configuration,
        path=LossPath(configuration.positions, errors),
        forces=forces,
        loss=0.5 * float(np.sum(errors * errors)),
        directional=float(np.sum(errors * forces)),
    )


class NumpyBackend:
    """A model of :mod:`snapcheck.models.protocol` with the paper's force loss (Eq. 2)."""

    precision = "float64"
    paper_loss = True

    def __init__(self, model):
        check_model(model)
        self.model = model
        self.parameter_slices = {"θ": slice(0, int(np.size(model.theta)))}

    def term(self, configuration) -> Term:
        return paper_term(configuration, np.asarray(self.model.forces(configuration, configuration.positions)))

    def evaluate(self, configuration, positions: np.ndarray, cell: np.ndarray | None) -> Evaluation:
        """Ê and ∇θÊ at ``positions``; one evaluation where the model offers ``energy_and_gradient``."""
        if cell is not None and not np.array_equal(cell, configuration.cell):
            raise NotImplementedError(f"{type(self.model).__name__} evaluates only the configuration's own cell")
        both = getattr(self.model, "energy_and_gradient", None)
        if both is not None:
            energy, gradient = both(configuration, positions)
        else:
            energy = self.model.energy(configuration, positions)
            gradient = self.model.energy_gradient(configuration, positions)
        return Evaluation(float(energy), np.asarray(gradient, dtype=np.float64))

    def exact(self, term: Term) -> None:
        """None: a numpy model's own exact gradient may be the code under test (snapcheck.testing decides)."""
        return None


def as_backend(model) -> Backend:
    """``model`` itself when it is a :class:`Backend`, else a :class:`NumpyBackend` around it."""
    return model if isinstance(model, Backend) else NumpyBackend(model)
