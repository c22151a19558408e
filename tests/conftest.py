"""Shared fixtures: the real Ta dataset, the real Ta06A model and real LAMMPS engines.

The dataset is found the way every snapcheck command finds it (``$SNAPCHECK_DATA``,
then the cache, then a download); ``.ci/run`` sets ``SNAPCHECK_DATA`` to the copy in
``../shared``.  Nothing is skipped when the data is missing: the fixture fails.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from snapcheck.data import Configuration, load_configurations, resolve_dataset_root
from snapcheck.descriptors import SnapEngine
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
