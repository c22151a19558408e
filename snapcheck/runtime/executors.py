"""Where the work runs: this process, a local process pool, or a Dask cluster, through one interface.

Every piece of snapcheck's work is independent per configuration: the ε sweep
of Figs. 1 and 2 (:mod:`snapcheck.studies.sweep`), ``check``, and the exact
answers of an oracle export (:mod:`snapcheck.studies.golden`).  Each is a list of
*tasks*, ``function(task)`` for a chunk of configurations, that
:func:`map_configurations` hands to :func:`run_chunks`, which runs them on one
of three executors, all :class:`concurrent.futures.Executor`, so local and
cluster runs share one code path:

* ``--jobs 1``: :class:`SerialExecutor`, each task in this process;
* ``--jobs N``: this process and a :class:`~concurrent.futures.ProcessPoolExecutor`
  of N − 1 more (spawn context, so nothing leaks from the parent; each worker's
  BLAS on one thread, :func:`one_blas_thread`); this process
  runs a task whenever it has no finished result to collect, so N jobs cost
  N processes, not N + 1, and one fewer interpreter starts;
* ``--scheduler tcp://HOST:PORT`` (or ``$SNAPCHECK_SCHEDULER``): an existing Dask
  cluster, through ``distributed.Client(address).get_executor()``.  ``--jobs``
  is then ignored: the cluster's workers are the jobs.  ``distributed`` is the
  optional extra ``snapcheck[dask]``.

**Chunks.**  :func:`chunk_indices` orders the configurations largest first (so
the longest tasks start first and the last ones to finish are short) and cuts
them into chunks of ⌈M/128⌉ configurations, at most 256: about 128 tasks for
any dataset up to 32 768 configurations, then 256 per task.  The chunking does
not depend on the number of workers, so a run resumed on another machine or
cluster finds the same chunks.  Only a few tasks per worker are in flight at
a time (2 per pool process; 4 per Dask worker thread, at least 8), and
:func:`run_chunks` submits more as each finishes, counting the cluster's
workers again, so the client never serialises a whole dataset of millions of
configurations at once and workers that join a running cluster get work.

**Identical results.**  A chunk's result depends on its configurations and the
task's parameters alone, never on the worker that ran it or on what that
worker ran before (a LAMMPS instance reused across evaluations returns the same
bits; ``tests/studies/test_sweep.py`` checks it).  Results are placed by chunk
index and every reduction runs afterwards, in configuration order, in the
client.  So the numbers, and the CSVs written from them, are the same bit for
bit for any executor, worker count, scheduling order or resumption.

**Workers stay alive.**  A pool process or a Dask worker lives for the whole
run (a Dask worker for as long as its cluster) and runs task after task: the
Python imports, the LAMMPS library and its MPI start-up, about 0.6 s, are paid
once per worker, not per task.  Within a task each configuration gets one
:class:`~snapcheck.descriptors.engine.SnapEngine` for all its evaluations.  We
measured (2 cores, 100-atom configuration) what keeping engines alive *across*
tasks would save: creating and closing an engine takes 2–3.5 ms; a Fig. 1 + 2
sweep of one configuration (2 models × 2 g₀ × 23 ε × 2 evaluations) takes
about 400 ms, so less than 1 %; an export's single full evaluation with a new
engine takes 7–9 ms, and reusing one instance through LAMMPS ``clear`` brought
it to 5.5 ms, which would need a re-binding method on the engine.  Keeping 8,
64 or 363 used engines alive changed the cost of one ``run 0`` by no more than
the timing noise.  A cache of engines across tasks would only hit when a
configuration returns to the same worker, which no command does, so there is
none.

**Failures.**  On Dask, a worker that dies mid-run loses no result: the
scheduler hands its tasks to the other workers (up to
``distributed.scheduler.allowed-failures``, 3 by default, deaths per task), and
finished chunks are already back in the client.  With a local pool a dead
process breaks the pool; the finished chunks are on disk
(:mod:`snapcheck.runtime.partials`) and running the same command again resumes from
them, as it does after any interruption.

**Run log.**  Timings and host names never go into result files.  With
``run_log`` set, :func:`run_chunks` writes a JSON file (atomically): the
command line, the executor, the wall time, how many chunks were loaded from
partial results, and for every computed chunk its host, process id and
seconds.
"""

