"""Resumable partial results: a killed run resumes from its finished chunks and writes the same bytes."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from dataclasses import replace

import numpy as np
import pytest

from snapcheck import fig1
from snapcheck.models import LinearSnap
from snapcheck.runtime.partials import PartialResults, fingerprint
from snapcheck.studies.sweep import SweepSpec, SweepTask, sweep_chunk


def test_an_interrupted_run_resumes_from_its_partial_results(tmp_path):
    """Kill ``fig1`` once some chunks are on disk; the rerun loads them, computes the rest, and writes the same CSVs."""
    arguments = ["--configs", "12", "--epsilons", "1e-12:1e-1:23"]
    interrupted, partials = tmp_path / "interrupted", tmp_path / "interrupted" / "partials"
    process = subprocess.Popen(
        [sys.executable, "-m", "snapcheck.fig1", *arguments, "--jobs", "1", "--out-dir", str(interrupted)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 120
        while len(finished_chunks(partials)) < 3:
            assert process.poll() is None, (
                f"fig1 ended before it could be interrupted: {process.stderr.read().decode()}"
            )
            assert time.monotonic() < deadline, "no partial results appeared"
            time.sleep(0.01)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
        process.stderr.close()
    finished = len(finished_chunks(partials))
    assert 3 <= finished < 12 and not (interrupted / "reports" / "fig1.csv").exists()

    assert fig1.main([*arguments, "--jobs", "1", "--out-dir", str(interrupted)]) == 0
    log = json.loads((interrupted / "reports" / "fig1_run.json").read_text())
    assert (
        log["chunks"] == 12
        and log["chunks_loaded_from_partials"] == finished
        and log["chunks_computed"] == 12 - finished
    )
    assert not partials.exists()  # deleted once the run completed

    fresh = tmp_path / "fresh"
    assert fig1.main([*arguments, "--jobs", "2", "--out-dir", str(fresh)]) == 0  # from scratch, on two processes
    assert json.loads((fresh / "reports" / "fig1_run.json").read_text())["chunks_loaded_from_partials"] == 0
    for name in ("fig1.csv", "fig1_groups.csv"):
        assert (interrupted / "reports" / name).read_bytes() == (fresh / "reports" / name).read_bytes()


def finished_chunks(partials):
    """The complete partial files (not a temporary ``.<key>.*.pkl`` being written)."""
    return list(partials.glob("[!.]*.pkl")) if partials.is_dir() else []


def test_keys_follow_content_not_object_identity(one_per_group, ta06a):
    store = PartialResults(None)
    spec = SweepSpec(models=(ta06a,), epsilons=(1e-5,))
    task = SweepTask(tuple(one_per_group[:2]), spec)
    copied = SweepTask(
        tuple(replace(c, positions=c.positions.copy()) for c in one_per_group[:2]),
        SweepSpec(models=(LinearSnap.ta06a(),), epsilons=(1e-5,)),
    )
    assert store.key(sweep_chunk, task) == store.key(sweep_chunk, copied)
    moved = one_per_group[0].positions.copy()
    moved[0, 0] = np.nextafter(moved[0, 0], np.inf)  # one atom, one ulp
    changed = [
        SweepTask((replace(one_per_group[0], positions=moved), one_per_group[1]), spec),
        SweepTask(task.configurations, replace(spec, epsilons=(1e-6,))),
        SweepTask(task.configurations, replace(spec, precisions=("float32",))),
        SweepTask(task.configurations, replace(spec, models=(LinearSnap.kaiming(ta06a.parameters, seed=0),))),
    ]
    keys = {store.key(sweep_chunk, other) for other in changed} | {store.key(sweep_chunk, task)}
    assert len(keys) == 5


def test_fingerprints_refuse_what_they_cannot_read():
    assert fingerprint((1, 1.0, "1", None)) != fingerprint((1.0, 1, "1", None))
    with pytest.raises(TypeError, match="cannot fingerprint a object"):
        fingerprint(object())


def test_saved_chunks_load_back_bit_for_bit_and_are_discarded(tmp_path, one_per_group, ta06a):
    store = PartialResults(tmp_path / "partials")
    task = SweepTask(tuple(one_per_group[:1]), SweepSpec(models=(ta06a,), epsilons=(1e-5,)))
    key = store.key(sweep_chunk, task)
    assert store.load(key) == (False, None)
    result = sweep_chunk(task)
    store.save(key, result)
    found, loaded = store.load(key)
    assert found and np.array_equal(loaded[0].gradient_estimates, result[0].gradient_estimates)
    store.discard([key])
    assert not (tmp_path / "partials").exists()
