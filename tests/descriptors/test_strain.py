"""Evaluations at a strained cell (``cell=``): the same bits as a new engine built on the strained configuration,
and no trace on the evaluations at the configuration's own cell."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse

from snapcheck.data import Configuration, load_configurations
from snapcheck.descriptors import SnapEngine
from snapcheck.descriptors.cell import lammps_rotation
from snapcheck.models.registry import ModelRequest, load_model

#: A symmetric strain with every component non-zero: a diagonal cell stops being lower-triangular under it.
STRAIN = np.array([[0.012, -0.007, 0.004], [-0.007, -0.009, 0.011], [0.004, 0.011, 0.006]])


def strained(configuration: Configuration, strain: np.ndarray) -> Configuration:
    """The configuration with its cell and positions strained together: rows r → r (I + ε)."""
    deformation = np.eye(3) + strain
    return Configuration(
        name=configuration.name,
        group=configuration.group,
        positions=configuration.positions @ deformation,
        cell=configuration.cell @ deformation,
        species=configuration.species,
        energy=configuration.energy,
        forces=configuration.forces,
    )


@pytest.fixture(scope="module")
def cases(ta06a, ta_configurations, shared_datasets):
    """(configuration, SNAP parameters, reference potential): a Ta cube (diagonal cell) and an InP Shear cell
    (already rotated out of LAMMPS's form), each to be strained so that its rotation Q changes."""
    inp = load_model("trained", ModelRequest(seed=0, data=shared_datasets / "inp_jpca2020")).model
    (shear,) = load_configurations("inp-jpca2020", count=1, groups={"Shear"})
    assert np.any(np.triu(shear.cell, 1))
    return [(ta_configurations[5], ta06a.parameters, ta06a.reference), (shear, inp.parameters, inp.reference)]


def assert_same_bits(result, expected, label: str) -> None:
    """Every field of two evaluation results equal bit for bit (sparse derivatives densified)."""
    for name, value in vars(result).items():
        other = getattr(expected, name)
        if scipy.sparse.issparse(value):
            value, other = value.toarray(), other.toarray()
        np.testing.assert_array_equal(value, other, err_msg=f"{label}: {name}")


def test_a_strained_evaluation_equals_a_new_engine_on_the_strained_configuration(cases):
    """Bit for bit: ΣB, A_f, the stress rows and the reference terms, the values without derivatives and Bᵢ."""
    for configuration, parameters, reference in cases:
        other = strained(configuration, STRAIN)
        assert not np.allclose(lammps_rotation(other.cell), lammps_rotation(configuration.cell))
        with SnapEngine(configuration, parameters, reference) as engine:
            results = (
                engine.evaluate(other.positions, other.cell),
                engine.evaluate_values(other.positions, other.cell),
                engine.evaluate_per_atom_values(other.positions, other.cell),
            )
        with SnapEngine(other, parameters, reference) as fresh:
            expected = (
                fresh.evaluate(),
                fresh.evaluate_values(other.positions),
                fresh.evaluate_per_atom_values(other.positions),
            )
        for result, reference_result in zip(results, expected):
            assert_same_bits(result, reference_result, configuration.label)


def _at_own_cell(engine: SnapEngine, configuration: Configuration) -> tuple:
    """Every evaluation at the configuration's own positions and cell."""
    return (
        engine.evaluate(),
        engine.evaluate_values(configuration.positions),
        engine.evaluate_values(configuration.positions, configuration.cell),
        engine.evaluate_per_atom_values(configuration.positions),
        engine.evaluate_per_atom(),
    )


def test_evaluations_at_the_own_cell_keep_their_bits_after_a_strained_one(cases):
    for configuration, parameters, reference in cases:
        other = strained(configuration, STRAIN)
        with SnapEngine(configuration, parameters, reference) as engine:
            before = _at_own_cell(engine, configuration)
            engine.evaluate(other.positions, other.cell)
            engine.evaluate_values(other.positions, other.cell)
            engine.evaluate_per_atom_values(other.positions, other.cell)
            after = _at_own_cell(engine, configuration)
        for first, again in zip(before, after):
            assert_same_bits(again, first, configuration.label)


def test_a_cell_that_is_not_a_right_handed_3x3_is_refused(cases):
    configuration, parameters, reference = cases[0]
    mirrored = configuration.cell * np.array([[-1.0], [1.0], [1.0]])
    with SnapEngine(configuration, parameters, reference) as engine:
        with pytest.raises(ValueError, match=r"a cell must be 3 × 3 finite numbers"):
            engine.evaluate_values(configuration.positions, configuration.cell[:2])
        with pytest.raises(ValueError, match=r"its rows must be right-handed"):
            engine.evaluate_values(configuration.positions, mirrored)


def test_successive_strains_of_a_cell_whose_atoms_sit_on_bin_edges(ta_configurations, ta06a):
    """The FCC crystal of 4.8 Å has its atoms on the edges of LAMMPS's neighbour bins, so every strain moves them
    into other bins.  LAMMPS bins the atoms of a compute's occasional neighbour list once per timestep and ``run 0``
    keeps the timestep: without a new one per box, the second strained evaluation reused the first box's bins
    (Ê of -995 eV for -40.4 eV, or a crash).  Each strained evaluation equals a new engine on its cell."""
    (crystal,) = [c for c in ta_configurations if c.label == "Volume_FCC/FCC_4.8"]
    with SnapEngine(crystal, ta06a.parameters, ta06a.reference) as engine:
        engine.evaluate()
        for scale in (1e-7, -1e-7, 1e-3, 0.0, -1e-3):
            other = strained(crystal, scale * np.eye(3))
            with SnapEngine(other, ta06a.parameters, ta06a.reference) as fresh:
                expected = fresh.evaluate_values(other.positions)
            assert_same_bits(engine.evaluate_values(other.positions, other.cell), expected, f"strain {scale}")