from __future__ import annotations

import json
import math
import multiprocessing
import os
import socket
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from threadpoolctl import threadpool_limits

from snapcheck.base.errors import InputError, MissingDependency
from snapcheck.base.files import atomic_path
from snapcheck.base.progress import progress_bar
from snapcheck.runtime.partials import PartialResults

#: Chunking: about this many tasks per run, ...
TARGET_CHUNKS = 128
#: ... but never more configurations than this in one task.
MAX_CHUNK = 256

DASK_EXTRA_HINT = "install the Dask extra: pip install 'snapcheck[dask]'"
#: How long to try to reach a Dask scheduler before giving up.
CONNECT_TIMEOUT = "10s"


# -- the executors ------------------------------------------------------------
class SerialExecutor(Executor):
    """Runs each task in this process, at submission (``--jobs 1``)."""

    def submit(self, fn, /, *args, **kwargs) -> Future:
        future: Future = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except Exception as exc:
            future.set_exception(exc)
        return future


@dataclass
class Pool:
    """An open executor, how many tasks to keep in flight on it now, and what it is (for the run log).

    ``works_locally``: this process runs tasks too while the executor's workers run theirs.
    """

    executor: Executor
    capacity: Callable[[], int]
    description: dict
    works_locally: bool = False


def one_blas_thread() -> threadpool_limits:
    """numpy's and scipy's BLAS on one thread until the returned limit is restored (it is a context manager).

    snapcheck parallelises over configurations (``--jobs``, Dask) and its matrices are small: BLAS
    threads would only compete with those processes for the cores (measured: ``fig1`` on 2 cores
    takes 10 % longer with them).  Applied by snapcheck's own commands (:func:`snapcheck.runtime.cli.run`,
    around the command) and in its local pool's worker processes, never at import: a program that
    uses snapcheck as a library keeps its own settings.  threadpoolctl limits the libraries loaded
    in the process, and scipy's wheel carries an OpenBLAS of its own, loaded with ``scipy.linalg``,
    so that is loaded first.
    """
    import scipy.linalg  # noqa: F401 - loads scipy's OpenBLAS, so that the limit reaches it too

    return threadpool_limits(limits=1, user_api="blas")


def _local_pool(workers: int) -> ProcessPoolExecutor:
    """``workers`` new processes (spawn: nothing leaks from this one), each with its BLAS on one thread."""
    return ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"), initializer=one_blas_thread)


def require_distributed(purpose: str):
    """The ``distributed`` module, or a :class:`MissingDependency` that says which extra to install for ``purpose``."""
    try:
        import distributed
    except ImportError:
        raise MissingDependency(
            f"{purpose} needs Dask's `distributed` package, which is not installed; {DASK_EXTRA_HINT}"
        ) from None
    return distributed


#: Local pools started ahead of their first use (:func:`prestart`), by ``--jobs``.
_PRESTARTED: dict[int, ProcessPoolExecutor] = {}


def prestart(jobs: int, scheduler: str | None = None) -> None:
    """Start the local pool's worker processes now, so that their start-up (Python, numpy, LAMMPS:
    about a second) overlaps this process's own (reading the data, building the models); the next
    :func:`open_executor` with the same ``jobs`` uses them.  Nothing to do for ``--jobs 1`` or Dask."""
    if scheduler or jobs == 1 or jobs in _PRESTARTED:
        return
    executor = _local_pool(jobs - 1)
    for _ in range(jobs - 1):
        executor.submit(os.getpid)  # a pool starts a process per task it is given, up to its size
    _PRESTARTED[jobs] = executor


