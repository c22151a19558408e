"""The benchmark commands run and report (their timings are not asserted: benchmarks are not tests)."""

from __future__ import annotations

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
    assert "1 worker / 2 workers" in output and "results identical bit for bit: yes" in output
    table = pd.read_csv(tmp_path / "reports" / "bench_dask.csv")
    assert table["workers"].tolist() == [1, 2] and (table["wall_time_s"] > 0).all()


def test_figures_benchmark_finds_identical_results(tmp_path, capsys):
    assert bench.main(["figures", "--configs", "12", "--jobs", "2", "--out-dir", str(tmp_path)]) == 0
    assert "results identical bit for bit: yes" in capsys.readouterr().out
    assert len(pd.read_csv(tmp_path / "reports" / "bench_figures.csv")) == 2
