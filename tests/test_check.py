"""``python -m snapcheck.check``: exit 0 within the bound, 1 above it, 2 on bad input; the verdict says what decided."""

from __future__ import annotations

import json
import shutil

import pandas as pd
import pytest

from snapcheck import check
from snapcheck.data.selection import stratified_subset
from snapcheck.gradients.backend import NumpyBackend
from snapcheck.gradients.reference import Reference
from snapcheck.models.potentials import LinearSnapPotential
from snapcheck.runtime.cli import run


def run_check(*arguments):
    with pytest.raises(SystemExit) as exit_:
        run(check.main, [*arguments])
    return exit_.value.code


def test_passes_on_ta06a_with_automatic_epsilon(tmp_path, capsys, ta_configurations, ta06a):
    assert run_check("--configs", "12", "--jobs", "2", "--out-dir", str(tmp_path)) == 0
    output = capsys.readouterr().out
    assert "(selected by the proxy)" in output
    assert output.splitlines()[-1].startswith(
        "PASS: Err[∇̃L] of all 9 measurable configurations "
    )  # 3 are perfect crystals
    table = pd.read_csv(tmp_path / "reports" / "check.csv")
    assert table.loc[table["group"] == "all", "err_grad"].item() <= 1e-7
    # the ε that the one sweep selects is the one the Reference picks by the same proxy and rule
    with LinearSnapPotential(ta06a) as potential:
        expected = Reference(NumpyBackend(potential), stratified_subset(ta_configurations, 12)).choose().epsilon
    assert table["epsilon"].unique().tolist() == [expected]
    log = json.loads((tmp_path / "reports" / "check_run.json").read_text())
    assert log["executor"]["kind"] == "process-pool" and log["chunks_computed"] == 12


def test_fails_with_exit_1_above_the_bound(tmp_path, capsys):
    assert (
        run_check(
            "--model",
            "untrained",
            "--seed",
            "3",
            "--configs",
            "12",
            "--epsilon",
            "1e-2",
            "--max-error",
            "1e-7",
            "--jobs",
            "1",
            "--out-dir",
            str(tmp_path),
        )
        == 1
    )
    verdict = capsys.readouterr().out.splitlines()[-1]
    assert verdict.startswith("FAIL: Err[∇̃L] of all ") and "> 1e-07 (--max-error)" in verdict


def test_a_fitted_snapcoeff_file_is_a_model(tmp_path, data_root, capsys):
    fitted = data_root / "fitsnap_20May21_Standard"
    for name in ("Ta_pot.snapcoeff", "Ta_pot.snapparam"):
        shutil.copy(fitted / name, tmp_path / name)
    assert (
        run_check(
            "--model",
            str(tmp_path / "Ta_pot.snapcoeff"),
            "--epsilon",
            "1e-5",
            "--configs",
            "12",
            "--jobs",
            "1",
            "--out-dir",
            str(tmp_path),
        )
        == 0
    )
    assert "model Ta_pot" in capsys.readouterr().out


def test_bad_input_exits_2_with_a_message(tmp_path, capsys):
    assert run_check("--model", str(tmp_path / "missing.snapcoeff"), "--out-dir", str(tmp_path)) == 2
    assert (
        "missing.snapcoeff: not a model name (trained, untrained, fitted) nor an existing .snapcoeff file"
        in capsys.readouterr().err
    )
    assert run_check("--epsilon", "zero", "--out-dir", str(tmp_path)) == 2


def test_the_verdict_names_the_error_that_decides_and_the_groups_above_the_bound(tmp_path, capsys):
    """By default the whole subset decides and the groups above --max-error are named as not deciding;
    --verdict-on worst-group makes the worst of them decide."""
    arguments = [
        "--configs",
        "24",
        "--epsilon",
        "1e-5",
        "--max-error",
        "1e-8",
        "--jobs",
        "1",
        "--out-dir",
        str(tmp_path),
    ]
    assert run_check(*arguments) == 0
    output = capsys.readouterr().out
    table = pd.read_csv(tmp_path / "reports" / "check.csv").set_index("group")
    above = table[(table.index != "all") & (table["err_grad"] > 1e-8)]
    assert table.loc["all", "err_grad"] <= 1e-8 and len(above), "the subset must have a group above the bound"
    verdict = output.splitlines()[-1]
    assert verdict.startswith("PASS: Err[∇̃L] of all ") and "groups above the bound, not deciding: " in verdict
    assert all(group in verdict for group in above.index) and (~above["within_max_error"]).all()
    assert run_check(*arguments, "--verdict-on", "worst-group") == 1
    worst = above["err_grad"].idxmax()
    assert capsys.readouterr().out.splitlines()[-1].startswith(f"FAIL: Err[∇̃L] of the worst group, {worst}, ")


def test_the_default_subset_takes_a_smaller_dataset_whole(tmp_path, data_root, capsys):
    """--configs defaults to 24, or all of a dataset of 6; a --configs the dataset cannot meet stays bad input."""
    for group in ("Displaced_BCC", "Liquid", "Surface"):
        (tmp_path / "data" / group).mkdir(parents=True)
        for source in sorted((data_root / "JSON" / group).glob("*.json"))[:2]:
            shutil.copy(source, tmp_path / "data" / group / source.name)
    data = ["--data", str(tmp_path / "data"), "--epsilon", "1e-5", "--jobs", "1", "--out-dir", str(tmp_path)]
    assert run_check(*data) == 0
    assert "model trained, 6 configurations" in capsys.readouterr().out
    assert run_check(*data, "--configs", "7") == 2
    assert "--configs 7: the dataset holds only 6 configurations" in capsys.readouterr().err