@contextmanager
def open_executor(jobs: int = 1, scheduler: str | None = None) -> Iterator[Pool]:
    """The executor for ``--jobs``/``--scheduler``; closed (pool processes ended, client disconnected) on exit."""
    host = socket.gethostname()
    if scheduler:
        with _dask_client(scheduler) as client:
            threads = dict(sorted(client.nthreads().items()))
            description = {
                "kind": "dask",
                "scheduler": scheduler,
                "client_host": host,
                "worker_threads_at_start": threads,
            }
            # asked again as tasks finish: workers that join later (dask-jobqueue, adaptive clusters) get work too
            yield Pool(
                client.get_executor(pure=False), lambda: max(8, 4 * sum(client.nthreads().values())), description
            )
    elif jobs == 1:
        yield Pool(SerialExecutor(), lambda: 1, {"kind": "serial", "host": host})
    else:
        # this process is one of the ``jobs``: it runs tasks between collecting the workers' results
        workers = jobs - 1
        executor = _PRESTARTED.pop(jobs, None) or _local_pool(workers)
        with executor:
            description = {"kind": "process-pool", "processes": jobs, "worker_processes": workers, "host": host}
            yield Pool(executor, lambda: 2 * workers, description, works_locally=True)


@contextmanager
def _dask_client(address: str):
    distributed = require_distributed(f"--scheduler {address}")
    try:
        client = distributed.Client(address, timeout=CONNECT_TIMEOUT, set_as_default=False)
    except (OSError, TimeoutError) as exc:
        raise InputError(
            f"--scheduler {address}: cannot reach the Dask scheduler ({exc}); is `dask scheduler` running there?"
        ) from None
    with client:
        yield client


# -- chunked tasks --------------------------------------------------------------
def chunk_indices(weights: Sequence[float]) -> list[list[int]]:
    """Item indices, heaviest first, cut into chunks of ⌈M/128⌉ (at most 256) items."""
    order = sorted(range(len(weights)), key=lambda i: (-weights[i], i))
    size = min(MAX_CHUNK, max(1, math.ceil(len(order) / TARGET_CHUNKS)))
    return [order[start : start + size] for start in range(0, len(order), size)]


def timed_call(function: Callable, task: Any) -> tuple[Any, dict]:
    """``function(task)`` on a worker, with where and how long it ran (for the run log only)."""
    start = time.perf_counter()
    result = function(task)
    return result, {"host": socket.gethostname(), "pid": os.getpid(), "seconds": time.perf_counter() - start}


def run_chunks(
    function: Callable,
    tasks: Sequence[Any],
    *,
    sizes: Sequence[int],
    description: str,
    jobs: int = 1,
    scheduler: str | None = None,
    partials: Path | None = None,
    run_log: Path | None = None,
    progress: bool = True,
    unit: str = "config",
) -> list:
    """``[function(task) for task in tasks]``, run on the chosen executor, resumable.

    ``sizes`` are the units of work per task, configurations by default
    (``unit``), for the progress bar and the run log.  With ``partials`` set,
    chunks finished by an earlier, interrupted run with the same inputs are
    loaded from there, each new one is saved there as it finishes, and all
    are deleted when every chunk is done.
    """
    store = PartialResults(partials)
    keys = [store.key(function, task) for task in tasks]
    results: list = [None] * len(tasks)
    todo = []
    for index, key in enumerate(keys):
        found, results[index] = store.load(key)
        if not found:
            todo.append(index)
    records = []
    started, start = datetime.now(UTC), time.perf_counter()
    loaded = sum(sizes) - sum(sizes[i] for i in todo)
    with (
        open_executor(jobs, scheduler) as pool,
        progress_bar(total=sum(sizes), initial=loaded, desc=description, unit=unit, enabled=progress) as bar,
    ):
        try:
            for index, (result, record) in _stream(pool, function, tasks, todo):
                store.save(keys[index], result)
                results[index] = result
                records.append({"chunk": index, "configurations": sizes[index], **record})
                bar.update(sizes[index])
        except BrokenProcessPool as exc:
            where = (
                f"; the finished chunks are saved in {partials}: run the same command again to resume"
                if partials
                else ""
            )
            raise RuntimeError(f"a worker process of the local pool died ({exc}){where}") from exc
    if run_log is not None:
        write_run_log(
            run_log,
            description,
            pool.description,
            started,
            time.perf_counter() - start,
            len(tasks) - len(todo),
            sorted(records, key=lambda r: r["chunk"]),
        )
    store.discard(keys)
    return results


