"""The cost benchmark's parts: its memory tracker, its ratios, its verdict, and the command on a tiny grid.

Timings are printed and written, never asserted: benchmarks are not tests.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from snapcheck import bench
from snapcheck.studies import cost, cost_harness, cost_report
from snapcheck.studies.cost_methods import EXACT, FORCES, PAPER


def test_numpy_tracker_sees_a_buffer_of_known_size():
    def allocate():
        big = np.ones(1_000_000)  # 8 MB
        del big
        return np.ones(250_000)  # 2 MB, alive at the end

    peak, result = cost_harness.numpy_peak_bytes(allocate)
    assert 8_000_000 <= peak < 8_100_000 and result.nbytes == 2_000_000


def test_the_headline_ratio_adds_lammps_to_both_sides_of_the_network_ratio():
    """Known numbers: the network alone takes 3× (3 s / 1 s), LAMMPS 6 s against 2 s: (3 + 6)/(1 + 2) = 3×
    with LAMMPS included; the exact product needs no B(r±), so its LAMMPS time is the force prediction's."""
    rows = [
        {"model": cost.NEURAL, "n_atoms": 2, "widths": "8x8", "method": FORCES, "time_s": 1.0, "lammps_time_s": 2.0},
        {"model": cost.NEURAL, "n_atoms": 2, "widths": "8x8", "method": PAPER, "time_s": 3.0, "lammps_time_s": 6.0},
        {"model": cost.NEURAL, "n_atoms": 2, "widths": "8x8", "method": EXACT, "time_s": 5.0, "lammps_time_s": 2.0},
        {"model": cost.LINEAR, "n_atoms": 2, "widths": "", "method": FORCES, "time_s": 4.0, "lammps_time_s": np.nan},
        {"model": cost.LINEAR, "n_atoms": 2, "widths": "", "method": PAPER, "time_s": 10.0, "lammps_time_s": np.nan},
    ]
    table = cost.add_ratios(pd.DataFrame(rows).assign(peak_memory_mb=1.0)).set_index(["model", "method"])
    assert table.loc[(cost.NEURAL, PAPER), ["time_ratio", "full_time_ratio"]].tolist() == [3.0, 3.0]
    assert table.loc[(cost.NEURAL, EXACT), ["time_ratio", "full_time_ratio"]].tolist() == [5.0, 7 / 3]
    # the linear rows time LAMMPS inside time_s already: nothing is added
    assert table.loc[(cost.LINEAR, PAPER), ["time_ratio", "full_time_ratio"]].tolist() == [2.5, 2.5]


def test_the_paper_gradient_needs_two_more_lammps_evaluations_without_derivatives():
    timed = {"derivatives": 1.0, "values": 0.25}  # s: one evaluation with ∂B/∂r at r, one of B alone at r₊
    assert cost.lammps_time(PAPER, timed) == 1.5
    assert cost.lammps_time(FORCES, timed) == cost.lammps_time(EXACT, timed) == 1.0


def test_a_measured_paper_gradient_includes_two_more_lammps_evaluations_than_a_force_prediction():
    table = cost.run_cost_study(
        cost.CostSpec(cells=(2,), widths=(8,), n_width=8, p_cells=2, repeats=1), with_torch=False
    )
    neural = table[table["model"] == cost.NEURAL].set_index("method")
    forces, paper = neural.loc[FORCES], neural.loc[PAPER]
    # B and ∂B/∂r for every network method; B(r±) in addition for the paper's (timings are not compared)
    assert neural.loc[EXACT, "lammps_time_s"] == forces["lammps_time_s"] < paper["lammps_time_s"]
    # the headline lies between the network's ratio and LAMMPS's, as a sum of both must
    lammps_ratio = paper["lammps_time_s"] / forces["lammps_time_s"]
    low, high = sorted((paper["time_ratio"], lammps_ratio))
    assert low <= paper["full_time_ratio"] <= high
    assert paper["relative_error_vs_exact"] < 1e-6


def test_cost_command_without_torch_says_so_and_measures_the_rest(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(cost_report, "torch_available", lambda: False)
    grid = ["--cells", "2", "--widths", "8", "--n-width", "8", "--p-cells", "2", "--repeats", "1"]
    assert bench.main(["cost", *grid, "--out-dir", str(tmp_path)]) == 0
    output = capsys.readouterr().out
    assert "pip install -e '.[torch]'" in output
    # the headline is the full ratio, LAMMPS included, with the network-only ratio beside it, both labelled
    assert "LAMMPS descriptor evaluations included (the headline" in output
    assert "network arithmetic only (descriptors precomputed)" in output
    verdict = output.splitlines()[-1]
    assert verdict.startswith("PASS: largest relative error against the exact gradient: paper gradient ")
    assert "double backprop" not in verdict
    methods = set(pd.read_csv(tmp_path / "reports" / "cost.csv")["method"])
    assert methods == {FORCES, PAPER, EXACT}


@pytest.mark.parametrize(("error", "passed"), [(3e-9, True), (2e-5, False)])
def test_the_verdict_is_the_accuracy_of_every_gradient(error, passed):
    table = pd.DataFrame({"method": [FORCES, PAPER, EXACT], "relative_error_vs_exact": [np.nan, error, np.nan]})
    verdict = cost_report.accuracy_verdict(table)
    assert verdict.passed is passed and f"paper gradient {error:.1e} {'≤' if passed else '>'} 1e-05" in verdict.reason
