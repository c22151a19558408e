"""Reader for FitSNAP's JSON training files.

A FitSNAP JSON file starts with one or more comment lines beginning with ``#``,
followed by one JSON object::

    {"Dataset": {"Data": [{...configuration...}, ...],
                 "PositionsStyle": "angstrom", "LatticeStyle": "angstrom",
                 "EnergyStyle": "electronvolt", "ForcesStyle": "electronvoltperangstrom",
                 "StressStyle": "bar", "AtomTypeStyle": "chemicalsymbol", "Label": ...}}

Each configuration holds ``Positions``, ``Lattice``, ``Energy``, ``Forces``,
``Stress``, ``AtomTypes`` and ``NumAtoms``.  The ``*Style`` keys give the units,
for the whole file or (as FitSNAP's scraper also reads them) in a configuration
of its own; they are converted to snapcheck's units (Å, eV, eV/Å, bar) and a
unit this reader does not know is refused, never guessed, naming the file, the
configuration and the key.

``Stress`` is the pressure tensor, compressive positive, whatever its unit:
``StressStyle`` ``bar`` (also FitSNAP's ``bars`` and ``metal``), ``kB`` (kilobar,
VASP's unit, FitSNAP's ``kbar``/``kb``/``kB``), ``GPa`` or ``eV/angstrom^3``
(:data:`snapcheck.data.units.STRESS_STYLES`; spellings are case-insensitive).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from ase import units

from snapcheck.base.errors import InputError, locate
from snapcheck.data.configuration import Configuration
from snapcheck.data.units import STRESS_STYLES

# Factors that convert each known unit into snapcheck's unit for that quantity.
UNIT_FACTORS: dict[str, dict[str, float]] = {
    "PositionsStyle": {"angstrom": 1.0, "bohr": units.Bohr},
    "LatticeStyle": {"angstrom": 1.0, "bohr": units.Bohr},
    "EnergyStyle": {"electronvolt": 1.0, "hartree": units.Hartree, "kcal/mol": units.kcal / units.mol},
    "ForcesStyle": {
        "electronvoltperangstrom": 1.0,
        "hartreeperbohr": units.Hartree / units.Bohr,
        "kcal/mol/angstrom": units.kcal / units.mol,
    },
    "StressStyle": STRESS_STYLES,
    "AtomTypeStyle": {"chemicalsymbol": 1.0},
}

# FitSNAP's own defaults when a file leaves a style out.
DEFAULT_STYLES = {
    "PositionsStyle": "angstrom",
    "LatticeStyle": "angstrom",
    "EnergyStyle": "electronvolt",
    "ForcesStyle": "electronvoltperangstrom",
    "StressStyle": "bar",
    "AtomTypeStyle": "chemicalsymbol",
}

REQUIRED_KEYS = ("Positions", "Lattice", "Energy", "Forces", "AtomTypes", "NumAtoms")


def _parse(path: Path) -> dict:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"{path}: cannot read the file ({exc.strerror})") from None
    except UnicodeDecodeError as exc:
        raise InputError(
            f"{path}: not a FitSNAP JSON file: byte {exc.start} is not UTF-8 text "
            "(a binary file, or text in another encoding)"
        ) from None
    lines = text.splitlines()
    n_comments = 0
    while n_comments < len(lines) and lines[n_comments].lstrip().startswith("#"):
        n_comments += 1
    body = "\n".join(lines[n_comments:])
    try:
        document = json.loads(body)
    except json.JSONDecodeError as exc:
        raise InputError(
            f"{path}: malformed JSON at line {exc.lineno + n_comments}, column {exc.colno}: {exc.msg}"
        ) from None
    if not isinstance(document, dict) or not isinstance(document.get("Dataset"), dict):
        raise InputError(f"{path}: no top-level 'Dataset' object; this is not a FitSNAP JSON file")
    dataset = document["Dataset"]
    if not isinstance(dataset.get("Data"), list) or not dataset["Data"]:
        raise InputError(f"{path}: 'Dataset.Data' must be a non-empty list of configurations")
    return dataset


def _unit_factors(dataset: dict, record: dict, where: str) -> dict[str, float]:
    """The factor into snapcheck's unit of each ``*Style``.

    The style is the configuration's own, else the file's, else FitSNAP's default.
    """
    factors = {}
    for key, known in UNIT_FACTORS.items():
        style = str(record.get(key, dataset.get(key, DEFAULT_STYLES[key])))
        if style.lower() not in known:
            raise InputError(
                f"{where}: {key} {style!r} is not a unit snapcheck reads; known, in any case: {', '.join(known)}"
            )
        factors[key] = known[style.lower()]
    return factors


def read_fitsnap_json(path: str | Path, group: str | None = None) -> list[Configuration]:
    """Read every configuration of one FitSNAP JSON file.

    The configuration name is the file stem (``BCC_1``), or ``stem:i`` when the
    file holds several; the group defaults to the name of the parent folder.
    """
    path = Path(path)
    group = group if group is not None else path.parent.name
    dataset = _parse(path)
    records = dataset["Data"]
    configurations = []
    for index, record in enumerate(records):
        name = path.stem if len(records) == 1 else f"{path.stem}:{index}"
        where = locate(str(path), name)
        if not isinstance(record, dict):
            raise InputError(f"{where}: is not a JSON object")
        factors = _unit_factors(dataset, record, where)
        missing = [key for key in REQUIRED_KEYS if key not in record]
        if missing:
            raise InputError(f"{where}: missing keys {missing}")
        n_atoms = record["NumAtoms"]
        if not isinstance(n_atoms, int) or isinstance(n_atoms, bool) or n_atoms < 1:
            raise InputError(f"{where}: NumAtoms is {n_atoms!r}, expected a positive whole number")
        stress = record.get("Stress")
        configurations.append(
            Configuration(
                name=name,
                group=group,
                positions=_field(record, "Positions", (n_atoms, 3), factors["PositionsStyle"], where),
                cell=_field(record, "Lattice", (3, 3), factors["LatticeStyle"], where),
                species=tuple(record["AtomTypes"]) if isinstance(record["AtomTypes"], list) else (),
                energy=float(_field(record, "Energy", (), factors["EnergyStyle"], where)),
                forces=_field(record, "Forces", (n_atoms, 3), factors["ForcesStyle"], where),
                stress=None if stress is None else _field(record, "Stress", (3, 3), factors["StressStyle"], where),
                source=str(path),
            )
        )
    return configurations


def _field(record: dict, key: str, shape: tuple[int, ...], factor: float, where: str) -> np.ndarray:
    """``record[key]`` as float64 in snapcheck's units; one line naming the key when its shape or a value is wrong."""
    expected = {(): "one number", (3, 3): "3 rows of 3 numbers"}.get(shape) or f"NumAtoms = {shape[0]} rows of x, y, z"
    try:
        array = np.asarray(record[key], dtype=np.float64)
    except (TypeError, ValueError):
        raise InputError(f"{where}: {key} is not {expected}") from None
    if array.shape != shape:
        found = "one number" if array.ndim == 0 else " × ".join(str(n) for n in array.shape)
        raise InputError(f"{where}: {key} has shape {found}, expected {expected}")
    if not np.all(np.isfinite(array)):
        index = tuple(int(i) for i in np.argwhere(~np.isfinite(array))[0])
        value = array[index]
        raise InputError(f"{where}: {key}{''.join(f'[{i}]' for i in index)} is {value}; every value must be finite")
    return array * factor
