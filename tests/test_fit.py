"""``python -m snapcheck.fit``: the metrics files and a model file the other commands read."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from snapcheck.base.errors import EXIT_OK
from snapcheck.data.dataset_registry import REFERENCE_FIT
from snapcheck.data.snap_files import read_snapcoeff
from snapcheck.fit import main
from snapcheck.models import LinearSnap
from snapcheck.runtime.cli import run


def test_fit_writes_metrics_and_a_model_equal_to_fitsnaps(tmp_path, data_root, capsys):
    assert main(["--out-dir", str(tmp_path)]) == EXIT_OK
    reports = tmp_path / "reports"
    metrics = pd.read_csv(reports / "fit_metrics.csv")
    assert len(metrics) == 13 * 2 * 3  # (*ALL + 12 groups) × (unweighted, weighted) × (energy, force, stress)
    assert set(metrics["unit"]) == {"eV/atom", "eV/angstrom", "bar", "w·eV/atom", "w·eV/angstrom", "w·bar"}
    assert (reports / "fit_metrics.md").read_text().count("\n") == len(metrics) + 2
    model = LinearSnap.from_files(reports / "fitted.snapcoeff", reports / "fitted.snapparam")
    _, _, _, stored = read_snapcoeff(data_root / REFERENCE_FIT / "Ta_pot.snapcoeff")
    np.testing.assert_allclose(model.coefficients, stored, rtol=1e-8)
    output = capsys.readouterr().out
    assert "fitted 31 coefficients to 15213 rows of 363 configurations" in output
    assert "*ALL           Force   12672" in output


def test_a_folder_without_a_fitsnap_input_is_bad_input_naming_it(tmp_path, data_root, capsys):
    """A folder of configurations alone: exit 2, one line naming the folder and --fit-input."""
    (tmp_path / "data" / "Liquid").mkdir(parents=True)
    for source in sorted((data_root / "JSON" / "Liquid").glob("*.json"))[:2]:
        (tmp_path / "data" / "Liquid" / source.name).write_bytes(source.read_bytes())
    with pytest.raises(SystemExit) as exit_:
        run(main, ["--data", str(tmp_path / "data"), "--out-dir", str(tmp_path)])
    assert exit_.value.code == 2
    error = capsys.readouterr().err
    assert f"{tmp_path / 'data'}: no FitSNAP input (*.in) in the dataset folder; pass --fit-input FILE.in" in error
    assert "Ta-example.in" not in error and not (tmp_path / "reports").exists()
