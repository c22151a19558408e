"""The sweep of Figs. 1 and 2 over worker processes against a serial loop: the time, and bit-identical numbers.

The sweep (both paper models, g₀ = max and 1 eV/Å, float64, the default ε
grid) runs twice on the same configurations: over ``jobs`` local worker
processes, and as a plain serial loop in this process doing the same LAMMPS
evaluations.  The two wall times and their ratio are the benchmark; the
numbers of the two runs must agree bit for bit (:func:`identical_sweeps`),
which is a check: it decides the verdict.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pandas as pd

from snapcheck.base.files import write_csv
from snapcheck.base.report import Summary, Verdict
from snapcheck.data.configuration import Configuration
from snapcheck.data.datasets import load_configurations
from snapcheck.data.selection import AtMost
from snapcheck.models.registry import ModelRequest, load_model
from snapcheck.studies.sweep import ConfigurationSweep, SweepSpec, run_sweep


def paper_sweep(data: str | None, seed: int) -> SweepSpec:
    """Figs. 1 and 2's sweep: the dataset's trained model and the untrained one (from ``seed``), both g₀ rules."""
    request = ModelRequest(seed=seed, data=data)
    models = (load_model("trained", request).model, load_model("untrained", request).model)
    return SweepSpec(models=models, g0_rules=("max", 1.0))


def lammps_evaluations(configurations: list[Configuration], spec: SweepSpec) -> int:
    """One full evaluation per configuration, and two fast ones per model, g₀ and ε."""
    return len(configurations) * (1 + len(spec.models) * len(spec.g0_rules) * len(spec.epsilons) * 2)


def identical_sweeps(first: list[ConfigurationSweep], second: list[ConfigurationSweep]) -> bool:
    """Every estimate of two runs of one sweep is the same, bit for bit."""
    return all(
        np.array_equal(a.gradient_estimates, b.gradient_estimates)
        and np.array_equal(a.loss_estimates, b.loss_estimates)
        for a, b in zip(first, second, strict=True)
    )


def identity_verdict(identical: bool, runs: str) -> Verdict:
    return Verdict(identical, f"the numbers of {runs} are {'identical bit for bit' if identical else 'NOT identical'}")


def bench_sweep(*, data: str | None, configs: int | AtMost | None, seed: int, jobs: int, out_dir: Path) -> Summary:
    """Time the sweep on ``jobs`` processes and serially (module docstring); writes ``reports/bench_figures.csv``."""
    configurations = load_configurations(data, count=configs)
    spec = paper_sweep(data, seed)
    n_evaluations = lammps_evaluations(configurations, spec)
    runs = {f"parallel ({jobs} processes)": jobs, "serial loop (1 process)": 1}
    timings, results = {}, {}
    for label, workers in runs.items():
        start = time.perf_counter()
        results[label] = run_sweep(configurations, spec, jobs=workers)
        timings[label] = time.perf_counter() - start
    parallel, serial = (timings[label] for label in runs)
    table = pd.DataFrame(
        {
            "run": list(runs),
            "jobs": list(runs.values()),
            "configurations": len(configurations),
            "lammps_evaluations": n_evaluations,
            "wall_time_s": list(timings.values()),
            "ms_per_evaluation_per_process": [timings[k] / n_evaluations * 1e3 * j for k, j in runs.items()],
        }
    )
    write_csv(table, out_dir / "reports" / "bench_figures.csv")
    lines = [
        f"Figs. 1 and 2: {len(configurations)} configurations, {n_evaluations} LAMMPS evaluations",
        *(f"  {label:<26} {seconds:7.1f} s" for label, seconds in timings.items()),
        f"  serial / parallel          {serial / parallel:7.2f}×",
    ]
    identical = identical_sweeps(*results.values())
    return Summary(tuple(lines), identity_verdict(identical, f"{jobs} processes and the serial loop"))
