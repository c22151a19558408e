"""The linear SNAP model behind the model protocol gives what the engine gives."""

from __future__ import annotations

import numpy as np

from snapcheck.descriptors import SnapEngine
from snapcheck.models.potentials import LinearSnapPotential
from snapcheck.models.protocol import EnergyModel


def test_protocol_methods_agree_with_the_engine(ta06a, one_per_group):
    configuration = one_per_group[3]
    moved = configuration.positions + 0.01
    with LinearSnapPotential(ta06a) as potential, SnapEngine(configuration, ta06a.parameters) as engine:
        assert isinstance(potential, EnergyModel)
        full = engine.evaluate(moved)
        assert potential.energy(configuration, moved) == ta06a.energy_from(engine.evaluate_values(moved))
        np.testing.assert_array_equal(
            potential.energy_gradient(configuration, moved), ta06a.energy_gradient_from(engine.evaluate_values(moved))
        )
        np.testing.assert_allclose(potential.forces(configuration, moved), ta06a.forces_from(full), rtol=0, atol=1e-12)
        exact = ta06a.force_loss_from(configuration, engine.evaluate()).gradient
        np.testing.assert_array_equal(potential.exact_force_loss_gradient(configuration), exact)