def map_configurations(
    function: Callable, configurations: Sequence, make_task: Callable, *, description: str, **execution
) -> list:
    """One result per configuration, in order: ``function(make_task(chunk))`` over chunks of :func:`chunk_indices`.

    ``function`` returns a list with one result per configuration of its chunk;
    ``execution`` holds the keyword arguments of :func:`run_chunks` (``jobs``,
    ``scheduler``, ``partials``, ``run_log``, ``progress``).
    """
    chunks = chunk_indices([configuration.n_atoms for configuration in configurations])
    tasks = [make_task(tuple(configurations[i] for i in chunk)) for chunk in chunks]
    chunk_results = run_chunks(
        function, tasks, sizes=[len(chunk) for chunk in chunks], description=description, **execution
    )
    results: list = [None] * len(configurations)
    for chunk, values in zip(chunks, chunk_results):
        for index, value in zip(chunk, values, strict=True):
            results[index] = value
    return results


def _stream(
    pool: Pool, function: Callable, tasks: Sequence[Any], indices: list[int]
) -> Iterator[tuple[int, tuple[Any, dict]]]:
    """(index, (result, record)) for every task in ``indices`` as it finishes, at most ``pool.capacity()`` at a time."""
    pending = list(reversed(indices))
    in_flight: dict[Future, int] = {}

    def top_up() -> None:
        capacity = pool.capacity()
        while pending and len(in_flight) < capacity:
            index = pending.pop()
            in_flight[pool.executor.submit(timed_call, function, tasks[index])] = index

    top_up()
    try:
        while in_flight or pending:
            if pool.works_locally and pending:
                index = pending.pop()
                yield index, timed_call(function, tasks[index])
                done = [future for future in in_flight if future.done()]
            else:
                done, _ = wait(in_flight, return_when=FIRST_COMPLETED)
            for future in sorted(done, key=in_flight.__getitem__):
                index = in_flight.pop(future)
                yield index, future.result()
            top_up()
    finally:
        for future in in_flight:
            future.cancel()


def write_run_log(
    path: Path,
    description: str,
    executor: dict,
    started: datetime,
    wall_time: float,
    n_loaded: int,
    records: list[dict],
) -> Path:
    """The run's timings and hosts, as JSON (never in the result files)."""
    by_process: dict[str, dict] = {}
    for record in records:
        entry = by_process.setdefault(
            f"{record['host']}:{record['pid']}", {"chunks": 0, "configurations": 0, "seconds": 0.0}
        )
        entry["chunks"] += 1
        entry["configurations"] += record["configurations"]
        entry["seconds"] += record["seconds"]
    log = {
        "argv": sys.argv,
        "work": description,
        "started_utc": started.isoformat(timespec="seconds"),
        "wall_time_s": wall_time,
        "executor": executor,
        "chunks": n_loaded + len(records),
        "chunks_loaded_from_partials": n_loaded,
        "chunks_computed": len(records),
        "processes": by_process,
        "tasks": records,
    }
    with atomic_path(path) as temporary:
        temporary.write_text(json.dumps(log, indent=1) + "\n")
    return Path(path)
