"""The executors: a real Dask scheduler and two real workers on 127.0.0.1, against the serial run.

The scheduler and the workers are separate ``python -m dask`` processes (one
thread each, ports chosen by the OS), started by a fixture that ends them even
when a test fails.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import Future
from pathlib import Path

import numpy as np
import pytest
from distributed import Client

from snapcheck import check, fig1, oracle
from snapcheck.base.errors import InputError
from snapcheck.data.configuration import Configuration
from snapcheck.data.selection import stratified_subset
from snapcheck.models import LinearSnap
from snapcheck.models.linear_snap import LAMMPS_POTENTIALS
from snapcheck.runtime import executors
from snapcheck.runtime.cli import run
from snapcheck.runtime.executors import MAX_CHUNK, SerialExecutor, chunk_indices, run_chunks
from snapcheck.runtime.flag_types import DATASET_LOSS
from snapcheck.studies.ensemble import EnsembleData, MemberTask, train_ensemble
from snapcheck.studies.golden import build_reference
from snapcheck.studies.loss_choice import choose_loss
from snapcheck.studies.split import split_by_group
from snapcheck.studies.sweep import SweepSpec, run_sweep
from snapcheck.studies.training import TrainingSpec


class DaskProcesses:
    """``dask scheduler`` and ``dask worker`` processes on 127.0.0.1, logs under ``folder``."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.workers: dict[str, subprocess.Popen] = {}
        scheduler_file = folder / "scheduler.json"
        self.scheduler = self._start(
            "scheduler",
            [
                "scheduler",
                "--host",
                "127.0.0.1",
                "--port",
                "0",
                "--no-dashboard",
                "--scheduler-file",
                str(scheduler_file),
            ],
        )
        deadline = time.monotonic() + 60
        while not scheduler_file.is_file():
            if self.scheduler.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the Dask scheduler did not start: {(folder / 'scheduler.log').read_text()}")
            time.sleep(0.1)
        time.sleep(0.2)  # the file is written in one go, but give the writer a moment to close it
        self.address = json.loads(scheduler_file.read_text())["address"]

    def _start(self, name: str, arguments: list[str]) -> subprocess.Popen:
        log = open(self.folder / f"{name}.log", "w")
        environment = {**os.environ, "OMP_NUM_THREADS": "1"}
        return subprocess.Popen(
            [sys.executable, "-m", "dask", *arguments], stdout=log, stderr=subprocess.STDOUT, env=environment
        )

    def start_worker(self, name: str) -> None:
        arguments = [
            "worker",
            self.address,
            "--name",
            name,
            "--nthreads",
            "1",
            "--no-nanny",
            "--no-dashboard",
            "--host",
            "127.0.0.1",
            "--memory-limit",
            "0",
        ]
        self.workers[name] = self._start(name, [*arguments, "--local-directory", str(self.folder / name)])

    def ensure_workers(self, names: tuple[str, ...] = ("w0", "w1")) -> None:
        """Start the named workers that are not running, and wait until the scheduler has them all."""
        for name in names:
            if name not in self.workers or self.workers[name].poll() is not None:
                self.start_worker(name)
        with Client(self.address, timeout="30s", set_as_default=False) as client:
            client.wait_for_workers(len(names), timeout=90)

    def close(self) -> None:
        for process in [*self.workers.values(), self.scheduler]:
            if process.poll() is None:
                process.terminate()
        for process in [*self.workers.values(), self.scheduler]:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    processes = DaskProcesses(tmp_path_factory.mktemp("dask"))
    try:
        processes.ensure_workers()
        yield processes
    finally:
        processes.close()


@pytest.fixture
def scheduler(cluster):
    """The address of the cluster, with its two workers running."""
    cluster.ensure_workers()
    return cluster.address


@pytest.fixture(scope="module")
def sweep_spec(ta06a):
    return SweepSpec(
        models=(ta06a, LinearSnap.kaiming(ta06a.parameters, seed=5)), epsilons=(1e-6, 1e-3), g0_rules=("max", 1.0)
    )


@pytest.fixture(scope="module")
def serial_sweep(one_per_group, sweep_spec):
    return run_sweep(one_per_group, sweep_spec, progress=False)


def assert_same_sweeps(expected, actual):
    assert len(expected) == len(actual)
    for a, b in zip(expected, actual):
        for name in ("exact_loss", "exact_gradient", "loss_estimates", "gradient_estimates", "zero_errors"):
            np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)


