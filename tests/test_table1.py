"""python -m snapcheck.table1 --quick: force training lowers the held-out force RMSE; outputs, resumption, bad input."""

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
    # averaging the members' predictions cannot do worse than the members do on average (the RMSE is convex)
    assert (summary["ensemble_average_rmse"] <= summary["mean"] * (1 + 1e-12)).all()
    # the paper's gradient on the trained networks, against the exact R-op
    assert (members["gradient_error"] < 1e-7).all()
    assert (members["epochs_this_run"] == members["epochs"]).all()

    text = (reports / "table1.md").read_text()
    assert "paper, ANI-Al" in text and "| Liquid |" in text
    for (setting, quantity), row in summary.iterrows():  # the Markdown table shows what the CSV holds
        unit = row["unit"]
        assert f"| {quantity} | {row['mean']:.3g} ± {row['std']:.2g} {unit} |" in text, (setting, quantity)
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


def test_a_test_fraction_outside_0_and_1_is_bad_input(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_:
        run(table1.main, ["--quick", "--test-fraction", "1.5", "--out-dir", str(tmp_path)])
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and len(err.strip().splitlines()) == 1 and "--test-fraction" in err


def test_the_split_refuses_a_fraction_outside_0_and_1_as_bad_input(ta_configurations):
    """The library's own check, for callers that are not the command: an InputError (exit 2), not a ValueError."""
    from snapcheck.base.errors import InputError
    from snapcheck.studies.split import split_by_group

    with pytest.raises(InputError, match="--test-fraction 1.5: the held-out fraction must be between 0 and 1"):
        split_by_group(ta_configurations, 1.5, seed=0)
