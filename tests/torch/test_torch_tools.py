"""The training example, the benchmark and the torch subcommands of ``python -m snapcheck.bench``, on their
smallest settings: exit code, files written, summary on stdout."""

from __future__ import annotations

import pandas as pd
import pytest

from snapcheck import bench
from snapcheck.runtime.cli import run
from snapcheck.torch import benchmark, example
from snapcheck.torch.bench_studies import benchmark_summary
from snapcheck.torch.potential import ta_atoms


def test_paper_step_trains_like_double_backprop():
    table = example.compare_training(steps=6, configurations=ta_atoms((("Elastic_FCC", 1), ("GSF_110", 1))))
    assert table.relative_difference.max() < 1e-8  # the two loss curves coincide
    assert table.loss_paper.iloc[-1] < table.loss_paper.iloc[0]  # and the loss goes down


def test_benchmark_measures_both_steps_and_both_checks(tmp_path):
    assert benchmark.width_for(1e3) == 27 and benchmark.width_for(1e6) == 995  # P = h² + 11h + 3
    table = benchmark.run_benchmark([100], [2])
    row = table.iloc[0]
    assert len(table) == 1 and row.parameters == 105 and row.atoms == 2
    assert row.graph_bytes_double > row.graph_bytes_paper > 0  # double backprop keeps the first backward's graph
    assert row.check_passed and row.check_max_relative_error < 1e-10
    assert row.gradgradcheck_passed and row.gradgradcheck_fast_passed  # the same model passes both of torch's checks
    assert row.speedup_check_vs_gradgradcheck > 0 and row.time_ratio_double_over_paper > 0
    # the whole loss (energy, forces, stress): the paper's strained step beside double backprop, in the same run
    whole = ["seconds_paper_whole_step", "seconds_double_whole_step", "time_ratio_double_over_paper_whole"]
    whole += ["graph_bytes_paper_whole", "graph_bytes_double_whole", "memory_ratio_double_over_paper_whole"]
    assert (row[whole] > 0).all()
    assert row.graph_bytes_double_whole > row.graph_bytes_paper_whole
    assert row.graph_bytes_paper_whole > row.graph_bytes_paper  # the strain's graph comes on top of the positions'
    assert 0 < row.gradient_difference_whole < 1e-6 and row.gradient_difference < 1e-6  # both steps, one gradient
    summary = benchmark_summary(table, tmp_path / "torch_benchmark.csv")
    assert summary.exit_code == 0 and summary.verdict.line.startswith("PASS: snapcheck's check passed")
    assert "gradgradcheck / check at P = 105, N = 2" in summary.text
    # a row where the two steps disagree fails the benchmark's verdict, naming the row
    apart = benchmark_summary(table.assign(gradient_difference_whole=1e-3), tmp_path / "torch_benchmark.csv")
    assert apart.exit_code == 1 and apart.verdict.line == (
        "FAIL: the two steps' gradients differ at P = 105, N = 2 (gradient differences up to 1.0e-03)"
    )


def run_bench(arguments: list[str], capsys) -> tuple[int, list[str]]:
    code = bench.main(arguments)
    return code, capsys.readouterr().out.splitlines()


def test_bench_torch_checks_passes_the_radial_potential(tmp_path, capsys):
    code, lines = run_bench(["torch-checks", "--trainers", "radial", "--out-dir", str(tmp_path)], capsys)
    assert code == 0
    assert lines[-1] == "PASS: every correct trainer passes snapcheck's check (radial)"
    table = pd.read_csv(tmp_path / "reports" / "torch_checks.csv")
    assert set(table.trainer) == {"radial"} and set(table.dtype) == {"float64", "float32"}
    assert table.passed.all() and table.loc[table.dtype == "float64", "relative_error"].max() < 1e-12
    assert [line.split(":")[0] for line in lines[:2]] == ["radial float64", "radial float32"]


def test_bench_torch_training_writes_the_curves_and_the_figure(tmp_path, capsys):
    code, lines = run_bench(["torch-training", "--steps", "2", "--out-dir", str(tmp_path)], capsys)
    assert code == 0 and lines[-1].startswith("PASS: the loss curves of the paper's step and double backprop agree")
    assert len(pd.read_csv(tmp_path / "reports" / "torch_training.csv")) == 2
    assert (tmp_path / "figures" / "torch_training.png").stat().st_size > 0


def test_bench_zoo_runs_one_entry_through_every_tool(tmp_path, capsys):
    """torchani-421 (a Hartree factor applied twice to forces and stress): the cheapest entry, every tool."""
    code, lines = run_bench(["zoo", "--entries", "torchani-421", "--out-dir", str(tmp_path)], capsys)
    assert code == 0
    assert lines[-1] == "PASS: snapcheck flags no fixed variant (6 runs of its checks on 1 entry, float64 and float32)"
    assert lines[0].startswith("snapcheck: flagged (float64) 1/1, named (float64) 1/1, false positives (float64) 0/1")
    table = pd.read_csv(tmp_path / "reports" / "zoo.csv")
    assert set(table.entry) == {"torchani-421"} and {"ase.numerical_stress", "adam.20_steps"} <= set(table.tool)
    assert (tmp_path / "reports" / "zoo.md").exists() and (tmp_path / "reports" / "zoo_run.json").exists()


def test_bench_zoo_names_an_unknown_entry(tmp_path, capsys):
    with pytest.raises(SystemExit) as finished:
        run(bench.main, ["zoo", "--entries", "descent-70,mace-9999", "--out-dir", str(tmp_path)])
    assert finished.value.code == 2
    error = capsys.readouterr().err
    assert error.startswith("error: --entries: no zoo entry 'mace-9999'; the entries are torchani-238,")
    assert not (tmp_path / "reports").exists()  # nothing ran
