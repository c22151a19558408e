"""The cost benchmark's torch parts: its torch memory tracker, the command on a tiny grid with double backpropagation.

Collected only when PyTorch is installed (``tests/conftest.py``); CI installs it.
"""

from __future__ import annotations

import pandas as pd
import pytest

torch = pytest.importorskip("torch", reason="the torch extra is not installed: pip install 'snapcheck[torch]'")

from snapcheck import bench  # noqa: E402
from snapcheck.studies import cost, cost_harness, cost_methods  # noqa: E402


def test_torch_tracker_follows_allocations_and_frees():
    def allocate():
        big = torch.ones(1_000_000, dtype=torch.float64)  # 8 MB
        middle = torch.ones(500_000, dtype=torch.float64)  # 4 MB: 12 MB alive
        del big
        return middle + torch.ones(250_000 * 2, dtype=torch.float64)  # 4 + 4 + 4 MB alive at once

    peak, result = cost_harness.torch_peak_bytes(allocate)
    assert 12_000_000 <= peak < 12_100_000 and result.numel() == 500_000


def test_cost_command_on_a_tiny_grid(tmp_path, capsys):
    code = bench.main(
        [
            "cost",
            "--cells",
            "2,3",
            "--widths",
            "8,16",
            "--n-width",
            "8",
            "--p-cells",
            "2",
            "--repeats",
            "1",
            "--seed",
            "3",
            "--out-dir",
            str(tmp_path),
        ]
    )
    assert code == 0
    table = pd.read_csv(tmp_path / "reports" / "cost.csv")
    expected = {
        "model",
        "n_atoms",
        "widths",
        "n_parameters",
        "method",
        "includes",
        "time_s",
        "time_ratio",
        "peak_memory_mb",
        "memory_ratio",
        "memory_tracker",
        "relative_error_vs_exact",
    }
    assert expected <= set(table.columns)
    neural = table[table["model"] == cost.NEURAL]
    # points: (16 atoms, 8x8), (16 atoms, 16x16), (54 atoms, 8x8); five methods each
    assert sorted(set(zip(neural["n_atoms"], neural["n_parameters"]))) == [
        (16, 8 * 8 + 33 * 8 + 1),
        (16, 16 * 16 + 33 * 16 + 1),
        (54, 8 * 8 + 33 * 8 + 1),
    ]
    assert len(neural) == 15 and set(neural["method"]) == {
        cost_methods.FORCES,
        cost_methods.PAPER,
        cost_methods.EXACT,
        cost_methods.TORCH_FORCES,
        cost_methods.DOUBLE_BACKPROP,
    }
    assert (table["time_s"] > 0).all() and (neural["peak_memory_mb"] > 0).all()
    assert (table.loc[table["method"] == cost_methods.FORCES, "time_ratio"] == 1).all()
    errors = table.set_index(["model", "method"])["relative_error_vs_exact"]
    assert (errors.loc[(cost.NEURAL, cost_methods.DOUBLE_BACKPROP)] < 1e-12).all()
    assert (errors.loc[(cost.NEURAL, cost_methods.PAPER)] < 1e-6).all() and (
        errors.loc[(cost.LINEAR, cost_methods.PAPER)] < 1e-6
    ).all()
    assert (tmp_path / "figures" / "cost_scaling.png").stat().st_size > 10_000
    output = capsys.readouterr().out
    assert (
        "paper gradient / double backprop at N = 54" in output and "double backprop / torch force prediction" in output
    )
