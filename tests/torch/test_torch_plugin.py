"""The pytest plugin as a trainer's suite gets it: through the ``pytest11`` entry point of an installed snapcheck."""

from __future__ import annotations

import importlib.metadata
import os
import re
import subprocess
import sys
import textwrap

TRAINER_SUITE = """
    import torch
    from snapcheck.torch.potential import RadialPotential, energy_fn, forces_fn, ta_atoms

    def sign_flipped(model, atoms, positions):
        return -forces_fn(model, atoms, positions)

    # the three lines of a trainer's own test
    def test_force_training(force_training_check):
        configurations = ta_atoms((("Elastic_FCC", 1),))
        force_training_check(RadialPotential(), energy_fn, configurations, forces_fn={forces})
"""


def run_suite(tmp_path, forces: str) -> subprocess.CompletedProcess:
    (tmp_path / "test_trainer.py").write_text(textwrap.dedent(TRAINER_SUITE.format(forces=forces)))
    environment = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=environment,
        timeout=120,
    )


def test_the_entry_point_is_installed():
    entry_points = importlib.metadata.entry_points(group="pytest11")
    assert [e.value for e in entry_points if e.name == "snapcheck_torch"] == ["snapcheck.torch.plugin"]


def test_plugin_passes_a_correct_trainer_and_names_a_sign_flip(tmp_path):
    good = run_suite(tmp_path, "forces_fn")
    assert good.returncode == 0 and "1 passed" in good.stdout, good.stdout + good.stderr
    bad = run_suite(tmp_path, "sign_flipped")
    assert bad.returncode == 1 and "forces_fn has a sign error (factor −1)" in bad.stdout, bad.stdout + bad.stderr
    # the message, not snapcheck's own source: its frames are hidden, and the summary line names the bug
    assert re.search(r"^E\s+snapcheck\.CheckFailure: forces_fn has a sign error", bad.stdout, re.M), bad.stdout
    assert "site-packages/snapcheck" not in bad.stdout and "/snapcheck/" not in bad.stdout, bad.stdout
    assert len(bad.stdout.splitlines()) < 30, bad.stdout
