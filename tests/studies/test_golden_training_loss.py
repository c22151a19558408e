"""The oracle file's stress and whole training loss, checked by independent paths, and ``oracle compare --loss``.

``virial_pressure`` against LAMMPS's own ``pair_style hybrid/overlay zbl … snap`` with ``compute pressure NULL
virial`` (Ta, and InP's sheared cells, whose LAMMPS frame is rotated from the dataset's); the exported loss and
gradient of each term, and of the whole loss, against the loss written out from that pair style's Ê, f̂ and P̂ at
θ ± h·u (the loss is quadratic in θ, so the central difference is exact up to round-off); compare passes a
correct whole-loss candidate, names a planted sign or factor in the stress term, and refuses a loss that is not
the candidate's (exit 2).
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from snapcheck import oracle
from snapcheck.data import load_configurations, stratified_subset
from snapcheck.data.locations import resolve_dataset
from snapcheck.data.units import voigt_from_tensor
from snapcheck.descriptors.cell import lammps_rotation
from snapcheck.models.registry import ModelRequest, load_model
from snapcheck.runtime.cli import run
from snapcheck.runtime.flag_types import DATASET_LOSS
from snapcheck.studies.golden import build_reference, write_npz
from snapcheck.studies.loss_choice import choose_loss
from snapcheck.studies.sweep import ROUNDOFF_FORCE_ERROR

ORACLE_DOCS = Path(__file__).resolve().parents[2] / "docs" / "oracle.md"
#: Largest max|P̂ − P_LAMMPS| / max|P_LAMMPS| of one configuration (as tests/models/test_stress.py).
PRESSURE_TOLERANCE = 1e-10
#: Largest relative difference between an exported term's ∇θL·u and the central difference of the loss written
#: out from LAMMPS's pair style (measured: 2.8e-10 on 24 Ta configurations; LAMMPS and compute snap differ by ~1e-12).
DIRECTIONAL_TOLERANCE = 1e-8


def run_oracle(*arguments: str) -> int:
    with pytest.raises(SystemExit) as exit_:
        run(oracle.main, list(arguments))
    return exit_.value.code


@pytest.fixture(scope="module")
def exported(tmp_path_factory, ta_configurations):
    """(the Ta06A reference file of one configuration per group, its arrays, its configurations)."""
    folder = tmp_path_factory.mktemp("whole_loss")
    path = folder / "ta-trained.npz"
    arguments = ("export", "--model", "trained", "--configs", "12", "--jobs", "1", "--out", str(path))
    assert run_oracle(*arguments, "--out-dir", str(folder)) == 0
    data = dict(np.load(path, allow_pickle=False))
    by_label = {c.label: c for c in ta_configurations}
    return path, data, [by_label[name] for name in data["names"].tolist()]


def test_virial_pressure_is_lammps_compute_pressure_of_the_model(exported, ta06a, lammps_pair_snap):
    _, data, configurations = exported
    assert json.loads(str(data["metadata_json"]))["units"]["virial_pressure"].startswith("bar")
    for k, configuration in enumerate(configurations):
        _, _, pressure = lammps_pair_snap(configuration, ta06a)
        difference = np.abs(data["virial_pressure"][k] - pressure).max() / np.abs(pressure).max()
        assert difference <= PRESSURE_TOLERANCE, f"{configuration.label}: {difference:.2e}"
        np.testing.assert_array_equal(data["reference_stress"][k], configuration.stress)


def test_virial_pressure_is_in_the_datasets_frame_for_rotated_cells(shared_datasets, lammps_pair_snap):
    """InP's Shear cells are not lower-triangular: LAMMPS works in a rotated frame, the file is in the dataset's."""
    model = load_model("trained", ModelRequest(data="inp-jpca2020")).model.symmetrized()
    configurations = load_configurations("inp-jpca2020", count=2, groups={"Shear"})
    assert all(not np.array_equal(lammps_rotation(c.cell), np.eye(3)) for c in configurations)
    data = build_reference(model, configurations, [], progress=False)
    for k, configuration in enumerate(configurations):
        _, _, pressure = lammps_pair_snap(configuration, model)
        difference = np.abs(data["virial_pressure"][k] - pressure).max() / np.abs(pressure).max()
        assert difference <= PRESSURE_TOLERANCE, f"{configuration.label}: {difference:.2e}"
        assert "training_loss" not in data  # no loss asked for: the force loss and the stress only


def losses_from_lammps(configuration, model, weights, lammps_pair_snap) -> np.ndarray:
    """L_E, L_f, L_s of FitSNAP's loss, written out from LAMMPS pair_style snap's Ê (eV), f̂ (eV/Å) and P̂ (bar);
    the stress residual in LAMMPS's frame, its six Voigt components (Ta's ESHIFT is 0)."""
    energy, forces, pressure = lammps_pair_snap(configuration, model)
    w_energy, w_force, w_virial = weights
    rotation = lammps_rotation(configuration.cell)
    stress_residual = voigt_from_tensor(rotation.T @ (pressure - configuration.stress) @ rotation)
    return np.array(
        [
            0.5 * (w_energy * (energy - configuration.energy) / configuration.n_atoms) ** 2,
            0.5 * w_force**2 * np.sum((forces - configuration.forces) ** 2),
            0.5 * w_virial**2 * np.sum(stress_residual**2),
        ]
    )


def test_each_terms_gradient_is_the_derivative_of_the_loss_from_lammps_pair_snap(
    exported, ta06a, data_root, lammps_pair_snap
):
    """Along two random directions u in θ per configuration: (L(θ + hu) − L(θ − hu))/2h = ∇θL·u for each term and
    for the whole loss, L(θ) = the exported terms, and the weights are the input's of each group.  The force term of
    a perfect crystal (force errors below 1e-8 eV/Å) is round-off on both sides: it is held to the whole loss's
    scale instead of its own."""
    _, data, configurations = exported
    fit_input = resolve_dataset(data_root).read_fit_input()
    metadata = json.loads(str(data["metadata_json"]))["training_loss"]
    assert metadata["terms"] == ["energy", "forces", "stress"] and metadata["fit_input"] == str(fit_input.path)
    rng, step = np.random.default_rng(7), 1e-3
    terms = ("energy_term", "force_term", "stress_term")
    offsets = data["atom_offsets"]
    for k, configuration in enumerate(configurations):
        group = fit_input.group_weights(configuration.group)
        weights = data["term_weights"][k]
        np.testing.assert_array_equal(weights, [group.energy, group.force, group.virial])
        errors = data["force_errors"][offsets[k] : offsets[k + 1]]
        resolved = np.array([True, np.linalg.norm(errors, axis=1).max() >= ROUNDOFF_FORCE_ERROR, True])
        at_theta = losses_from_lammps(configuration, ta06a, weights, lammps_pair_snap)
        exported_losses = np.array([data[f"{term}_loss"][k] for term in terms])
        scale = np.where(resolved, np.abs(at_theta), at_theta.sum())
        assert np.all(np.abs(exported_losses - at_theta) <= 1e-8 * scale), f"{configuration.label}: {exported_losses}"
        assert data["training_loss"][k] == pytest.approx(at_theta.sum(), rel=1e-8)
        for u in rng.normal(size=(2, ta06a.n_parameters)):
            plus, minus = (
                losses_from_lammps(
                    configuration, ta06a.with_theta(ta06a.theta + sign * step * u), weights, lammps_pair_snap
                )
                for sign in (1.0, -1.0)
            )
            difference = (plus - minus) / (2 * step)
            exact = np.array([data[f"{term}_gradient"][k] @ u for term in terms])
            error = np.abs(exact - difference) / np.where(resolved, np.abs(difference), np.abs(difference.sum()))
            assert np.all(error <= DIRECTIONAL_TOLERANCE), f"{configuration.label}: {error}"
            whole = data["training_gradient"][k] @ u
            assert whole == pytest.approx(difference.sum(), rel=DIRECTIONAL_TOLERANCE), configuration.label


def test_a_configuration_without_stress_has_no_stress_term(ta_configurations, ta06a, data_root, tmp_path, capsys):
    subset = stratified_subset(ta_configurations, 3)
    subset[1] = replace(subset[1], stress=None)
    loss = choose_loss(DATASET_LOSS, data=data_root, fit_input=None, configurations=subset)
    data = build_reference(ta06a, subset, [], loss=loss, progress=False)
    assert np.isnan(data["reference_stress"][1]).all() and not np.isnan(data["reference_stress"][[0, 2]]).any()
    assert np.isnan(data["stress_term_gradient"][1]).all() and np.isnan(data["stress_term_loss"][1])
    assert json.loads(str(data["metadata_json"]))["training_loss"]["terms"] == ["energy", "forces"]
    np.testing.assert_array_equal(data["training_gradient"], data["energy_term_gradient"] + data["force_term_gradient"])
    reference = write_npz(data, tmp_path / "reference.npz")
    candidate = write_candidate(tmp_path / "whole.npz", data, data["training_gradient"])
    assert run_oracle("compare", str(reference), str(candidate), "--loss", "all", "--out-dir", str(tmp_path)) == 2
    assert f"configuration {subset[1].label} has no stress term (stress_term_loss is NaN" in capsys.readouterr().err


# -- oracle compare --loss ---------------------------------------------------------------------------------------


def write_candidate(path, data, gradient, loss_terms="energy,forces,stress", loss=None):
    arrays = {"names": data["names"], "loss": data["training_loss"] if loss is None else loss, "gradient": gradient}
    np.savez(path, **arrays, **({"loss_terms": loss_terms} if loss_terms else {}))
    return path


def test_the_documented_whole_loss_candidate_passes(exported, tmp_path, monkeypatch, capsys):
    """docs/oracle.md's example, run as written next to the reference it names."""
    path, _, _ = exported
    text = ORACLE_DOCS.read_text()
    section = text[text.index("### Writing a whole-loss candidate") :]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "ta-trained.npz").symlink_to(path)
    exec(compile(code, str(ORACLE_DOCS), "exec"), {})
    assert run_oracle("compare", "ta-trained.npz", "my-candidate.npz", "--out-dir", str(tmp_path)) == 0
    out = capsys.readouterr().out
    assert "the training loss over energy, forces, stress with the weights of Ta-example.in" in out
    assert out.splitlines()[-1].startswith("PASS: Err[∇θL] = 0 and Err[L] = 0")
    table = pd.read_csv(tmp_path / "reports" / "oracle_compare.csv")
    assert table.loc[table["level"] == "configuration", "measurable"].all()  # the Volume groups weigh the energy
    assert run_oracle("compare", "ta-trained.npz", "my-stress.npz", "--loss", "stress", "--out-dir", ".") == 0


