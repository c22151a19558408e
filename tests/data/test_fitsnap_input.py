"""Reading FitSNAP input files: the Ta example, and clear refusals of what snapcheck does not reproduce."""

from __future__ import annotations

import pytest

from snapcheck.base.errors import InputError
from snapcheck.data.dataset_registry import FIT_INPUT
from snapcheck.data.fitsnap_input import read_fitsnap_input
from snapcheck.descriptors.engine import ZBL_TANTALUM


@pytest.fixture(scope="module")
def example_text(data_root):
    """The Ta example's input with an explicit ``bikflag = 0`` (FitSNAP's default), so that a case can turn it on."""
    text = (data_root / FIT_INPUT).read_text()
    assert "bikflag" not in text and "quadraticflag = 0\n" in text
    return text.replace("quadraticflag = 0\n", "quadraticflag = 0\nbikflag = 0\n")


def test_the_ta_example_gives_ta06as_descriptors_zbl_and_its_group_weights(data_root, ta06a):
    fit_input = read_fitsnap_input(data_root / FIT_INPUT)
    assert fit_input.parameters == ta06a.parameters
    assert fit_input.reference == ZBL_TANTALUM
    assert fit_input.row_types == ("energy", "force", "stress")
    assert fit_input.energy_shift == {"Ta": 0.0}
    assert len(fit_input.weights) == 12
    liquid = fit_input.group_weights("Liquid")
    assert (liquid.energy, liquid.force, liquid.virial) == (467.0, 1.0, 1e-8)


def test_a_group_missing_from_the_input_is_named(data_root):
    fit_input = read_fitsnap_input(data_root / FIT_INPUT)
    with pytest.raises(InputError, match=r"conf\.json: group 'Amorphous' has no row in \[GROUPS\] of .*Ta-example\.in"):
        fit_input.group_weights("Amorphous", "conf.json")


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            "smartweights = 0",
            "smartweights = 1",
            r"\[GROUPS\] smartweights = 1; snapcheck's fit uses the weights as given",
        ),
        ("solver = SVD", "solver = RIDGE", r"\[SOLVER\] solver = RIDGE; snapcheck reproduces the SVD solver only"),
        (
            "Liquid        =  1.0    0.0",
            "Liquid        =  0.8    0.2",
            r"\[GROUPS\] Liquid: snapcheck fits every configuration",
        ),
        (
            "bikflag = 0",
            "bikflag = 1",
            r"\[BISPECTRUM\] bikflag = 1; snapcheck's linear model uses the per-configuration",
        ),
        ("twojmax = 6", "twojmax = six", r"\[BISPECTRUM\] twojmax and rcutfac must be numbers"),
        ("[REFERENCE]", "[REFERENCES]", r"the section \[REFERENCE\] is missing"),
    ],
)
def test_settings_snapcheck_does_not_reproduce_are_refused_by_name(tmp_path, example_text, old, new, message):
    assert old in example_text
    path = tmp_path / "edited.in"
    path.write_text(example_text.replace(old, new))
    with pytest.raises(InputError, match=rf"edited\.in: {message}"):
        read_fitsnap_input(path)


def test_quadratic_and_explicit_bikflag_0_are_accepted(tmp_path, example_text):
    """quadraticflag 1 is a linear model in θ = (β₀, β, α) and is read; bikflag = 0 is FitSNAP's default."""
    path = tmp_path / "quadratic.in"
    path.write_text(example_text.replace("quadraticflag = 0", "quadraticflag = 1"))
    parameters = read_fitsnap_input(path).parameters
    assert parameters.quadraticflag == 1 and parameters.n_descriptors == 30 + 30 * 31 // 2


def test_a_missing_file_is_named(tmp_path):
    with pytest.raises(InputError, match=r"nothing\.in: cannot read the FitSNAP input"):
        read_fitsnap_input(tmp_path / "nothing.in")