def test_a_sweep_on_two_dask_workers_equals_the_serial_sweep_bit_for_bit(
    scheduler, cluster, one_per_group, sweep_spec, serial_sweep, tmp_path
):
    results = run_sweep(one_per_group, sweep_spec, scheduler=scheduler, run_log=tmp_path / "run.json", progress=False)
    assert_same_sweeps(serial_sweep, results)
    log = json.loads((tmp_path / "run.json").read_text())
    assert log["executor"]["kind"] == "dask" and log["executor"]["scheduler"] == scheduler
    assert len(log["executor"]["worker_threads_at_start"]) == 2
    worker_pids = {cluster.workers[name].pid for name in ("w0", "w1")}
    assert {task["pid"] for task in log["tasks"]} == worker_pids  # both workers took chunks
    assert sorted(task["chunk"] for task in log["tasks"]) == list(range(len(one_per_group)))


def test_a_worker_killed_mid_run_loses_no_result(scheduler, cluster, one_per_group, ta06a, tmp_path):
    """Kill one worker while it holds a chunk: the scheduler gives its chunks to the other one."""
    spec = SweepSpec(
        models=(ta06a, LinearSnap.kaiming(ta06a.parameters, seed=5))
    )  # the 23 ε of the paper: a run of a few seconds
    victim = cluster.workers["w1"]
    killed = {}

    def kill_when_busy():
        with Client(scheduler, set_as_default=False) as client:
            address = next(address for address, pid in client.run(os.getpid).items() if pid == victim.pid)
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                holding = client.processing(workers=[address]).get(address, [])
                if holding:
                    victim.kill()
                    killed["holding"] = list(holding)
                    return
                time.sleep(0.02)

    killer = threading.Thread(target=kill_when_busy)
    killer.start()
    try:
        results = run_sweep(one_per_group, spec, scheduler=scheduler, run_log=tmp_path / "run.json", progress=False)
    finally:
        killer.join()
    assert killed["holding"], "the worker was not killed while it held a chunk"
    assert victim.wait(timeout=10) == -9
    assert_same_sweeps(run_sweep(one_per_group, spec, progress=False), results)
    log = json.loads((tmp_path / "run.json").read_text())
    assert log["chunks_computed"] == len(one_per_group)
    assert cluster.workers["w0"].pid in {task["pid"] for task in log["tasks"]}


def test_the_commands_run_on_the_cluster_and_write_the_same_bytes(
    scheduler, tmp_path, monkeypatch, ta_configurations, ta06a
):
    figure_args = ["--configs", "12", "--epsilons", "1e-6,1e-3"]
    assert fig1.main([*figure_args, "--scheduler", scheduler, "--out-dir", str(tmp_path / "dask")]) == 0
    assert fig1.main([*figure_args, "--jobs", "1", "--out-dir", str(tmp_path / "serial")]) == 0
    for name in ("fig1.csv", "fig1_groups.csv"):
        assert (tmp_path / "dask" / "reports" / name).read_bytes() == (
            tmp_path / "serial" / "reports" / name
        ).read_bytes()
    assert json.loads((tmp_path / "dask" / "reports" / "fig1_run.json").read_text())["executor"]["kind"] == "dask"

    monkeypatch.setenv("SNAPCHECK_SCHEDULER", scheduler)  # the default of --scheduler
    check_args = ["--configs", "12", "--epsilon", "1e-5"]
    with pytest.raises(SystemExit) as exit_:
        run(check.main, [*check_args, "--out-dir", str(tmp_path / "dask")])
    assert exit_.value.code == 0
    assert (
        json.loads((tmp_path / "dask" / "reports" / "check_run.json").read_text())["executor"]["scheduler"] == scheduler
    )
    monkeypatch.delenv("SNAPCHECK_SCHEDULER")
    assert check.main([*check_args, "--jobs", "1", "--out-dir", str(tmp_path / "serial")]) == 0
    assert (tmp_path / "dask" / "reports" / "check.csv").read_bytes() == (
        tmp_path / "serial" / "reports" / "check.csv"
    ).read_bytes()

    exported = tmp_path / "dask" / "ta06a.npz"
    assert (
        oracle.main(
            [
                "export",
                "--configs",
                "12",
                "--scheduler",
                scheduler,
                "--out",
                str(exported),
                "--out-dir",
                str(tmp_path / "dask"),
            ]
        )
        == 0
    )
    model_files = [LAMMPS_POTENTIALS / "Ta06A.snapcoeff", LAMMPS_POTENTIALS / "Ta06A.snapparam"]
    subset = stratified_subset(ta_configurations, 12)
    loss = choose_loss(DATASET_LOSS, data=None, fit_input=None, configurations=subset)  # the export's training loss
    serial = build_reference(ta06a, subset, model_files, loss=loss, progress=False)
    with np.load(exported, allow_pickle=False) as archive:
        for key, value in serial.items():
            np.testing.assert_array_equal(archive[key], value, err_msg=key)


