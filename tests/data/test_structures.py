"""The one test structure: rattled bcc Ta supercells."""

from __future__ import annotations

import numpy as np
from ase.neighborlist import neighbor_list

from snapcheck.data.structures import LATTICE_CONSTANT, bcc_tantalum


def test_bcc_supercell_has_2m3_atoms_in_an_m_cell_cube():
    configuration = bcc_tantalum(3, seed=1)
    assert configuration.n_atoms == 54
    np.testing.assert_allclose(configuration.cell, np.eye(3) * 3 * LATTICE_CONSTANT)
    assert configuration.positions.std() > 0 and not np.array_equal(
        configuration.positions, bcc_tantalum(3, seed=2).positions
    )
    np.testing.assert_array_equal(configuration.positions, bcc_tantalum(3, seed=1).positions)  # seeded


def test_displacements_have_the_requested_spread():
    perfect = bcc_tantalum((5, 5, 4), seed=0, displacement=0.0)
    rattled = bcc_tantalum((5, 5, 4), seed=0, displacement=0.05)
    assert perfect.n_atoms == rattled.n_atoms == 200
    assert abs(np.std(rattled.positions - perfect.positions) - 0.05) < 0.005


def test_bcc_supercell_is_rattled_bcc_tantalum_at_its_lattice_constant():
    """54 atoms for 3 × 3 × 3 cells; without the rattle every atom has 8 neighbours at √3/2·3.316 Å (bcc)."""
    rattled, perfect = bcc_tantalum(3, seed=1), bcc_tantalum(3, seed=1, displacement=0.0)
    assert rattled.n_atoms == perfect.n_atoms == 54 and rattled.species == ("Ta",) * 54
    np.testing.assert_allclose(np.diag(rattled.cell), 3 * 3.316)
    first, distances = neighbor_list("id", perfect.to_atoms(), 3.0)
    np.testing.assert_allclose(distances, np.sqrt(3) / 2 * 3.316)
    assert np.bincount(first).tolist() == [8] * 54
    moved = np.linalg.norm(rattled.positions - perfect.positions, axis=1)
    assert 0.08 < np.sqrt(np.mean(moved**2) / 3) < 0.12 and not np.array_equal(
        rattled.positions, bcc_tantalum(3, seed=2).positions
    )
