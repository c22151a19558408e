"""The training example and the benchmark, on their smallest settings."""

from __future__ import annotations

import argparse

import pandas as pd

from snapcheck.torch import benchmark, example
from snapcheck.torch.potential import ta_atoms


def test_paper_step_trains_like_double_backprop():
    table = example.compare_training(steps=6, configurations=ta_atoms((("Elastic_FCC", 1), ("GSF_110", 1))))
    assert table.relative_difference.max() < 1e-8  # the two loss curves coincide
    assert table.loss_paper.iloc[-1] < table.loss_paper.iloc[0]  # and the loss goes down


def test_benchmark_writes_ratios(tmp_path):
    assert benchmark.width_for(1e3) == 27 and benchmark.width_for(1e6) == 995  # P = h² + 11h + 3
    assert benchmark.bench_torch(argparse.Namespace(out_dir=tmp_path, seed=0, parameters=[100], atoms=[2])) == 0
    table = pd.read_csv(tmp_path / "reports" / "torch_benchmark.csv")
    row = table.iloc[0]
    assert len(table) == 1 and row.parameters == 105 and row.atoms == 2
    assert row.graph_bytes_double > row.graph_bytes_paper > 0  # double backprop keeps the first backward's graph
    assert row.check_max_relative_error < 1e-10
    assert row.gradgradcheck_passed and row.gradgradcheck_fast_passed  # the same model passes both of torch's checks
    assert row.speedup_check_vs_gradgradcheck > 0 and row.time_ratio_double_over_paper > 0
    # the whole loss (energy, forces, stress): the paper's strained step beside double backprop, in the same run
    whole = ["seconds_paper_whole_step", "seconds_double_whole_step", "time_ratio_double_over_paper_whole"]
    whole += ["graph_bytes_paper_whole", "graph_bytes_double_whole", "memory_ratio_double_over_paper_whole"]
    assert (row[whole] > 0).all()
    assert row.graph_bytes_double_whole > row.graph_bytes_paper_whole
    assert row.graph_bytes_paper_whole > row.graph_bytes_paper  # the strain's graph comes on top of the positions'
    assert 0 < row.gradient_difference_whole < 1e-6 and row.gradient_difference < 1e-6  # both steps, one gradient
