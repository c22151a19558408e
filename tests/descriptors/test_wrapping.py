"""Positions outside the cell, and cells thinner than the cutoff.

Atoms several periods outside the cell (MD dumps, extxyz) must give the f̂, L
and ∇θL of the wrapped configuration on every evaluation path (LAMMPS alone
loses them: "Lost atoms").  A cell thinner than the SNAP cutoff must give the
descriptors and forces of the same structure replicated until it is thicker.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from snapcheck.base.errors import InputError
from snapcheck.data import Configuration
from snapcheck.descriptors import SnapEngine
from snapcheck.gradients.reference import paper_force_loss_gradient
from snapcheck.models.potentials import LinearSnapPotential


def unwrapped(configuration: Configuration, seed: int = 0) -> Configuration:
    """Each atom moved by its own random whole number (−4 … 4) of each lattice vector."""
    shifts = np.random.default_rng(seed).integers(-4, 5, size=(configuration.n_atoms, 3))
    return dataclasses.replace(configuration, positions=configuration.positions + shifts @ configuration.cell)


def test_atoms_periods_outside_the_cell_give_the_wrapped_numbers(ta_configurations, ta06a):
    liquid = next(c for c in ta_configurations if c.group == "Liquid")
    moved = unwrapped(liquid)
    assert np.abs(moved.positions @ np.linalg.inv(moved.cell)).max() > 3  # far outside: LAMMPS alone loses them
    with SnapEngine(liquid, ta06a.parameters) as engine:
        inside = ta06a.force_loss_from(liquid, engine.evaluate())
        inside_atoms = engine.evaluate_per_atom()
    with SnapEngine(moved, ta06a.parameters) as engine:
        outside = ta06a.force_loss_from(moved, engine.evaluate())
        outside_atoms = engine.evaluate_per_atom()
        # the fast path at user positions that lie outside (as r± = r ± ηg do)
        values = engine.evaluate_values(moved.positions + 1e-3)
    with SnapEngine(liquid, ta06a.parameters) as engine:
        expected_values = engine.evaluate_values(liquid.positions + 1e-3)
    np.testing.assert_allclose(outside.forces, inside.forces, rtol=0, atol=1e-10)
    np.testing.assert_allclose(outside.loss, inside.loss, rtol=1e-11)
    np.testing.assert_allclose(outside.gradient, inside.gradient, rtol=1e-10, atol=1e-9)
    np.testing.assert_allclose(values.sum_b, expected_values.sum_b, rtol=1e-11)
    np.testing.assert_allclose(outside_atoms.descriptors, inside_atoms.descriptors, rtol=1e-10, atol=1e-12)
    assert abs(outside_atoms.derivatives - inside_atoms.derivatives).max() < 1e-10


def test_the_paper_gradient_of_an_unwrapped_configuration_is_that_of_the_wrapped_one(ta_configurations, ta06a):
    displaced = next(c for c in ta_configurations if c.group == "Displaced_BCC")
    potential = LinearSnapPotential(ta06a)
    wrapped = paper_force_loss_gradient(potential, [displaced], epsilon=1e-5).gradient
    outside = paper_force_loss_gradient(potential, [unwrapped(displaced, seed=1)], epsilon=1e-5).gradient
    np.testing.assert_allclose(outside, wrapped, rtol=1e-8, atol=1e-8 * np.abs(wrapped).max())


THIN_CELLS = {
    "cubic": np.diag([3.3, 3.3, 3.3]),
    "triclinic": np.array([[3.3, 0.0, 0.0], [0.9, 3.2, 0.0], [0.6, -0.7, 3.4]]),
}


@pytest.mark.parametrize("shape", sorted(THIN_CELLS))
def test_a_cell_thinner_than_the_cutoff_gives_its_supercell_numbers(shape, ta06a):
    cell = THIN_CELLS[shape]
    cutoff = ta06a.parameters.rcutfac * 2 * max(ta06a.parameters.radii)  # the SNAP cutoff, 4.68 Å
    assert cutoff > 4.6  # and ZBL's outer cutoff is 4.8 Å: the replicated cell is thicker than both
    thickness = np.linalg.det(cell) / np.linalg.norm(np.cross(cell[[1, 2, 0]], cell[[2, 0, 1]]), axis=1)
    assert thickness.min() < cutoff, "the cell must be thinner than the cutoff for this test to mean anything"
    rng = np.random.default_rng(3)
    positions = np.array([[0.0, 0.0, 0.0], [0.5, 0.5, 0.5]]) @ cell + rng.normal(scale=0.1, size=(2, 3))
    small = Configuration("thin", "test", positions, cell, ("Ta", "Ta"), 0.0, rng.normal(size=(2, 3)))
    repeat = int(np.ceil(2 * cutoff / thickness.min()))
    shifts = np.array([(i, j, k) for i in range(repeat) for j in range(repeat) for k in range(repeat)]) @ cell
    big = Configuration(
        "replicated",
        "test",
        (positions[None, :, :] + shifts[:, None, :]).reshape(-1, 3),
        repeat * cell,
        ("Ta",) * (2 * len(shifts)),
        0.0,
        np.tile(small.forces, (len(shifts), 1)),
    )
    assert (
        np.linalg.det(big.cell) / np.linalg.norm(np.cross(big.cell[[1, 2, 0]], big.cell[[2, 0, 1]]), axis=1)
    ).min() > 2 * 4.8
    with SnapEngine(small, ta06a.parameters) as engine:
        small_atoms = engine.evaluate_per_atom_values(small.positions)
        small_result = ta06a.force_loss_from(small, engine.evaluate())
    with SnapEngine(big, ta06a.parameters) as engine:
        big_atoms = engine.evaluate_per_atom_values(big.positions)
        big_result = ta06a.force_loss_from(big, engine.evaluate())
    n_copies = len(shifts)
    np.testing.assert_allclose(big_atoms.descriptors, np.tile(small_atoms.descriptors, (n_copies, 1)), rtol=1e-9)
    np.testing.assert_allclose(big_result.forces, np.tile(small_result.forces, (n_copies, 1)), rtol=1e-8, atol=1e-9)
    np.testing.assert_allclose(big_result.loss, n_copies * small_result.loss, rtol=1e-9)


def test_atoms_closer_than_a_tenth_of_an_angstrom_across_the_boundary_are_refused():
    cell = np.diag([5.0, 5.0, 5.0])
    positions = np.array([[0.02, 1.0, 1.0], [4.97, 1.0, 1.0], [2.5, 2.5, 2.5]])
    with pytest.raises(InputError, match=r"'close': Positions: atoms 0 and 1 .* are 0.05 Å apart, periodic images"):
        Configuration("close", "test", positions, cell, ("Ta",) * 3, 0.0, np.zeros((3, 3)), source="mine.json")
    far_enough = positions + [[0, 0, 0], [-0.1, 0, 0], [0, 0, 0]]
    Configuration("fine", "test", far_enough, cell, ("Ta",) * 3, 0.0, np.zeros((3, 3)))
