"""Shared fixtures: the real Ta dataset, the real Ta06A model and real LAMMPS engines.

The dataset is found the way every snapcheck command finds it (``$SNAPCHECK_DATA``,
then the cache, then a download); ``.ci/run`` sets ``SNAPCHECK_DATA`` to the copy in
``../shared``.  Nothing is skipped when the data is missing: the fixture fails.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from snapcheck.data import load_configurations, resolve_dataset_root
from snapcheck.descriptors import SnapEngine
from snapcheck.models import LinearSnap


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
