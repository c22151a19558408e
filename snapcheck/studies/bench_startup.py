"""Figs. 1 and 2 as commands, timed as child processes, against a plain serial loop of the same LAMMPS work.

``python -m snapcheck.fig1`` followed by ``python -m snapcheck.fig2``, run as a
user runs them (fresh processes, ``jobs`` workers), against the same LAMMPS
evaluations as a plain serial loop in one process
(:mod:`snapcheck.studies.serial_baseline`).  Each run is a child process,
timed by its wall time and its CPU time (user + system of the process and of
every worker it waited for, from ``getrusage(RUSAGE_CHILDREN)``); the runs are
interleaved ``repeats`` times and the medians compared.  This is a benchmark:
it reports the ratios and holds them to no goal, because timings on a shared
machine vary from run to run.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

from snapcheck.base.files import write_csv
from snapcheck.base.report import Summary


def timed_child(command: list[str]) -> tuple[float, float]:
    """(wall s, CPU s) of a child process and every process it waited for."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def bench_startup(*, data: str | None, seed: int, jobs: int, repeats: int, out_dir: Path) -> Summary:
    """Time the two commands against the loop (module docstring); writes ``reports/bench_startup.csv``."""
    python = sys.executable
    loop = [python, "-c", f"from snapcheck.studies.serial_baseline import run; run({data!r}, {seed})"]
    flags = [*(["--data", str(data)] if data else []), "--seed", str(seed), "--jobs", str(jobs)]
    rows = []
    with tempfile.TemporaryDirectory(prefix="snapcheck-bench-") as scratch:
        for repeat in range(repeats):
            wall, cpu = timed_child(loop)
            rows.append({"repeat": repeat, "run": "serial loop (1 process)", "wall_time_s": wall, "cpu_time_s": cpu})
            times = [
                timed_child([python, "-m", f"snapcheck.{figure}", *flags, "--out-dir", os.path.join(scratch, figure)])
                for figure in ("fig1", "fig2")
            ]
            rows.append(
                {
                    "repeat": repeat,
                    "run": f"fig1 + fig2 (--jobs {jobs})",
                    "wall_time_s": sum(wall for wall, _ in times),
                    "cpu_time_s": sum(cpu for _, cpu in times),
                }
            )
    table = pd.DataFrame(rows)
    medians = table.groupby("run", sort=False)[["wall_time_s", "cpu_time_s"]].median()
    ratios = medians.iloc[1] / medians.iloc[0]
    ratio_row = {"repeat": "median ratio, figures / loop", "run": "", **ratios.to_dict()}
    write_csv(
        pd.concat([table, pd.DataFrame([ratio_row])], ignore_index=True), out_dir / "reports" / "bench_startup.csv"
    )
    return Summary(
        (
            "Figs. 1 and 2 as commands against a serial loop over the same LAMMPS evaluations"
            f" ({repeats} runs each, medians):",
            *(
                f"  {name:<28} wall {row['wall_time_s']:7.1f} s   CPU {row['cpu_time_s']:7.1f} s"
                for name, row in medians.iterrows()
            ),
            f"  figures / loop               wall {ratios['wall_time_s']:7.2f}×   CPU {ratios['cpu_time_s']:7.2f}×",
        )
    )
