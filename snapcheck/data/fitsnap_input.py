"""FitSNAP input files (``.in``): what a linear SNAP fit of a dataset is asked to do.

A FitSNAP input is an INI file.  snapcheck reads the sections that define a
linear fit by least squares and refuses, by name, every setting it does not
reproduce (rather than fit something else silently):

``[BISPECTRUM]``
    The descriptor hyperparameters (``twojmax``, ``rcutfac``, ``rfac0``,
    ``rmin0``, ``wj``, ``radelem``, ``type``, ``bzeroflag``, ``chemflag``,
    ``bnormflag``, ``wselfallflag``, ``quadraticflag``), the same as a
    ``.snapparam`` plus the per-element radius and weight of a ``.snapcoeff``.
    ``twojmax`` may be given once per element (``6 6``); LAMMPS takes one.
``[CALCULATOR]``
    ``calculator = LAMMPSSNAP`` and which row types enter the fit: ``energy``,
    ``force``, ``stress`` (1 or 0).
``[ESHIFT]``
    An energy per atom of each element, in eV, added to every DFT energy.
``[REFERENCE]``
    The reference potential (``pair_style``, ``pair_coeff1`` …), subtracted from
    the DFT labels before fitting.
``[GROUPS]``
    Per group of configurations (the dataset's ``JSON/<group>`` folders): the
    training and testing fractions and the weights of the energy, force and
    virial (stress) rows.  ``group_sections`` names the columns.
``[SOLVER]``
    ``solver = SVD``: weighted least squares by singular value decomposition.
``[SCRAPER]``, ``[PATH]``
    ``scraper = JSON`` or ``XYZ`` and ``dataPath``: where the configurations
    are, relative to the input's folder (:mod:`snapcheck.data.locations`).

Units follow the dataset (see :mod:`snapcheck.data.fitsnap_json`): the weights
multiply residuals in eV/atom (energy rows), eV/Å (force rows) and bar (stress
rows), so each weight carries the inverse of its row's unit.
"""

from __future__ import annotations

import configparser
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from snapcheck.base.errors import InputError
from snapcheck.data.snap_files import OPTIONAL_KEYWORDS, ReferencePotential, SnapParameters

#: The terms of a training loss, as ``--loss`` names them: the energy, force and stress rows of a FitSNAP fit.
LOSS_TERMS = ("energy", "forces", "stress")


@dataclass(frozen=True)
class GroupWeights:
    """The weights of one group's rows: energy (1/(eV/atom)), force (Å/eV), virial (1/bar)."""

    energy: float
    force: float
    virial: float


@dataclass(frozen=True)
class FitInput:
    """A FitSNAP input, reduced to what a linear SVD fit needs.

    Attributes:
        path: the file it was read from.
        parameters: the bispectrum hyperparameters and elements.
        reference: the reference potential subtracted from the labels.
        weights: group name → :class:`GroupWeights`.
        energy_shift: element → eV per atom added to the DFT energies.
        row_types: which of ``energy``, ``force``, ``stress`` enter the fit.
        sections: the whole file, section → key → text (to hand to FitSNAP itself).
        scraper: ``json`` or ``xyz`` ([SCRAPER] scraper).
        data_path: [PATH] dataPath (or jsonPath), relative to the input's folder; "" if absent.
    """

    path: Path
    parameters: SnapParameters
    reference: ReferencePotential
    weights: dict[str, GroupWeights]
    energy_shift: dict[str, float]
    row_types: tuple[str, ...]
    sections: dict[str, dict[str, str]]
    scraper: str = "json"
    data_path: str = ""

    def group_weights(self, group: str, source: str = "") -> GroupWeights:
        """The weights of ``group``; a InputError naming the file if the input lacks it."""
        if group not in self.weights:
            where = f"{source}: " if source else ""
            raise InputError(
                f"{where}group {group!r} has no row in [GROUPS] of {self.path}; "
                f"the input weights {sorted(self.weights)}"
            )
        return self.weights[group]

    def shift_of(self, species: Sequence[str]) -> float:
        """Σᵢ ESHIFT of each atom's element (eV): what FitSNAP adds to a configuration's DFT energy."""
        return sum(self.energy_shift.get(element, 0.0) for element in species)


