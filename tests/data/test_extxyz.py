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


def test_rows_match_fitsnaps_stored_descriptor_matrix(xyz_dataset, xyz_configurations):
    """FitSNAP's Descriptors.npy: all energy rows, then all force rows, then all stress rows (LAMMPS frame)."""
    fit_input = xyz_dataset.read_fit_input()
    stored = np.load(xyz_dataset.reference_fit / "Descriptors.npy")
    parts = []
    for configuration in xyz_configurations:
        with SnapEngine(configuration, fit_input.parameters, fit_input.reference) as engine:
            parts.append(configuration_rows(configuration, engine.evaluate(), fit_input))
    by_type = {kind: [] for kind in ("Energy", "Force", "Stress")}
    for part in parts:
        for kind in by_type:
            by_type[kind].append(part.matrix[(part.index["row_type"] == kind).to_numpy()])
    ours = np.concatenate([np.concatenate(by_type[kind]) for kind in ("Energy", "Force", "Stress")])
    assert ours.shape == stored.shape == (15213, 31)
    energy_force = 363 + 3 * 4224
    np.testing.assert_allclose(ours[:energy_force], stored[:energy_force], rtol=0, atol=1e-10)
    # stress rows are ~1e9 bar: the same to 1e-10 relative
    np.testing.assert_allclose(
        ours[energy_force:], stored[energy_force:], rtol=1e-10, atol=1e-10 * np.abs(stored).max()
    )


def _totals(configurations, model, data):
    from snapcheck.models.potentials import LinearSnapPotential

    loss, gradient = 0.0, np.zeros(model.n_parameters)
    with LinearSnapPotential(model) as potential:
        for configuration in configurations:
            result = model.force_loss(configuration, potential.cache.summed(configuration))
            loss += result.loss
            gradient += result.gradient
    return loss, gradient


def test_json_and_extxyz_copies_give_the_same_loss_and_gradient(xyz_configurations, ta_configurations, shared_datasets):
    model = load_model("trained", ModelRequest(data=shared_datasets / "ta_xyz")).model
    per_copy = [_totals(c, model, None) for c in (xyz_configurations, ta_configurations)]
    assert per_copy[0][0] == pytest.approx(per_copy[1][0], rel=1e-12)
    np.testing.assert_allclose(per_copy[0][1], per_copy[1][1], rtol=1e-10, atol=1e-10 * np.abs(per_copy[1][1]).max())


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
