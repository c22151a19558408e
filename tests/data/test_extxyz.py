"""The extxyz copy of the Ta data (ta-xyz), read with ASE: counts, FitSNAP's stored descriptor matrix, and the
same L and ∇θL as the JSON copy; a plain folder of extxyz files as --data."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from snapcheck.base.errors import InputError
from snapcheck.data import load_configurations
from snapcheck.data.datasets import resolve_dataset
from snapcheck.data.extxyz import read_extxyz
from snapcheck.data.selection import stratified_subset
from snapcheck.descriptors.engine import SnapEngine
from snapcheck.models.linear_fit import configuration_rows
from snapcheck.models.registry import ModelRequest, load_model


@pytest.fixture(scope="module")
def xyz_dataset(shared_datasets):
    return resolve_dataset(shared_datasets / "ta_xyz")


@pytest.fixture(scope="module")
def xyz_configurations(shared_datasets):
    return load_configurations(shared_datasets / "ta_xyz")


def test_twelve_files_363_frames_grouped_by_file(xyz_dataset, xyz_configurations):
    assert xyz_dataset.scraper == "xyz" and xyz_dataset.spec.name == "ta-xyz"
    assert len(xyz_configurations) == 363 and sum(c.n_atoms for c in xyz_configurations) == 4224
    assert sorted({c.group for c in xyz_configurations}) == sorted(
        p.stem for p in xyz_dataset.configurations.glob("*.xyz")
    )
    assert all(c.stress is not None for c in xyz_configurations)


def _descriptor_rows(dataset, configurations, chosen):
    """snapcheck's rows of the ``chosen`` configurations and the same rows of FitSNAP's Descriptors.npy, which
    holds all energy rows, then all force rows, then all stress rows (LAMMPS frame), in dataset order."""
    fit_input = dataset.read_fit_input()
    stored = np.load(dataset.reference_fit / "Descriptors.npy")
    n_atoms = np.array([c.n_atoms for c in configurations])
    atom_offsets = np.concatenate([[0], np.cumsum(n_atoms)])
    force_start, stress_start = len(configurations), len(configurations) + 3 * int(n_atoms.sum())
    assert stored.shape == (stress_start + 6 * len(configurations), 31) == (15213, 31)
    ours, theirs = {"Energy": [], "Force": [], "Stress": []}, {"Energy": [], "Force": [], "Stress": []}
    for k in chosen:
        with SnapEngine(configurations[k], fit_input.parameters, fit_input.reference) as engine:
            part = configuration_rows(configurations[k], engine.evaluate(), fit_input)
        for kind in ours:
            ours[kind].append(part.matrix[(part.index["row_type"] == kind).to_numpy()])
        theirs["Energy"].append(stored[k : k + 1])
        theirs["Force"].append(stored[force_start + 3 * atom_offsets[k] : force_start + 3 * atom_offsets[k + 1]])
        theirs["Stress"].append(stored[stress_start + 6 * k : stress_start + 6 * (k + 1)])
    return ({kind: np.concatenate(rows) for kind, rows in table.items()} for table in (ours, theirs))


def _assert_rows_match(ours, stored):
    for kind in ("Energy", "Force"):
        np.testing.assert_allclose(ours[kind], stored[kind], rtol=0, atol=1e-10)
    # stress rows are ~1e9 bar: the same to 1e-10 relative
    np.testing.assert_allclose(
        ours["Stress"], stored["Stress"], rtol=1e-10, atol=1e-10 * np.abs(stored["Stress"]).max()
    )


def test_rows_match_fitsnaps_stored_descriptor_matrix(xyz_dataset, xyz_configurations):
    """One configuration per group (every kind of structure) against its rows of Descriptors.npy."""
    position = {c.label: k for k, c in enumerate(xyz_configurations)}
    chosen = [position[c.label] for c in stratified_subset(xyz_configurations, 12)]
    _assert_rows_match(*_descriptor_rows(xyz_dataset, xyz_configurations, chosen))


@pytest.mark.slow
def test_rows_of_every_configuration_match_fitsnaps_stored_descriptor_matrix(xyz_dataset, xyz_configurations):
    _assert_rows_match(*_descriptor_rows(xyz_dataset, xyz_configurations, range(len(xyz_configurations))))


def _totals(configurations, model):
    from snapcheck.models.potentials import LinearSnapPotential

    loss, gradient = 0.0, np.zeros(model.n_parameters)
    with LinearSnapPotential(model) as potential:
        for configuration in configurations:
            result = model.force_loss_from(configuration, potential.cache.summed(configuration))
            loss += result.loss
            gradient += result.gradient
    return loss, gradient


def _json_twins(xyz_configurations, ta_configurations):
    """For each extxyz frame, the JSON configuration with the same group, energy and positions (bit for bit)."""
    by_key = {(c.group, c.energy, c.positions.tobytes()): c for c in ta_configurations}
    return [by_key.get((c.group, c.energy, c.positions.tobytes())) for c in xyz_configurations]


def test_json_and_extxyz_copies_are_bit_identical_frame_by_frame(xyz_configurations, ta_configurations):
    """All 363 frames: positions, cell, species, energy, forces and stress equal exactly (file order differs)."""
    twins = _json_twins(xyz_configurations, ta_configurations)
    assert len({id(t) for t in twins if t is not None}) == len(twins) == len(ta_configurations) == 363
    for frame, twin in zip(xyz_configurations, twins, strict=True):
        assert frame.species == twin.species, frame.label
        for field in ("positions", "cell", "forces", "stress"):
            np.testing.assert_array_equal(getattr(frame, field), getattr(twin, field), err_msg=frame.label)


@pytest.mark.parametrize("count", [24, pytest.param(None, marks=pytest.mark.slow)])
def test_json_and_extxyz_copies_give_the_same_loss_and_gradient(
    xyz_configurations, ta_configurations, shared_datasets, count
):
    """Σ L and Σ ∇θL with ta-xyz's stored fit: a stratified 24 by default, all 363 with ``-m slow``."""
    model = load_model("trained", ModelRequest(data=shared_datasets / "ta_xyz")).model
    frames = stratified_subset(xyz_configurations, count)
    per_copy = [_totals(c, model) for c in (frames, _json_twins(frames, ta_configurations))]
    assert per_copy[0][0] == pytest.approx(per_copy[1][0], rel=1e-12)
    np.testing.assert_allclose(per_copy[0][1], per_copy[1][1], rtol=1e-10, atol=1e-10 * np.abs(per_copy[1][1]).max())
    assert per_copy[0][0] > 1.0  # the subset has force errors well above round-off


def test_a_plain_folder_of_extxyz_files(tmp_path, shared_datasets):
    for path in sorted((shared_datasets / "ta_xyz" / "XYZ").glob("*.xyz"))[:3]:
        shutil.copy(path, tmp_path / path.name)
    dataset = resolve_dataset(tmp_path)
    assert dataset.spec is None and dataset.scraper == "xyz"
    configurations = load_configurations(tmp_path)
    assert len({c.group for c in configurations}) == 3
    assert load_model("trained", ModelRequest(data=tmp_path)).description == "trained (Ta06A)"


def test_a_frame_without_forces_names_file_and_frame(tmp_path):
    path = tmp_path / "bad.xyz"
    path.write_text('1\nLattice="3 0 0 0 3 0 0 0 3" Properties=species:S:1:pos:R:3 energy=-1.0 pbc="T T T"\nTa 0 0 0\n')
    with pytest.raises(InputError, match=r"bad.xyz.*bad:0.*no DFT forces"):
        read_extxyz(path)
