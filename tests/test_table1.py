"""python -m snapcheck.table1 --quick: force training improves the held-out force RMSE; outputs, resumption, bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from snapcheck import table1
from snapcheck.runtime.cli import run


def test_quick_table1_force_training_cuts_the_force_error_and_resumes(tmp_path, capsys):
    arguments = ["--quick", "--jobs", "2", "--out-dir", str(tmp_path)]
    assert table1.main(arguments) == 0
    reports = tmp_path / "reports"
    summary = pd.read_csv(reports / "table1.csv").set_index(["setting", "quantity"])
    members = pd.read_csv(reports / "table1_members.csv")
    assert len(members) == 8 and (summary["members"] == 4).all()

    # force training (Eq. 7 at every step) cuts the held-out force RMSE, for every member
    energy_only, with_forces = (
        members[members["setting"] == s]["force_rmse_eV_per_A"] for s in ("energy", "energy+force")
    )
    assert summary.loc[("energy+force", "Force RMSE"), "mean"] < 0.5 * summary.loc[("energy", "Force RMSE"), "mean"]
    assert with_forces.max() < energy_only.min()
    for setting, values in (("energy", energy_only), ("energy+force", with_forces)):
        assert summary.loc[(setting, "Force RMSE"), "mean"] == pytest.approx(values.mean())
        assert summary.loc[(setting, "Force RMSE"), "std"] == pytest.approx(values.std(ddof=1))
    # the paper's gradient on the trained networks, against the exact R-op
    assert (members["gradient_error"] < 1e-7).all()
    assert (members["epochs_this_run"] == members["epochs"]).all()

    text = (reports / "table1.md").read_text()
    assert "| Force RMSE |" in text and "paper, ANI-Al" in text and "| Liquid |" in text
    assert pd.read_csv(reports / "table1_split.csv")["test"].sum() == 12
    assert (tmp_path / "figures" / "table1_parity.png").stat().st_size > 20_000
    assert "Force RMSE" in capsys.readouterr().out

    # a second run finds every checkpoint complete: nothing is trained again, the numbers are the same
    assert table1.main(arguments) == 0
    again = pd.read_csv(reports / "table1_members.csv")
    assert (again["epochs_this_run"] == 0).all()
    np.testing.assert_array_equal(again["force_rmse_eV_per_A"], members["force_rmse_eV_per_A"])
    np.testing.assert_allclose(again["train_seconds"], members["train_seconds"], rtol=1e-12)


def test_missing_data_folder_exits_2(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_:
        run(table1.main, ["--quick", "--data", str(tmp_path / "missing"), "--out-dir", str(tmp_path)])
    assert exit_.value.code == 2
    assert f"{tmp_path / 'missing'}: no such dataset folder" in capsys.readouterr().err
