"""The fig1/fig2/figures commands end to end on a subset: files, columns, exit codes."""

from __future__ import annotations

import pandas as pd
import pytest

from snapcheck import fig1, fig2, figures
from snapcheck.runtime.cli import run


def test_fig1_writes_its_report_and_figures(tmp_path, capsys):
    assert fig1.main(["--configs", "12", "--epsilons", "1e-7:1e-3:5", "--jobs", "2", "--out-dir", str(tmp_path)]) == 0
    table = pd.read_csv(tmp_path / "reports" / "fig1.csv")
    assert {"model", "epsilon", "err_grad", "err_loss"} <= set(table.columns)
    assert set(table["model"]) == {"trained", "untrained"}
    assert len(table) == 2 * 5
    assert (table["err_grad"] < 1e-6).any()
    groups = pd.read_csv(tmp_path / "reports" / "fig1_groups.csv")
    assert groups["group"].nunique() == 12
    for name in ("fig1.png", "fig1.pdf"):
        assert (tmp_path / "figures" / name).stat().st_size > 10_000
    summary = capsys.readouterr().out
    assert "best ε" in summary and "untrained" in summary


def test_fig2_uses_the_fixed_g0(tmp_path):
    assert (
        fig2.main(["--configs", "12", "--epsilons", "1e-5", "--g0", "2.5", "--jobs", "1", "--out-dir", str(tmp_path)])
        == 0
    )
    table = pd.read_csv(tmp_path / "reports" / "fig2.csv")
    assert (table["g0_mode"] == "fixed").all()
    assert (table["g0_eV_per_A"] == 2.5).all()


def test_figures_adds_the_precision_study(tmp_path):
    assert figures.main(["--configs", "12", "--epsilons", "1e-5,1e-2", "--jobs", "2", "--out-dir", str(tmp_path)]) == 0
    table = pd.read_csv(tmp_path / "reports" / "fig1.csv")
    assert set(table["precision"]) == {"float64", "float32"}
    assert (tmp_path / "figures" / "fig1_precision.png").is_file()
    assert (tmp_path / "reports" / "fig2.csv").is_file()


def test_missing_data_folder_exits_2_with_a_clear_message(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_:
        run(fig1.main, ["--data", str(tmp_path / "missing"), "--out-dir", str(tmp_path)])
    assert exit_.value.code == 2
    assert f"{tmp_path / 'missing'}: no such dataset folder" in capsys.readouterr().err
    assert not (tmp_path / "reports").exists()


def test_bad_epsilon_grid_is_a_usage_error(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_:
        fig1.main(["--epsilons", "0,1e-5", "--out-dir", str(tmp_path)])
    assert exit_.value.code == 2
    assert "argument --epsilons: every ε must be a positive number" in capsys.readouterr().err


def test_the_fitted_model_is_a_third_option(tmp_path, capsys):
    assert (
        fig1.main(
            [
                "--models",
                "trained,fitted",
                "--configs",
                "12",
                "--epsilons",
                "1e-5",
                "--jobs",
                "1",
                "--out-dir",
                str(tmp_path),
            ]
        )
        == 0
    )
    table = pd.read_csv(tmp_path / "reports" / "fig1.csv")
    assert list(table["model"]) == ["trained", "fitted"]
    assert (table["err_grad"] < 1e-7).all()
    assert "fitted (snapcheck's FitSNAP-style fit with Ta-example.in)" in capsys.readouterr().out


def test_an_unknown_model_is_bad_usage(capsys):
    with pytest.raises(SystemExit) as exit_:
        run(fig1.main, ["--models", "trained,bogus"])
    assert exit_.value.code == 2
    assert (
        "model bogus: not a model name (trained, untrained, fitted) nor an existing .snapcoeff file"
        in capsys.readouterr().err
    )
