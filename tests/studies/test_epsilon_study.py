"""The fig1/fig2/figures commands end to end on a subset: files, columns, exit codes."""

from __future__ import annotations

import numpy as np
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


# -- the training loss (--loss): its own files, the proxy D̃, the paper's outputs untouched ----------------------
def test_the_default_fig1_is_the_papers_force_loss_sweep_under_the_papers_names(tmp_path, ta_configurations):
    """Without --loss, fig1 writes the paper's files, holding the force-loss sweep of the library number for number."""
    from snapcheck.data.selection import stratified_subset
    from snapcheck.models import LinearSnap
    from snapcheck.studies.sweep import SweepSpec, run_sweep
    from snapcheck.studies.sweep_errors import error_table

    arguments = ["--configs", "6", "--epsilons", "1e-5,1e-3", "--jobs", "1", "--out-dir", str(tmp_path)]
    assert fig1.main(arguments) == 0
    names = {p.name for p in (tmp_path / "reports").iterdir()} | {p.name for p in (tmp_path / "figures").iterdir()}
    expected = {"fig1.csv", "fig1_groups.csv", "fig1_epsilon_rules.csv", "fig1_run.json", "fig1.png", "fig1.pdf"}
    assert names == expected
    configurations = stratified_subset(ta_configurations, 6)
    trained = LinearSnap.ta06a()
    spec = SweepSpec(models=(trained, LinearSnap.kaiming(trained.parameters, seed=0)), epsilons=(1e-5, 1e-3))
    table = error_table(configurations, run_sweep(configurations, spec, jobs=1, progress=False), spec)
    whole = table[table["group"] == "all"].drop(columns="group").reset_index(drop=True)
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "reports" / "fig1.csv"), whole, check_exact=True)


def test_fig1_loss_all_writes_its_own_files_and_reaches_1e_8(tmp_path, capsys):
    """The whole loss under Ta-example.in's weights, float64 and emulated float32, under names that carry ``all``."""
    arguments = ["--loss", "all", "--configs", "12", "--epsilons", "1e-6:1e-4:5", "--precision", "float32"]
    assert fig1.main([*arguments, "--jobs", "1", "--out-dir", str(tmp_path)]) == 0
    reports, figures_dir = tmp_path / "reports", tmp_path / "figures"
    assert {p.name for p in reports.iterdir()} == {
        "fig1_all.csv",
        "fig1_all_groups.csv",
        "fig1_all_epsilon_rules.csv",
        "fig1_all_run.json",
    }
    assert {p.name for p in figures_dir.iterdir()} == {
        "fig1_all.png",
        "fig1_all.pdf",
        "fig1_all_precision.png",
        "fig1_all_precision.pdf",
    }
    table = pd.read_csv(reports / "fig1_all.csv")
    best = table[table["precision"] == "float64"].groupby("model")["err_grad"].min()
    assert set(best.index) == {"trained", "untrained"} and (best <= 1e-8).all(), best
    assert table.loc[table["precision"] == "float32", "err_grad"].between(1e-9, 1).all()  # float32 has its floor
    summary = capsys.readouterr().out
    assert "loss: the training loss over energy, forces, stress with the weights of Ta-example.in" in summary
    assert "fig1_all: Fig. 1: η = ε·a₀/g₀ with g₀ the path's largest speed" in summary
    assert "proxy Err[D̃] is smallest" in summary and "Err[L̃]" not in summary


def test_fig2_with_the_stress_loss_takes_no_fixed_g0_step_beyond_fig1s_largest(tmp_path):
    """Under a fixed g₀ of 1 Å/eV the untrained model's path (up to ~1e3 Å/eV on Ta) would move atoms by ~100 Å at
    ε = 0.1 and collapse cells: no step beyond Fig. 1's largest (0.1 Å) is taken (NaN); at ε = 1e-5 the trained
    model's steps are small."""
    arguments = ["--loss", "stress", "--configs", "6", "--epsilons", "1e-5,1e-1", "--jobs", "1"]
    assert fig2.main([*arguments, "--out-dir", str(tmp_path)]) == 0
    assert (
        not (tmp_path / "reports" / "fig2.csv").exists() and (tmp_path / "reports" / "fig2_stress_run.json").is_file()
    )
    table = pd.read_csv(tmp_path / "reports" / "fig2_stress.csv").set_index(["model", "epsilon"])
    assert (table["g0_A_per_eV"] == 1.0).all()
    assert np.isnan(table.loc[("untrained", 0.1), "err_grad"]) and np.isnan(table.loc[("untrained", 0.1), "err_loss"])
    assert table.loc[("trained", 1e-5), "err_grad"] < 1e-6