class _CaseSensitiveParser(configparser.ConfigParser):
    """configparser keeping the case of keys: group names are case-sensitive folder names."""

    def optionxform(self, optionstr: str) -> str:
        return optionstr


def read_fitsnap_input(path: str | Path) -> FitInput:
    """Read and validate a FitSNAP input file."""
    path = Path(path)
    parser = _CaseSensitiveParser(inline_comment_prefixes=("#",))
    try:
        with open(path, encoding="utf-8") as handle:
            parser.read_file(handle)
    except OSError as exc:
        raise InputError(f"{path}: cannot read the FitSNAP input ({exc.strerror})") from None
    except UnicodeDecodeError as exc:
        raise InputError(
            f"{path}: not a FitSNAP input: byte {exc.start} is not UTF-8 text "
            "(a binary file, or text in another encoding)"
        ) from None
    except configparser.Error as exc:
        raise InputError(f"{path}: not a valid FitSNAP input ({exc.message.splitlines()[0]})") from None
    sections = {name: dict(parser[name]) for name in parser.sections()}
    for required in ("BISPECTRUM", "CALCULATOR", "GROUPS", "REFERENCE"):
        if required not in sections:
            raise InputError(f"{path}: the section [{required}] is missing")
    _refuse_what_is_not_reproduced(path, sections)
    return FitInput(
        path=path,
        parameters=_bispectrum(path, sections["BISPECTRUM"]),
        reference=_reference(path, sections["REFERENCE"]),
        weights=_weights(path, sections["GROUPS"]),
        energy_shift={
            element: _number(path, "ESHIFT", element, text) for element, text in sections.get("ESHIFT", {}).items()
        },
        row_types=tuple(
            kind
            for kind in ("energy", "force", "stress")
            if _number(path, "CALCULATOR", kind, sections["CALCULATOR"].get(kind, "0"))
        ),
        sections=sections,
        scraper=_scraper(path, sections.get("SCRAPER", {})),
        data_path=sections.get("PATH", {}).get("dataPath", sections.get("PATH", {}).get("jsonPath", "")),
    )


def _scraper(path: Path, section: dict[str, str]) -> str:
    scraper = section.get("scraper", "JSON").strip().lower()
    if scraper not in ("json", "xyz"):
        raise InputError(
            f"{path}: [SCRAPER] scraper = {section['scraper']}; snapcheck reads JSON and XYZ (extxyz) data"
        )
    return scraper


