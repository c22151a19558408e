"""The linear SNAP model behind the model protocol gives what the engine gives."""

from __future__ import annotations

import numpy as np

from snapcheck.descriptors import SnapEngine
from snapcheck.models.neural_snap import NeuralSnap
from snapcheck.models.potentials import LinearSnapPotential, NeuralSnapPotential
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


def test_a_strained_cell_reaches_lammps_through_both_potentials(ta06a, one_per_group):
    """energy, energy_gradient and energy_and_gradient at a strained cell: the engine's strained evaluation, never
    the cached own-cell one (also when the positions are the configuration's own), and one evaluation for both."""
    configuration = one_per_group[3]
    deformation = np.eye(3) + np.array([[0.01, 0.002, 0.0], [0.002, -0.004, 0.003], [0.0, 0.003, 0.006]])
    positions, cell = configuration.positions @ deformation, configuration.cell @ deformation
    network = NeuralSnap.initialize(ta06a.parameters, (8,), seed=0)
    with LinearSnapPotential(ta06a) as linear, SnapEngine(configuration, ta06a.parameters) as engine:
        neural = NeuralSnapPotential(network, linear.cache)
        summed, per_atom = engine.evaluate_values(positions, cell), engine.evaluate_per_atom_values(positions, cell)
        assert linear.energy(configuration, positions, cell) == ta06a.energy_from(summed)
        assert neural.energy(configuration, positions, cell) == network.energy_from(per_atom)
        for potential, model, descriptors in ((linear, ta06a, summed), (neural, network, per_atom)):
            energy, gradient = potential.energy_and_gradient(configuration, positions, cell)
            assert energy == model.energy_from(descriptors)
            np.testing.assert_array_equal(gradient, model.energy_gradient_from(descriptors))
            np.testing.assert_array_equal(potential.energy_gradient(configuration, positions, cell), gradient)
            own = potential.energy(configuration)
            assert potential.energy(configuration, None, cell) != own
            assert potential.energy(configuration, configuration.positions, configuration.cell) == own
            assert potential.energy_and_gradient(configuration)[0] == own
