"""The one test structure: rattled bcc Ta supercells."""

from __future__ import annotations

import numpy as np

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
