"""The benchmark commands run and report (their timings are not asserted: benchmarks are not tests)."""

from __future__ import annotations

import json
import subprocess
import sys

import pandas as pd

from snapcheck import bench


def test_descriptor_benchmark_reports_three_positive_times(tmp_path, capsys):
    assert bench.main(["descriptors", "--configs", "12", "--repeats", "1", "--out-dir", str(tmp_path)]) == 0
    table = pd.read_csv(tmp_path / "reports" / "bench_descriptors.csv")
    assert len(table) == 3 and (table["value"] > 0).all()
    assert "full / fast" in capsys.readouterr().out


def test_dask_benchmark_times_one_and_two_local_workers(tmp_path, capsys):
    assert bench.main(["dask", "--configs", "2", "--out-dir", str(tmp_path)]) == 0
    output = capsys.readouterr().out
    assert "1 worker / 2 workers" in output
    assert output.splitlines()[-1] == "PASS: the numbers of 1 and 2 Dask workers are identical bit for bit"
    table = pd.read_csv(tmp_path / "reports" / "bench_dask.csv")
    assert table["workers"].tolist() == [1, 2] and (table["wall_time_s"] > 0).all()


def test_figures_benchmark_finds_identical_results(tmp_path, capsys):
    assert bench.main(["figures", "--configs", "12", "--jobs", "2", "--out-dir", str(tmp_path)]) == 0
    verdict = capsys.readouterr().out.splitlines()[-1]
    assert verdict == "PASS: the numbers of 2 processes and the serial loop are identical bit for bit"
    assert len(pd.read_csv(tmp_path / "reports" / "bench_figures.csv")) == 2


def test_startup_benchmark_reports_its_ratios_and_no_verdict(tmp_path, capsys, data_root):
    """Child processes timed, medians and ratios written; a benchmark holds no goal, so it states no verdict."""
    folder = tmp_path / "data" / "Liquid"
    folder.mkdir(parents=True)
    source = sorted((data_root / "JSON" / "Liquid").glob("*.json"))[0]
    folder.joinpath(source.name).write_bytes(source.read_bytes())
    arguments = ["startup", "--data", str(tmp_path / "data"), "--jobs", "1", "--out-dir", str(tmp_path)]
    assert bench.main(arguments) == 0
    output = capsys.readouterr().out
    assert "figures / loop" in output and not any(
        line.startswith(("PASS", "FAIL", "goal")) for line in output.splitlines()
    )
    table = pd.read_csv(tmp_path / "reports" / "bench_startup.csv")
    assert table["run"].fillna("").tolist() == ["serial loop (1 process)", "fig1 + fig2 (--jobs 1)", ""]
    assert (table["wall_time_s"] > 0).all() and (table["cpu_time_s"] > 0).all()


#: A fresh interpreter in which ``import torch`` fails as it does where torch is not installed.
WITHOUT_TORCH = """
import json, sys
sys.modules["torch"] = None  # import torch raises ModuleNotFoundError; importlib.util.find_spec("torch") is None
from snapcheck.bench import main
from snapcheck.runtime.cli import run

outcomes = {}
for name in ("torch", "torch-checks", "torch-training", "zoo"):
    try:
        run(main, [name, "--out-dir", sys.argv[1]])
    except SystemExit as finished:
        outcomes[name] = finished.code
print(json.dumps(outcomes))
"""


def test_the_torch_benchmarks_without_torch_say_what_to_install(tmp_path):
    """Exit 2 and one line each naming the extra; nothing written."""
    finished = subprocess.run(
        [sys.executable, "-c", WITHOUT_TORCH, str(tmp_path)], capture_output=True, text=True, timeout=120
    )
    assert finished.returncode == 0, finished.stderr
    assert json.loads(finished.stdout.splitlines()[-1]) == {
        "torch": 2,
        "torch-checks": 2,
        "torch-training": 2,
        "zoo": 2,
    }
    assert finished.stderr.splitlines() == [
        f"error: bench {name} needs PyTorch, which is not installed: pip install 'snapcheck[torch]'"
        for name in ("torch", "torch-checks", "torch-training", "zoo")
    ]
    assert list(tmp_path.iterdir()) == []


HELP_PROBE = """
import sys
from snapcheck import bench

parser = bench.parser()
texts = [parser.format_help()]
for action in parser._subparsers._group_actions:
    texts += [sub.format_help() for sub in action.choices.values()]
print(len(texts), "torch" in sys.modules)
"""


def test_bench_help_imports_no_torch():
    """python -m snapcheck.bench --help, and each subcommand's, in a fresh interpreter: torch stays unimported."""
    finished = subprocess.run([sys.executable, "-c", HELP_PROBE], capture_output=True, text=True, timeout=120)
    assert finished.returncode == 0, finished.stderr
    helps, torch_imported = finished.stdout.split()
    assert int(helps) > 9 and torch_imported == "False"
