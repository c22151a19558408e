"""``python -m snapcheck.fit``: the metrics files and a model file the other commands read."""

from __future__ import annotations

import numpy as np
import pandas as pd

from snapcheck.base.errors import EXIT_OK
from snapcheck.data.dataset_registry import REFERENCE_FIT
from snapcheck.data.snap_files import read_snapcoeff
from snapcheck.fit import main
from snapcheck.models import LinearSnap


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
