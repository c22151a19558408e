"""The one engine cache: a LAMMPS engine per configuration, kept alive, and the evaluations at its own positions.

Setting up a :class:`~snapcheck.descriptors.engine.SnapEngine` costs
milliseconds; a ``run 0`` on a live engine much less.  A model bound to
LAMMPS (:mod:`snapcheck.models.potentials`) or a trainer evaluates the same
configurations again and again, at their own positions and at the paper's
displaced positions r±, so :class:`EngineCache` creates each configuration's
engine on first use and keeps it, and keeps the evaluations with derivatives
at the configuration's own positions, which never change.

Nothing here depends on a model's θ, so one cache serves every model with the
same SNAP parameters and every training step.  Close it (or use it as a
context manager) to free the LAMMPS instances.
"""

from __future__ import annotations

import numpy as np

from snapcheck.data.configuration import Configuration
from snapcheck.data.snap_files import ZBL_TANTALUM, ReferencePotential, SnapParameters
from snapcheck.descriptors.engine import SnapEngine
from snapcheck.descriptors.results import (
    AtomDescriptors,
    AtomDescriptorValues,
    SummedDescriptors,
    SummedDescriptorValues,
)


class EngineCache:
    """One :class:`SnapEngine` per configuration, and each configuration's evaluations at its own positions."""

    def __init__(self, parameters: SnapParameters, reference: ReferencePotential = ZBL_TANTALUM):
        self.parameters = parameters
        self.reference = reference
        self._engines: dict[int, tuple[Configuration, SnapEngine]] = {}
        self._summed: dict[int, SummedDescriptors] = {}
        self._per_atom: dict[int, AtomDescriptors] = {}

    def engine(self, configuration: Configuration) -> SnapEngine:
        key = id(configuration)
        if key not in self._engines:
            # The configuration is kept with its engine so that its id() stays unique.
            self._engines[key] = (configuration, SnapEngine(configuration, self.parameters, self.reference))
        return self._engines[key][1]

    @staticmethod
    def _at_own_geometry(configuration: Configuration, positions: np.ndarray | None, cell: np.ndarray | None) -> bool:
        return (positions is None or np.array_equal(positions, configuration.positions)) and (
            cell is None or np.array_equal(cell, configuration.cell)
        )

    # -- summed descriptors (linear models) ----------------------------------
    def summed(
        self, configuration: Configuration, positions: np.ndarray | None = None, cell: np.ndarray | None = None
    ) -> SummedDescriptors:
        """ΣB, A_f, the stress rows and the reference terms at ``positions`` and ``cell``.

        Both default to the configuration's own, which is cached.
        """
        if not self._at_own_geometry(configuration, positions, cell):
            return self.engine(configuration).evaluate(positions, cell)
        key = id(configuration)
        if key not in self._summed:
            self._summed[key] = self.engine(configuration).evaluate()
        return self._summed[key]

    def summed_values(
        self, configuration: Configuration, positions: np.ndarray | None = None, cell: np.ndarray | None = None
    ) -> SummedDescriptorValues:
        """ΣB and E_ref at ``positions`` and ``cell`` without derivatives (the paper's r± evaluations)."""
        return self.engine(configuration).evaluate_values(
            configuration.positions if positions is None else positions, cell
        )

    # -- per-atom descriptors (models on each atom's descriptors) ------------
    def per_atom(self, configuration: Configuration, positions: np.ndarray | None = None) -> AtomDescriptors:
        """Bᵢ, ∂Bᵢ/∂rⱼ, E_ref and f_ref at ``positions`` (default and cached: the configuration's own)."""
        if not self._at_own_geometry(configuration, positions, None):
            return self.engine(configuration).evaluate_per_atom(positions)
        key = id(configuration)
        if key not in self._per_atom:
            self._per_atom[key] = self.engine(configuration).evaluate_per_atom()
        return self._per_atom[key]

    def per_atom_values(
        self, configuration: Configuration, positions: np.ndarray | None = None, cell: np.ndarray | None = None
    ) -> AtomDescriptorValues:
        """Bᵢ and E_ref at ``positions`` and ``cell`` without derivatives (the paper's r± evaluations)."""
        if self._at_own_geometry(configuration, positions, cell):
            cached = self.per_atom(configuration)
            return AtomDescriptorValues(cached.descriptors, cached.reference_energy)
        return self.engine(configuration).evaluate_per_atom_values(
            configuration.positions if positions is None else positions, cell
        )

    def close(self) -> None:
        for _, engine in self._engines.values():
            engine.close()
        self._engines.clear()
        self._summed.clear()
        self._per_atom.clear()

    def __enter__(self) -> EngineCache:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
