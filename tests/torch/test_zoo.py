"""The zoo of the field's real force- and stress-training bugs (snapcheck.torch.zoo).

Default run: snapcheck flags every entry's buggy variant in float64 and its message names the bug,
and passes every fixed variant in float64 and float32 (a fixed variant flagged is a false positive).
Where snapcheck does not yet detect or name a real bug, the entry says why (``missed``, ``misnamed``)
and its test is an expected failure, strict, so a fix in the core shows up.  ``slow``: the whole run
of ``run_zoo``, today's tools included, reproduces ``tests/references/zoo.csv`` row for row.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest
import torch

from snapcheck.torch import CheckFailure
from snapcheck.torch.zoo import ENTRIES, false_positives, run_zoo
from snapcheck.torch.zoo.registry import BUG_CLASSES, PLACES
from snapcheck.torch.zoo.report import catalogue, gaps, markdown
from snapcheck.torch.zoo.runner import COLUMNS
from snapcheck.torch.zoo.tools import snapcheck_tools

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = ROOT / "tests" / "references" / "zoo.csv"
DTYPES = {"float64": torch.float64, "float32": torch.float32}


def expected_failure(entry, *reasons):
    reason = next((r for r in reasons if r), None)
    marks = [pytest.mark.xfail(strict=True, raises=AssertionError, reason=reason)] if reason else []
    return pytest.param(entry, marks=marks, id=entry.key)


def describe(outcomes) -> str:
    return "\n".join(f"  {o.tool}: {'flagged' if o.detected else 'passed'}: {o.message}" for o in outcomes)


def test_the_zoo_holds_what_the_issue_asks():
    """≥ 15 entries, ≥ 5 on stress or virials, each with a public URL, a known class and place, and a unique key."""
    stress = [e for e in ENTRIES if "stress" in e.quantities]
    assert len(ENTRIES) >= 15 and len(stress) >= 5
    assert len({e.key for e in ENTRIES}) == len(ENTRIES)
    for entry in ENTRIES:
        assert re.fullmatch(r"https://github\.com/[\w.-]+/[\w.-]+/(pull|issues)/\d+", entry.url), entry.url
        assert entry.bug_class in BUG_CLASSES and entry.place in PLACES


@pytest.mark.parametrize("entry", [expected_failure(e, e.missed) for e in ENTRIES])
def test_snapcheck_flags_the_bug(entry):
    outcomes = snapcheck_tools(entry.build(True, torch.float64))
    assert any(o.detected for o in outcomes), f"snapcheck passes the buggy {entry.key}:\n{describe(outcomes)}"


@pytest.mark.parametrize("entry", [expected_failure(e, e.missed, e.misnamed) for e in ENTRIES])
def test_snapcheck_names_the_bug(entry):
    outcomes = [o for o in snapcheck_tools(entry.build(True, torch.float64)) if o.detected]
    named = [o for o in outcomes if re.search(entry.message, o.message, re.S)]
    assert named, f"no snapcheck message of {entry.key} matches {entry.message!r}:\n{describe(outcomes)}"


@pytest.mark.parametrize("dtype", list(DTYPES))
@pytest.mark.parametrize("entry", ENTRIES, ids=[e.key for e in ENTRIES])
def test_the_fixed_variant_passes_every_check(entry, dtype):
    outcomes = snapcheck_tools(entry.build(False, DTYPES[dtype]))
    assert not any(o.detected for o in outcomes), f"false positive on the fixed {entry.key}:\n{describe(outcomes)}"


def test_docs_show_the_entries_and_the_reference_run():
    """docs/zoo.md holds the entries, the classes and the gaps of the registry, and the tables of
    tests/references/zoo.csv as the runner renders them, with the run's wall time."""
    docs = (ROOT / "docs" / "zoo.md").read_text()
    reference = pd.read_csv(REFERENCE)
    assert list(reference.columns) == COLUMNS
    assert catalogue(ENTRIES) in docs and markdown(reference) in docs
    shortfalls = docs.split("## Where snapcheck falls short")[1].split("\n## ")[0]
    assert [line for line in shortfalls.splitlines() if line.startswith("- ")] == gaps(ENTRIES).splitlines()
    assert all(f"| `{name}` | {text} |" in docs for name, text in BUG_CLASSES.items())
    run = json.loads(REFERENCE.with_name("zoo_run.json").read_text())
    assert f"wall time {run['wall_seconds']:.0f} s" in docs and run["machine"] in docs


def test_the_docs_example_names_the_bug():
    """The fixture example of docs/zoo.md runs as written and fails with the message it shows."""
    block = re.search(r"```python\n(.*?)```", (ROOT / "docs" / "zoo.md").read_text(), re.S).group(1)
    with pytest.raises(CheckFailure, match=r"^forces_fn has a sign error \(factor −1\) against −∂Ê/∂r"):
        exec(compile(block, "docs/zoo.md", "exec"), {})


@pytest.mark.slow
def test_a_run_reproduces_the_reference(tmp_path):
    """Every entry through snapcheck and today's tools: each verdict as in the reference run (timings aside)."""
    table = run_zoo(tmp_path)
    assert (tmp_path / "reports" / "zoo.csv").exists() and (tmp_path / "reports" / "zoo.md").exists()
    reference = pd.read_csv(REFERENCE)
    verdicts = ["entry", "dtype", "variant", "tool", "detected", "named"]
    pd.testing.assert_frame_equal(table[verdicts].reset_index(drop=True), reference[verdicts], check_dtype=False)
    assert false_positives(table) == 0