def test_a_training_loss_without_weights_is_bad_input(tmp_path, data_root, capsys):
    """A folder of configurations with no FitSNAP input: --loss stress has no weights; exit 2, one line."""
    (tmp_path / "data" / "Liquid").mkdir(parents=True)
    for source in sorted((data_root / "JSON" / "Liquid").glob("*.json"))[:2]:
        (tmp_path / "data" / "Liquid" / source.name).write_bytes(source.read_bytes())
    with pytest.raises(SystemExit) as exit_:
        run(fig1.main, ["--data", str(tmp_path / "data"), "--loss", "stress", "--out-dir", str(tmp_path)])
    assert exit_.value.code == 2
    assert "no FitSNAP input (*.in) in the dataset folder; pass --fit-input FILE.in" in capsys.readouterr().err


def test_an_input_weighing_forces_alone_is_a_training_loss_under_its_own_names(tmp_path, data_root, capsys):
    """``--loss dataset`` with an input whose [CALCULATOR] fits force rows alone is FitSNAP's weighted force term
    (∇θL in 1/eV, proxy D̃), labelled ``forces``: it never writes the paper's fig1.csv nor names Eq. 14's L̃."""
    from snapcheck.data.fitsnap_input import read_fitsnap_input

    forces_only = tmp_path / "forces-only.in"
    text = (data_root / "Ta-example.in").read_text()
    forces_only.write_text(text.replace("energy = 1", "energy = 0").replace("stress = 1", "stress = 0"))
    assert read_fitsnap_input(forces_only).row_types == ("force",)
    arguments = ["--loss", "dataset", "--fit-input", str(forces_only), "--configs", "6", "--epsilons", "1e-5"]
    assert fig1.main([*arguments, "--jobs", "1", "--out-dir", str(tmp_path)]) == 0
    assert {p.name for p in (tmp_path / "reports").iterdir()} == {
        "fig1_forces.csv",
        "fig1_forces_groups.csv",
        "fig1_forces_epsilon_rules.csv",
        "fig1_forces_run.json",
    }
    assert {p.name for p in (tmp_path / "figures").iterdir()} == {"fig1_forces.png", "fig1_forces.pdf"}
    summary = capsys.readouterr().out
    assert "loss: the training loss over forces with the weights of forces-only.in; L dimensionless" in summary
    assert "proxy Err[D̃]" in summary and "Err[L̃]" not in summary


def test_data_whose_every_force_error_is_round_off_is_swept_without_rule_rows(tmp_path, data_root, capsys):
    """Perfect BCC crystals alone: every force error is round-off for both models, so no ε rule can be judged;
    fig1 still writes its files (no rows in fig1_epsilon_rules.csv) and says why, exit 0."""
    (tmp_path / "data" / "Volume_BCC").mkdir(parents=True)
    for source in sorted((data_root / "JSON" / "Volume_BCC").glob("*.json"))[:2]:
        (tmp_path / "data" / "Volume_BCC" / source.name).write_bytes(source.read_bytes())
    with pytest.raises(SystemExit) as exit_:
        run(
            fig1.main,
            ["--data", str(tmp_path / "data"), "--epsilons", "1e-5,1e-3", "--jobs", "1", "--out-dir", str(tmp_path)],
        )
    assert exit_.value.code == 0
    assert "not measurable: trained, untrained (every force error of every configuration below 1e-08 eV/Å" in (
        capsys.readouterr().out
    )
    rules = pd.read_csv(tmp_path / "reports" / "fig1_epsilon_rules.csv")
    assert rules.empty and {"rule", "median_ratio"} <= set(rules.columns)
    assert len(pd.read_csv(tmp_path / "reports" / "fig1.csv")) == 2 * 2
