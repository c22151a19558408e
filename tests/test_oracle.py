"""Golden reference export and candidate comparison, end to end through the command."""

from __future__ import annotations

import json
import socket

import numpy as np
import pytest

from snapcheck import oracle
from snapcheck.data.selection import stratified_subset
from snapcheck.descriptors import SnapEngine
from snapcheck.models.linear_snap import LAMMPS_POTENTIALS
from snapcheck.runtime.cli import run
from snapcheck.runtime.flag_types import DATASET_LOSS
from snapcheck.studies.golden import build_reference
from snapcheck.studies.loss_choice import choose_loss


def run_oracle(*arguments):
    with pytest.raises(SystemExit) as exit_:
        run(oracle.main, [*arguments])
    return exit_.value.code


def compare_force_loss(reference, candidate, out_dir):
    """``oracle compare`` of a candidate of the paper's force loss (the format to date: no ``loss_terms``)."""
    return run_oracle("compare", str(reference), str(candidate), "--loss", "forces", "--out-dir", str(out_dir))


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    folder = tmp_path_factory.mktemp("oracle")
    path = folder / "ta06a.npz"
    assert (
        run_oracle(
            "export",
            "--model",
            "trained",
            "--configs",
            "24",
            "--jobs",
            "2",
            "--out",
            str(path),
            "--out-dir",
            str(folder),
        )
        == 0
    )
    return path


def test_the_export_over_two_processes_equals_a_serial_build_bit_for_bit(reference, ta_configurations, ta06a):
    model_files = [LAMMPS_POTENTIALS / "Ta06A.snapcoeff", LAMMPS_POTENTIALS / "Ta06A.snapparam"]
    subset = stratified_subset(ta_configurations, 24)
    loss = choose_loss(DATASET_LOSS, data=None, fit_input=None, configurations=subset)
    serial = build_reference(ta06a, subset, model_files, loss=loss, progress=False)
    with np.load(reference, allow_pickle=False) as archive:
        assert sorted(archive.files) == sorted(serial)
        for key, value in serial.items():
            np.testing.assert_array_equal(archive[key], value, err_msg=key)
    log = json.loads((reference.parent / "reports" / "oracle_export_run.json").read_text())
    assert log["executor"] == {
        "kind": "process-pool",
        "processes": 2,
        "worker_processes": 1,
        "host": socket.gethostname(),
    }
    assert log["chunks_computed"] == log["chunks"] and sum(task["configurations"] for task in log["tasks"]) == 24
    assert not (reference.parent / "partials").exists()  # deleted once the run completed


def test_the_export_is_self_consistent_and_readable_by_numpy_alone(reference, ta_configurations, ta06a):
    with np.load(reference, allow_pickle=False) as archive:
        data = {key: archive[key] for key in archive.files}
    metadata = json.loads(data["metadata_json"].item())
    assert metadata["snap_parameters"]["twojmax"] == 6 and metadata["units"]["gradient"] == "eV/angstrom^2"
    assert len(metadata["input_sha256"]) == 24 + 2 + 1  # the configurations, Ta06A's two files, the FitSNAP input
    offsets = data["atom_offsets"]
    for k in range(len(data["names"])):
        atoms = slice(offsets[k], offsets[k + 1])
        g = data["force_errors"][atoms]
        np.testing.assert_allclose(
            g, data["predicted_forces"][atoms] - data["reference_forces"][atoms], rtol=0, atol=1e-12
        )
        assert data["loss"][k] == pytest.approx(0.5 * np.sum(g * g), rel=1e-12)
        # ∇θL = A_fᵀ g, recomputed from the exported A_f alone (β₀ component 0)
        np.testing.assert_allclose(
            data["gradient"][k, 1:],
            np.einsum("iak,ia->k", data["force_rows"][atoms], g),
            rtol=1e-12,
            atol=1e-12 * np.abs(data["gradient"][k]).max(),
        )
    configuration = next(c for c in ta_configurations if c.label == data["names"][5])
    with SnapEngine(configuration, ta06a.parameters) as engine:
        np.testing.assert_array_equal(data["sum_b"][5], engine.evaluate().sum_b.ravel())


def write_candidate(path, names, loss, gradient):
    np.savez(path, names=names, loss=loss, gradient=gradient)
    return path


def test_a_faithful_candidate_passes(reference, tmp_path, capsys):
    with np.load(reference) as data:
        candidate = write_candidate(
            tmp_path / "ok.npz",
            data["names"][::-1],
            data["loss"][::-1] * (1 + 1e-10),
            data["gradient"][::-1] * (1 + 1e-10),
        )
    assert compare_force_loss(reference, candidate, tmp_path) == 0
    verdict = capsys.readouterr().out.splitlines()[-1]
    assert verdict.startswith("PASS: Err[∇θL] = ") and "both ≤ 1e-06 (--rtol); worst configuration " in verdict
    assert (tmp_path / "reports" / "oracle_compare.csv").is_file()