def _number(path: Path, section: str, key: str, text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise InputError(f"{path}: [{section}] {key} = {text!r} is not a number") from None


def _refuse_what_is_not_reproduced(path: Path, sections: dict[str, dict[str, str]]) -> None:
    calculator = sections["CALCULATOR"].get("calculator", "LAMMPSSNAP")
    if calculator != "LAMMPSSNAP":
        raise InputError(
            f"{path}: [CALCULATOR] calculator = {calculator}; snapcheck fits the linear LAMMPSSNAP model only"
        )
    solver = sections.get("SOLVER", {}).get("solver", "SVD")
    if solver != "SVD":
        raise InputError(f"{path}: [SOLVER] solver = {solver}; snapcheck reproduces the SVD solver only")
    groups = sections["GROUPS"]
    for flag in ("smartweights", "random_sampling", "BOLTZT"):
        if float(groups.get(flag, "0")):
            raise InputError(
                f"{path}: [GROUPS] {flag} = {groups[flag]}; snapcheck's fit uses the weights as given (set it to 0)"
            )
    for flag in ("bikflag", "switchinnerflag"):
        if float(sections["BISPECTRUM"].get(flag, "0")):
            raise InputError(
                f"{path}: [BISPECTRUM] {flag} = 1; snapcheck's linear model uses the per-configuration bispectrum "
                "without inner switching"
            )


def _bispectrum(path: Path, section: dict[str, str]) -> SnapParameters:
    elements = tuple(section.get("type", "").split())
    if not elements:
        raise InputError(f"{path}: [BISPECTRUM] type (the element symbols) is missing")
    per_element = {}
    for key in ("radelem", "wj"):
        values = tuple(_number(path, "BISPECTRUM", key, v) for v in section.get(key, "").split())
        if len(values) != len(elements):
            raise InputError(
                f"{path}: [BISPECTRUM] {key} has {len(values)} values for {len(elements)} elements {list(elements)}"
            )
        per_element[key] = values
    try:
        twojmaxes = {int(value) for value in section["twojmax"].split()}
        rcutfac = float(section["rcutfac"])
    except KeyError as missing:
        raise InputError(f"{path}: [BISPECTRUM] {missing.args[0]} is missing") from None
    except ValueError:
        raise InputError(f"{path}: [BISPECTRUM] twojmax and rcutfac must be numbers") from None
    if len(twojmaxes) != 1:
        raise InputError(
            f"{path}: [BISPECTRUM] twojmax = {section['twojmax']!r}; LAMMPS takes one twojmax for all elements"
        )
    (twojmax,) = twojmaxes
    # FitSNAP's own defaults differ from LAMMPS's for bzeroflag (0 against 1): an
    # input that leaves a keyword out means FitSNAP's value.
    fitsnap_defaults = {**OPTIONAL_KEYWORDS, "bzeroflag": 0}
    # each value takes its default's type, int or float: a per-key type that mypy cannot follow through a dict
    optional: dict[str, Any] = {
        key: type(default)(_number(path, "BISPECTRUM", key, section.get(key, str(default))))
        for key, default in fitsnap_defaults.items()
    }
    return SnapParameters(
        rcutfac=rcutfac,
        twojmax=twojmax,
        elements=elements,
        radii=per_element["radelem"],
        weights=per_element["wj"],
        **optional,
    )


def _reference(path: Path, section: dict[str, str]) -> ReferencePotential:
    if "pair_style" not in section:
        raise InputError(f"{path}: [REFERENCE] pair_style is missing")
    coeffs = tuple(
        section[key]
        for key in sorted(
            (k for k in section if k.startswith("pair_coeff")), key=lambda k: int(k[len("pair_coeff") :] or 0)
        )
    )
    if not coeffs:
        raise InputError(f"{path}: [REFERENCE] has a pair_style but no pair_coeff1, pair_coeff2 …")
    return ReferencePotential(section["pair_style"], coeffs)


def _weights(path: Path, section: dict[str, str]) -> dict[str, GroupWeights]:
    columns = section.get("group_sections", "name size eweight fweight vweight").split()
    if columns[0] != "name" or not {"eweight", "fweight", "vweight"} <= set(columns):
        raise InputError(
            f"{path}: [GROUPS] group_sections = {' '.join(columns)!r} "
            "must start with name and hold eweight, fweight and vweight"
        )
    settings = {"group_sections", "group_types", "smartweights", "random_sampling", "BOLTZT"}
    weights = {}
    for group, text in section.items():
        if group in settings:
            continue
        values = text.split()
        if len(values) != len(columns) - 1:
            raise InputError(
                f"{path}: [GROUPS] {group} has {len(values)} values; group_sections names {len(columns) - 1}"
            )
        row = {column: _number(path, "GROUPS", group, value) for column, value in zip(columns[1:], values)}
        if row.get("testing_size", 0.0) or row.get("training_size", 1.0) != 1.0:
            raise InputError(
                f"{path}: [GROUPS] {group}: snapcheck fits every configuration "
                "(set training_size 1.0 and testing_size 0.0)"
            )
        weights[group] = GroupWeights(energy=row["eweight"], force=row["fweight"], virial=row["vweight"])
    if not weights:
        raise InputError(f"{path}: [GROUPS] lists no groups")
    return weights