@pytest.mark.parametrize(
    ("factor", "named"),
    [
        (-1.0, "the stress term of the loss has a sign error (factor −1)"),
        (0.5, "the stress term of the loss has a factor 1/2"),
    ],
    ids=["sign", "half"],
)
def test_a_planted_bug_in_the_stress_term_fails_and_is_named(exported, tmp_path, capsys, factor, named):
    path, data, _ = exported
    gradient = data["energy_term_gradient"] + data["force_term_gradient"] + factor * data["stress_term_gradient"]
    candidate = write_candidate(tmp_path / "bad.npz", data, gradient)
    assert run_oracle("compare", str(path), str(candidate), "--out-dir", str(tmp_path)) == 1
    output = capsys.readouterr().out
    assert f"likely bug: {named}" in output
    assert output.splitlines()[-1].startswith("FAIL: Err[∇θL] = ")


def test_a_loss_that_is_not_the_candidates_is_bad_input(exported, tmp_path, capsys):
    path, data, _ = exported
    force_loss = write_candidate(tmp_path / "forces.npz", data, data["gradient"], loss_terms=None, loss=data["loss"])
    assert run_oracle("compare", str(path), str(force_loss), "--out-dir", str(tmp_path)) == 2
    error = capsys.readouterr().err
    assert error.startswith(f"error: {force_loss}: loss_terms is absent, which means the paper's force loss (forces)")
    assert "but --loss dataset compares the training loss over energy, forces, stress" in error
    assert len(error.splitlines()) == 1
    whole = write_candidate(tmp_path / "whole.npz", data, data["training_gradient"])
    assert run_oracle("compare", str(path), str(whole), "--loss", "forces", "--out-dir", str(tmp_path)) == 2
    assert f"{whole}: loss_terms is 'energy,forces,stress', but --loss forces compares" in capsys.readouterr().err
    assert run_oracle("compare", str(path), str(force_loss), "--loss", "forces", "--out-dir", str(tmp_path)) == 0


