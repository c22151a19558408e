"""The FitSNAP JSON reader on the real Ta files, and its errors on broken copies of them."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from ase import units

from snapcheck.base.errors import InputError
from snapcheck.data import read_fitsnap_json

BCC_FILE = Path("JSON/Displaced_BCC/BCC_1.json")


@pytest.fixture
def bcc_document(data_root):
    """The header comment and the parsed JSON of a real 54-atom file."""
    text = (data_root / BCC_FILE).read_text()
    comment, body = text.split("\n", 1)
    return comment, json.loads(body)


def write(tmp_path: Path, comment: str, document: dict, name: str = "BCC_1.json") -> Path:
    path = tmp_path / "Displaced_BCC" / name
    path.parent.mkdir(exist_ok=True)
    path.write_text(comment + "\n" + json.dumps(document))
    return path


def test_reads_a_real_file_with_units(data_root):
    (configuration,) = read_fitsnap_json(data_root / BCC_FILE)
    raw = json.loads((data_root / BCC_FILE).read_text().split("\n", 1)[1])["Dataset"]["Data"][0]
    assert configuration.name == "BCC_1"
    assert configuration.group == "Displaced_BCC"
    assert configuration.n_atoms == raw["NumAtoms"]
    np.testing.assert_array_equal(configuration.positions, raw["Positions"])
    np.testing.assert_array_equal(configuration.forces, raw["Forces"])
    np.testing.assert_array_equal(configuration.cell, raw["Lattice"])
    assert configuration.energy == raw["Energy"]
    assert configuration.stress.shape == (3, 3)


def test_several_configurations_per_file(tmp_path, bcc_document):
    comment, document = bcc_document
    record = document["Dataset"]["Data"][0]
    document["Dataset"]["Data"] = [record, record]
    configurations = read_fitsnap_json(write(tmp_path, comment, document))
    assert [c.name for c in configurations] == ["BCC_1:0", "BCC_1:1"]


#: StressStyle → bar per unit, from the units' definitions: 1 kbar = 1e3 bar, 1 GPa = 1e4 bar,
#: 1 eV/Å³ = 1e4/ase.units.GPa bar (ASE's own conversion, not the reader's 1/ase.units.bar).
STRESS_UNITS = {
    "bar": 1.0,
    "bars": 1.0,
    "metal": 1.0,
    "kB": 1e3,
    "kb": 1e3,
    "kbar": 1e3,
    "GPa": 1e4,
    "eV/angstrom^3": 1e4 / units.GPa,
    "eV/Å³": 1e4 / units.GPa,
}


@pytest.mark.parametrize(("style", "bar"), list(STRESS_UNITS.items()))
def test_stress_styles_are_converted_to_bar(tmp_path, bcc_document, style, bar):
    """The file's StressStyle (FitSNAP's spellings of bar and kB, GPa and eV/Å³); the sign stays the file's."""
    comment, document = bcc_document
    document["Dataset"]["StressStyle"] = style
    (configuration,) = read_fitsnap_json(write(tmp_path, comment, document))
    np.testing.assert_allclose(
        configuration.stress, bar * np.array(document["Dataset"]["Data"][0]["Stress"]), rtol=1e-14, atol=0
    )


def test_a_configuration_may_give_its_own_stress_style(tmp_path, bcc_document):
    """As in FitSNAP's scraper, which merges the configuration's keys into the file's."""
    comment, document = bcc_document
    del document["Dataset"]["StressStyle"]
    document["Dataset"]["Data"][0]["StressStyle"] = "GPa"
    (configuration,) = read_fitsnap_json(write(tmp_path, comment, document))
    np.testing.assert_allclose(configuration.stress, 1e4 * np.array(document["Dataset"]["Data"][0]["Stress"]))


def mutate(document: dict, change) -> dict:
    change(document["Dataset"]["Data"][0])
    return document


def set_nan_force(record):
    record["Forces"][3][1] = float("nan")


def drop_force_row(record):
    record["Forces"] = record["Forces"][:-1]


def flatten_cell(record):
    record["Lattice"][2] = [a + b for a, b in zip(record["Lattice"][0], record["Lattice"][1])]


def mirror_cell(record):
    record["Lattice"][0] = [-v for v in record["Lattice"][0]]


def wrong_count(record):
    record["NumAtoms"] += 1


def unknown_species(record):
    record["AtomTypes"][5] = "Qq"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (wrong_count, "Positions has shape 54 × 3, expected NumAtoms = 55 rows of x, y, z"),
        (set_nan_force, "Forces[3][1] is nan; every value must be finite"),
        (drop_force_row, "Forces has shape 53 × 3, expected NumAtoms = 54 rows of x, y, z"),
        (flatten_cell, "the cell is singular"),
        (mirror_cell, "the cell is left-handed"),
        (unknown_species, "unknown species ['Qq']"),
    ],
)
def test_bad_configuration_names_file_and_configuration(tmp_path, bcc_document, change, message):
    comment, document = bcc_document
    path = write(tmp_path, comment, mutate(document, change))
    with pytest.raises(InputError) as error:
        read_fitsnap_json(path)
    assert str(error.value).startswith(f"{path}: configuration 'BCC_1': ")
    assert message in str(error.value)


def test_malformed_json_names_file_and_line(tmp_path, bcc_document):
    comment, document = bcc_document
    path = write(tmp_path, comment, document)
    path.write_text(path.read_text()[:-40])
    with pytest.raises(InputError, match=rf"{path}: malformed JSON at line 2"):
        read_fitsnap_json(path)


@pytest.mark.parametrize(
    ("key", "style"), [("ForcesStyle", "newtons"), ("StressStyle", "psi"), ("StressStyle", "atomic")]
)
def test_unknown_unit_is_refused_naming_file_configuration_and_key(tmp_path, bcc_document, key, style):
    """FitSNAP's pressure ``atomic`` is 1e-5 bar (a pascal), not the atomic unit Eh/bohr³: refused, not guessed."""
    comment, document = bcc_document
    document["Dataset"][key] = style
    path = write(tmp_path, comment, document)
    with pytest.raises(InputError) as error:
        read_fitsnap_json(path)
    assert str(error.value).startswith(f"{path}: configuration 'BCC_1': {key} '{style}' is not a unit snapcheck reads")