def test_table1_training_on_dask_equals_the_serial_run_bit_for_bit(scheduler, ta_configurations, ta06a):
    """Training (Table I) goes through the same executors as the sweeps: one network per task."""
    subset = stratified_subset(ta_configurations, 24)
    data = EnsembleData(tuple(subset), split_by_group(subset, 0.25, seed=3), ta06a.parameters)
    spec = TrainingSpec(widths=(6,), activation="silu", epochs=2, batch_size=4, force_weight=0.5)
    tasks = [MemberTask("energy+force", member, spec, 5, data) for member in range(2)]
    serial = train_ensemble(tasks, jobs=1, progress=False)
    on_dask = train_ensemble(tasks, scheduler=scheduler, progress=False)
    for one, other in zip(serial, on_dask, strict=True):
        np.testing.assert_array_equal(one.theta, other.theta)
        np.testing.assert_array_equal(one.predictions.forces, other.predictions.forces)
    assert not np.array_equal(serial[0].theta, serial[1].theta)


def test_bad_data_on_a_worker_arrives_as_bad_input(scheduler, one_per_group, ta06a):
    first = one_per_group[0]
    niobium = Configuration(
        "nb",
        "Alien",
        first.positions,
        first.cell,
        ("Nb",) * first.n_atoms,
        first.energy,
        first.forces,
        source="alien.json",
    )
    with pytest.raises(
        InputError,
        match=r"alien.json: configuration 'nb': species \['Nb'\] are not among the model's elements \['Ta'\]",
    ):
        run_sweep([first, niobium], SweepSpec(models=(ta06a,), epsilons=(1e-5,)), scheduler=scheduler, progress=False)


def test_an_unreachable_scheduler_is_bad_input(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(executors, "CONNECT_TIMEOUT", "1s")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        address = f"tcp://127.0.0.1:{probe.getsockname()[1]}"  # a free port that nothing listens on
    with pytest.raises(SystemExit) as exit_:
        run(check.main, ["--configs", "2", "--scheduler", address, "--out-dir", str(tmp_path)])
    assert exit_.value.code == 2
    assert f"error: --scheduler {address}: cannot reach the Dask scheduler" in capsys.readouterr().err


def test_without_distributed_the_scheduler_flag_says_which_extra_to_install(tmp_path):
    """In a fresh interpreter where ``import distributed`` fails, by the flag and by the environment variable."""
    program = (
        "import sys; sys.modules['distributed'] = None; from snapcheck import fig1; "
        "from snapcheck.runtime.cli import run; run(fig1.main, sys.argv[1:])"
    )
    environment = {**os.environ, "SNAPCHECK_SCHEDULER": "tcp://127.0.0.1:8786"}
    for flag in (["--scheduler", "tcp://127.0.0.1:8786"], []):
        finished = subprocess.run(
            [sys.executable, "-c", program, *flag, "--out-dir", str(tmp_path)],
            capture_output=True,
            text=True,
            env=environment,
            timeout=120,
        )
        assert finished.returncode == 2, finished.stderr
        assert (
            "argument --scheduler: --scheduler tcp://127.0.0.1:8786 needs Dask's `distributed` package, "
            "which is not installed; install the Dask extra: pip install 'snapcheck[dask]'" in finished.stderr
        )
    assert not (tmp_path / "reports").exists()


def test_chunks_cover_every_item_once_largest_first_and_do_not_depend_on_workers():
    weights = [3, 100, 2, 54, 54, 8] * 100
    chunks = chunk_indices(weights)
    assert sorted(i for chunk in chunks for i in chunk) == list(range(600))
    assert {len(chunk) for chunk in chunks[:-1]} == {5} and len(chunks) == 120  # ⌈600/128⌉ = 5 per chunk
    flat = [weights[i] for chunk in chunks for i in chunk]
    assert flat == sorted(flat, reverse=True)
    assert max(len(chunk) for chunk in chunk_indices([1] * 10**6)) == MAX_CHUNK
    assert chunk_indices([5, 1]) == [[0], [1]]


def test_the_serial_executor_runs_at_submission_and_keeps_exceptions():
    done = SerialExecutor().submit(divmod, 7, 2)
    assert isinstance(done, Future) and done.done() and done.result() == (3, 1)
    failed = SerialExecutor().submit(divmod, 1, 0)
    assert isinstance(failed.exception(), ZeroDivisionError)
    with pytest.raises(ZeroDivisionError):
        run_chunks(divmod_task, [(4, 2), (1, 0)], sizes=[1, 1], description="test", progress=False)


def divmod_task(pair: tuple[int, int]) -> tuple[int, int]:
    return divmod(*pair)