def test_a_reference_without_a_training_loss_compares_the_force_loss_only(ta_configurations, ta06a, tmp_path, capsys):
    reference = write_npz(build_reference(ta06a, ta_configurations[:2], [], progress=False), tmp_path / "ref.npz")
    data = dict(np.load(reference))
    candidate = write_candidate(tmp_path / "forces.npz", data, data["gradient"], loss_terms=None, loss=data["loss"])
    assert run_oracle("compare", str(reference), str(candidate), "--out-dir", str(tmp_path)) == 0  # dataset: forces
    assert run_oracle("compare", str(reference), str(candidate), "--loss", "energy", "--out-dir", str(tmp_path)) == 2
    assert f"{reference}: --loss energy: the reference holds no training loss" in capsys.readouterr().err


@pytest.mark.parametrize("terms", [("forces",), ("stress",), ("forces", "stress"), ("energy", "forces")])
def test_oracle_compare_and_the_sweep_share_one_round_off_predicate(exported, data_root, ta06a, terms):
    """Which configurations have a relative error of their own: the same in ``oracle compare`` (from the file) as in
    the sweep (from the path); the perfect crystals are round-off under the force losses, measurable otherwise."""
    from snapcheck.studies.golden_compare import measurable_configurations
    from snapcheck.studies.sweep import PAPER_LOSS, SweepSpec, run_sweep

    _, data, configurations = exported
    fit_input = None if terms == PAPER_LOSS else resolve_dataset(data_root).read_fit_input()
    spec = SweepSpec(models=(ta06a,), epsilons=(1e-5,), loss=terms, fit_input=fit_input)
    swept = np.array([not r.roundoff[0] for r in run_sweep(configurations, spec, jobs=1, progress=False)])
    from_file = measurable_configurations(data, np.arange(len(configurations)), terms)
    np.testing.assert_array_equal(from_file, swept)
    perfect = np.array([c.group.startswith("Volume_") for c in configurations])
    assert perfect.any() and from_file[~perfect].all()
    assert not from_file[perfect].any() if terms == PAPER_LOSS else from_file[perfect].all()
