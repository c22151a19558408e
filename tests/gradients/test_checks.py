"""The pieces every check shares: the force check's scale and its refusal of non-finite numbers, the tolerance
of an estimate, and the unit factors :func:`~snapcheck.gradients.diagnosis.name_scales` names."""

from __future__ import annotations

import math

import numpy as np
import pytest
from ase import units

from snapcheck.gradients.checks import estimate_tolerance
from snapcheck.gradients.diagnosis import FACTORS, STRESS_FACTORS, name_scales
from snapcheck.gradients.forces_check import directional_check

#: A harmonic well Ê = ½ k |r|² (eV, Å), whose forces −k r are known in closed form.
K = 2.0


def harmonic(positions: np.ndarray) -> float:
    return 0.5 * K * float(np.sum(positions**2))


def cases(energy=harmonic, scale=1.0):
    positions = np.random.default_rng(1).standard_normal((4, 3))
    return [(energy, positions, -K * scale * positions)]


def test_right_forces_pass_and_scaled_forces_fail_the_directional_check():
    assert directional_check(cases(), directions=3, step=1e-4, seed=0).error < 1e-8
    assert directional_check(cases(scale=1.01), directions=3, step=1e-4, seed=0).error > 1e-3


@pytest.mark.parametrize("bad", [math.nan, math.inf])
def test_a_non_finite_energy_fails_the_directional_check_instead_of_passing(bad):
    """max(0, nan) is 0 in Python: a NaN energy must not read as a perfect agreement."""
    check = directional_check(cases(energy=lambda positions: bad), directions=3, step=1e-4, seed=0)
    assert check.error == math.inf


def test_an_infinite_proxy_bound_adds_nothing_to_the_tolerance():
    """Every force error zero gives an infinite proxy; rtol + 10·∞ would pass any gradient."""
    assert estimate_tolerance(1e-6, "energy", math.inf) == 1e-6
    assert estimate_tolerance(1e-6, "energy", 1e-5) == pytest.approx(1e-6 + 10 * 1e-5)


@pytest.mark.parametrize(
    ("scale", "named"),
    [
        (units.Hartree, "a value in eV converted from Hartree once more"),
        (1 / units.Hartree, "a value left in Hartree where eV was due"),
        (units.kcal / units.mol, "an energy converted from kcal/mol to eV once more"),
        (units.mol / units.kcal, "an energy left in kcal/mol where eV was due"),
        (units.Hartree / units.Bohr, "a value in eV/Å converted from Hartree/bohr once more"),
        (units.Bohr / units.Hartree, "a value left in Hartree/bohr where eV/Å was due"),
    ],
)
def test_a_unit_factor_is_named_in_its_direction(scale, named):
    """s = candidate/reference: a value converted once more is s times too large, one left unconverted 1/s."""
    phrase = name_scales([scale, scale], [24, 54], table=FACTORS)
    assert phrase is not None and phrase.endswith(named), phrase


def test_a_stress_in_atomic_units_is_named():
    per_atomic = units.Hartree / units.Bohr**3
    assert name_scales([per_atomic], [54], table=STRESS_FACTORS).endswith(
        "a value in eV/Å³ converted from Hartree/bohr³ once more"
    )
    assert name_scales([1 / per_atomic], [54], table=STRESS_FACTORS).endswith(
        "a value left in Hartree/bohr³ where eV/Å³ was due"
    )
