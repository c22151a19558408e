"""snapcheck.torch's tests: skipped, with the reason, when torch is not installed (CI installs the torch extra).

The ``force_training_check`` fixture comes from the pytest plugin ``snapcheck.torch.plugin``; it is
imported here because ``pytest_plugins`` is allowed only in the top-level conftest (the plugin's
loading as a plugin is tested in ``test_torch_plugin.py``).
"""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("OMP_NUM_THREADS", "1")

torch = pytest.importorskip("torch", reason="the torch extra is not installed: pip install 'snapcheck[torch]'")
torch.set_num_threads(1)  # small models: one intra-op thread is fastest, and deterministic

from snapcheck.torch.plugin import force_training_check  # noqa: E402, F401 - the plugin's fixture
from snapcheck.torch.potential import ta_atoms  # noqa: E402


@pytest.fixture(scope="session")
def ta_three():
    """4 + 24 + 48 Ta atoms: a sheared FCC cell (triclinic), a stacking fault, a displaced FCC supercell."""
    return ta_atoms((("Elastic_FCC", 1), ("GSF_110", 1), ("Displaced_FCC", 1)))


@pytest.fixture(scope="session")
def ta_mixed():
    """One batch of mixed sizes, N = 2, 4, 24, 54: strained BCC and FCC cells (forces zero by symmetry),
    a stacking fault, a displaced BCC supercell."""
    return ta_atoms((("Elastic_BCC", 1), ("Elastic_FCC", 1), ("GSF_110", 1), ("Displaced_BCC", 1)))