@pytest.mark.parametrize(
    ("bug", "likely"),
    [
        (lambda g, n: 0 * g, "all zero"),
        (lambda g, n: -g, "a sign error (factor −1)"),
        (lambda g, n: g / (3 * n[:, None]), "a factor 1/(3N) per configuration: a mean over each configuration's 3N"),
    ],
    ids=["zero", "sign", "mean-over-components"],
)
def test_a_buggy_candidate_fails_with_its_likely_bug(reference, tmp_path, capsys, bug, likely):
    with np.load(reference) as data:
        candidate = write_candidate(
            tmp_path / "bad.npz", data["names"], data["loss"], bug(data["gradient"], data["n_atoms"])
        )
    assert compare_force_loss(reference, candidate, tmp_path) == 1
    output = capsys.readouterr().out
    assert "likely bug: the gradient" in output and likely in output
    assert output.splitlines()[-1].startswith("FAIL: Err[∇θL] = ")


def test_a_candidate_with_unknown_configurations_is_bad_input(reference, tmp_path, capsys):
    candidate = write_candidate(tmp_path / "alien.npz", np.array(["Nowhere/x"]), np.zeros(1), np.zeros((1, 31)))
    assert compare_force_loss(reference, candidate, tmp_path) == 2
    assert "configurations ['Nowhere/x'] are not in the reference" in capsys.readouterr().err


def test_the_fitted_model_exports_its_own_coefficients(tmp_path, ta_configurations, data_root):
    from snapcheck.models import ModelRequest, load_model

    path = tmp_path / "fitted.npz"
    assert (
        run_oracle("export", "--model", "fitted", "--configs", "3", "--out", str(path), "--out-dir", str(tmp_path)) == 0
    )
    with np.load(path) as data:
        np.testing.assert_array_equal(data["theta"], load_model("fitted", ModelRequest(data=data_root)).model.theta)
        metadata = json.loads(str(data["metadata_json"]))
    assert metadata["model"] == "fitted"
    assert any(path.endswith("Ta-example.in") for path in metadata["input_sha256"])


def test_a_candidate_with_nan_or_inf_fails_naming_configurations_and_parameters(reference, tmp_path, capsys):
    with np.load(reference) as data:
        names, loss, gradient = data["names"], data["loss"].copy(), data["gradient"].copy()
    gradient[3, [2, 7]] = np.nan
    gradient[5, 0] = np.inf
    loss[5] = np.nan
    candidate = write_candidate(tmp_path / "nan.npz", names, loss, gradient)
    assert compare_force_loss(reference, candidate, tmp_path) == 1
    out, err = capsys.readouterr()  # a failed check, like any other: the verdict on stdout
    assert out.startswith(f"FAIL: {candidate}: the candidate holds NaN or inf: ") and not err
    assert f"L is not finite for 1 configurations ({names[5]})" in out
    assert f"{names[3]}: θ[2], θ[7] (nan)" in out and f"{names[5]}: θ[0] (inf)" in out


def test_the_worst_configurations_show_their_own_relative_error(reference, tmp_path, capsys):
    with np.load(reference) as data:
        gradient = data["gradient"].copy()
        gradient[4] *= 1 + 1e-3  # this configuration is off by 1e-3 of itself, whatever its share of the whole
        candidate = write_candidate(tmp_path / "one.npz", data["names"], data["loss"], gradient)
        name = str(data["names"][4])
    assert compare_force_loss(reference, candidate, tmp_path) == 1
    output = capsys.readouterr().out
    line = next(line for line in output.splitlines() if line.strip().startswith(name))
    assert "∇θL 0.001 " in line
    assert output.splitlines()[-1].endswith(f"worst configuration {name} (∇θL 0.001)")
    assert "round-off force errors" in output  # the reference's perfect crystals have no relative error of their own


def test_an_input_weighing_forces_alone_exports_its_training_loss(tmp_path, data_root, capsys):
    """The dataset's loss under an input that fits force rows alone is a training loss (the weighted force term):
    the export holds its keys, and the summary names it, not 'no FitSNAP input'."""
    forces_only = tmp_path / "forces-only.in"
    text = (data_root / "Ta-example.in").read_text()
    forces_only.write_text(text.replace("energy = 1", "energy = 0").replace("stress = 1", "stress = 0"))
    path = tmp_path / "forces-only.npz"
    arguments = ["--fit-input", str(forces_only), "--configs", "3", "--jobs", "1"]
    assert run_oracle("export", *arguments, "--out", str(path), "--out-dir", str(tmp_path)) == 0
    summary = capsys.readouterr().out
    assert "each term of the training loss over forces with the weights of forces-only.in" in summary
    assert "no FitSNAP input" not in summary
    with np.load(path) as data:
        training = json.loads(str(data["metadata_json"]))["training_loss"]
        assert training["terms"] == ["forces"] and training["weighed_terms"] == ["forces"]
        np.testing.assert_array_equal(data["training_loss"], data["force_term_loss"])
        assert (data["term_weights"][:, [0, 2]] == 0).all() and (data["term_weights"][:, 1] > 0).all()
