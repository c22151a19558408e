"""The LAMMPS engine's cost: setting up an instance and evaluating, full against fast.

Over the configurations: the wall time to set up a
:class:`~snapcheck.descriptors.engine.SnapEngine` and run the full evaluation
(ΣB, A_f and the reference potential) for all of them; then, on instances
already set up, the median time of one full evaluation and of one fast one
(ΣB and the reference energy only, what the paper's r± need), and their ratio.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pandas as pd

from snapcheck.base.files import write_csv
from snapcheck.base.progress import progress_bar
from snapcheck.base.report import Summary
from snapcheck.data.datasets import load_configurations
from snapcheck.data.selection import AtMost
from snapcheck.descriptors.engine import SnapEngine
from snapcheck.models.registry import ModelRequest, load_model


def bench_descriptors(*, data: str | None, configs: int | AtMost | None, repeats: int, out_dir: Path) -> Summary:
    """Time the engine with the dataset's trained model (module docstring); writes ``reports/bench_descriptors.csv``."""
    configurations = load_configurations(data, count=configs)
    trained = load_model("trained", ModelRequest(data=data)).model
    parameters, reference = trained.parameters, trained.reference
    full_times, fast_times = [], []
    start = time.perf_counter()
    for configuration in progress_bar(configurations, desc="descriptors", unit="config"):
        with SnapEngine(configuration, parameters, reference) as engine:
            engine.evaluate()
    setup_and_full = time.perf_counter() - start
    for configuration in progress_bar(configurations, desc="per-evaluation timing", unit="config"):
        with SnapEngine(configuration, parameters, reference) as engine:
            engine.evaluate()
            for _ in range(repeats):
                tick = time.perf_counter()
                engine.evaluate()
                full_times.append(time.perf_counter() - tick)
                tick = time.perf_counter()
                engine.evaluate_values(configuration.positions)
                fast_times.append(time.perf_counter() - tick)
    full_median, fast_median = float(np.median(full_times)) * 1e3, float(np.median(fast_times)) * 1e3
    table = pd.DataFrame(
        [
            {"measure": "set-up and full evaluation, whole dataset", "value": setup_and_full, "unit": "s"},
            {"measure": "one full evaluation, median", "value": full_median, "unit": "ms"},
            {"measure": "one fast evaluation, median", "value": fast_median, "unit": "ms"},
        ]
    )
    write_csv(table, out_dir / "reports" / "bench_descriptors.csv")
    return Summary(
        (
            f"descriptors: {len(configurations)} configurations, {sum(c.n_atoms for c in configurations)} atoms,"
            f" {repeats} repeats each",
            f"  set-up and full evaluation, whole dataset  {setup_and_full:8.2f} s",
            f"  one full evaluation (median)               {full_median:8.3f} ms",
            f"  one fast evaluation (median)               {fast_median:8.3f} ms",
            f"  full / fast                                {full_median / fast_median:8.2f}×",
        )
    )
