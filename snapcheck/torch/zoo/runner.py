"""Run the zoo: every entry, buggy and fixed, in float64 and float32, through snapcheck and today's tools.

:func:`run_zoo` writes, under ``out_dir/reports/``:

* ``zoo.csv``: one row per entry, dtype, variant and tool, ``entry, url, bug_class, dtype, variant, tool,
  detected, named, seconds, message``.  ``named`` is true when a flagged buggy variant's message matches
  the entry's regular expression, i.e. states the bug; a flagged fixed variant is a false positive;
* ``zoo.md``: the tables of ``docs/zoo.md`` (:mod:`snapcheck.torch.zoo.report`);
* ``zoo_run.json``: the run's wall time, machine and versions.

Models, data and every random draw are seeded, so two runs agree in everything but the times.
"""

from __future__ import annotations

import json
import os
import platform
import re
import time
from collections.abc import Sequence
from pathlib import Path

import ase
import pandas as pd
import torch

from snapcheck.base.errors import InputError
from snapcheck.base.files import atomic_path, write_csv
from snapcheck.base.progress import progress_bar
from snapcheck.torch.determinism import one_thread
from snapcheck.torch.zoo.cell_entries import ENTRIES as CELL_ENTRIES
from snapcheck.torch.zoo.force_entries import ENTRIES as FORCE_ENTRIES
from snapcheck.torch.zoo.loss_entries import ENTRIES as LOSS_ENTRIES
from snapcheck.torch.zoo.model_entries import ENTRIES as MODEL_ENTRIES
from snapcheck.torch.zoo.registry import Entry
from snapcheck.torch.zoo.report import markdown
from snapcheck.torch.zoo.stress_entries import ENTRIES as STRESS_ENTRIES
from snapcheck.torch.zoo.tools import snapcheck_tools, todays_tools

ENTRIES: tuple[Entry, ...] = FORCE_ENTRIES + MODEL_ENTRIES + LOSS_ENTRIES + CELL_ENTRIES + STRESS_ENTRIES
DTYPES = {"float64": torch.float64, "float32": torch.float32}
COLUMNS = ["entry", "url", "bug_class", "dtype", "variant", "tool", "detected", "named", "seconds", "message"]


def chosen_entries(keys: Sequence[str] | None) -> tuple[Entry, ...]:
    """The entries of ``keys`` in that order (None: all); :class:`InputError` naming every unknown key."""
    if keys is None:
        return ENTRIES
    by_key = {item.key: item for item in ENTRIES}
    unknown = [key for key in keys if key not in by_key]
    if unknown:
        raise InputError(f"no zoo entry {', '.join(map(repr, unknown))}; the entries are {', '.join(by_key)}")
    return tuple(by_key[key] for key in keys)


def entry(key: str) -> Entry:
    """The entry ``key``; :class:`InputError` listing the entries when there is none."""
    return chosen_entries([key])[0]


def run_case(item: Entry, variant: str, dtype: str, slow: bool = True) -> list[dict]:
    """The rows of one entry's variant in one dtype: snapcheck's checks, and with ``slow`` today's tools."""
    case = item.build(variant == "buggy", DTYPES[dtype])
    outcomes = snapcheck_tools(case) + (todays_tools(case) if slow else [])
    return [
        {
            "entry": item.key,
            "url": item.url,
            "bug_class": item.bug_class,
            "dtype": dtype,
            "variant": variant,
            "tool": outcome.tool,
            "detected": outcome.detected,
            "named": outcome.detected and variant == "buggy" and bool(re.search(item.message, outcome.message, re.S)),
            "seconds": round(outcome.seconds, 3),
            "message": outcome.message,
        }
        for outcome in outcomes
    ]


def run_zoo(
    out_dir: str | Path,
    *,
    entries: Sequence[str] | None = None,
    dtypes: Sequence[str] = ("float64", "float32"),
    slow: bool = True,
) -> pd.DataFrame:
    """Run ``entries`` (keys; default all) and write ``out_dir/reports/zoo.csv``, ``zoo.md`` and ``zoo_run.json``;
    return the table.

    ``slow=False`` runs snapcheck's checks only.  One intra-op thread (small models: fastest, and deterministic).
    """
    chosen = chosen_entries(entries)
    start = time.perf_counter()
    cases = [(item, variant, dtype) for item in chosen for dtype in dtypes for variant in ("buggy", "fixed")]
    with one_thread():
        rows = [row for case in progress_bar(cases, desc="zoo", unit="case") for row in run_case(*case, slow)]
    table = pd.DataFrame(rows, columns=COLUMNS)
    reports = Path(out_dir) / "reports"
    write_csv(table, reports / "zoo.csv")
    with atomic_path(reports / "zoo.md") as temporary:
        temporary.write_text(markdown(table))
    run = {
        "wall_seconds": round(time.perf_counter() - start, 1),
        "entries": len(chosen),
        "dtypes": list(dtypes),
        "slow": slow,
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, {platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "torch": torch.__version__,
        "ase": ase.__version__,
    }
    with atomic_path(reports / "zoo_run.json") as temporary:
        temporary.write_text(json.dumps(run, indent=1) + "\n")
    return table
