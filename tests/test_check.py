"""``python -m snapcheck.check``: exit 0 within the bound, 1 above it, 2 on bad input."""

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
    assert "(selected by the proxy)" in output and "PASS: Err[∇̃L] = " in output
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
    assert "FAIL: Err[∇̃L] = " in capsys.readouterr().out


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
