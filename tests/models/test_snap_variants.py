"""Explicit multi-element SNAP (InP, chemflag 1) and quadratic SNAP (Ta, quadraticflag 1): the oracle against
LAMMPS's own pair_style snap, FitSNAP's stored InP metrics, and the paper's estimate against A_fᵀg."""

from __future__ import annotations

import numpy as np
import pytest

from snapcheck.data import load_configurations
from snapcheck.data.datasets import resolve_dataset
from snapcheck.data.selection import stratified_subset
from snapcheck.descriptors.engine import SnapEngine
from snapcheck.gradients.reference import paper_force_loss_gradient
from snapcheck.models.linear_fit import build_rows, fit_metrics
from snapcheck.models.potentials import LinearSnapPotential
from snapcheck.models.registry import ModelRequest, load_model
from snapcheck.studies.fitsnap_crosscheck import read_stored_metrics


@pytest.fixture(scope="module")
def inp(shared_datasets):
    """``inp(count=None, groups=None)``: InP's configurations (of ``groups``; ``count`` of them stratified by
    group), reading only the files chosen (the registered copy's files are parsed once per process)."""
    return lambda count=None, groups=None: load_configurations("inp-jpca2020", count=count, groups=groups)


def _model(shared_datasets, folder, name):
    return load_model(name, ModelRequest(seed=0, data=shared_datasets / folder)).model


def _against_pair_snap(configurations, model, lammps_pair_snap):
    """max |f̂ − f_LAMMPS| (eV/Å) and max |Ê − E_LAMMPS|/N (eV/atom)."""
    worst_force = worst_energy = 0.0
    for configuration in configurations:
        with SnapEngine(configuration, model.parameters, model.reference) as engine:
            descriptors = engine.evaluate()
        energy, forces, _ = lammps_pair_snap(configuration, model)
        worst_force = max(worst_force, float(np.abs(model.forces_from(descriptors) - forces).max()))
        worst_energy = max(worst_energy, abs(model.energy_from(descriptors) - energy) / configuration.n_atoms)
    return worst_force, worst_energy


@pytest.mark.parametrize("name", ["trained", "untrained"])
def test_inp_forces_match_lammps_pair_snap(inp, shared_datasets, lammps_pair_snap, name):
    """hybrid/overlay zbl 4.0 4.2 snap with chem: f̂ agrees to 1e-10 eV/Å once β is equal over identical columns."""
    model = _model(shared_datasets, "inp_jpca2020", name)
    assert model.parameters.chemflag == 1 and model.n_parameters == 2 * 241
    subset = inp(count=10)
    force, energy = _against_pair_snap(subset, model.symmetrized(), lammps_pair_snap)
    assert force < 1e-10 and energy < 1e-12
    if name == "trained":
        # the stored β differ within identical-column groups by ≤ 8e-10 eV; pair_style snap's forces
        # then differ from −∇Ê (compute snap's A_f β, which sees only the group sums) by ~1e-7 eV/Å
        stored_force, stored_energy = _against_pair_snap(subset[:4], model, lammps_pair_snap)
        assert 1e-10 < stored_force < 1e-6 and stored_energy < 1e-12


def test_symmetrizing_keeps_energy_and_forces(inp, shared_datasets):
    model = _model(shared_datasets, "inp_jpca2020", "trained")
    configuration = inp(count=1)[0]
    with SnapEngine(configuration, model.parameters, model.reference) as engine:
        descriptors = engine.evaluate()
    symmetric = model.symmetrized()
    assert np.abs(symmetric.theta - model.theta).max() < 1e-8
    np.testing.assert_allclose(symmetric.forces_from(descriptors), model.forces_from(descriptors), rtol=0, atol=1e-12)


@pytest.mark.parametrize("name", ["trained", "untrained"])
def test_quadratic_forces_match_lammps_pair_snap(ta_configurations, shared_datasets, lammps_pair_snap, name):
    model = _model(shared_datasets, "ta_quadratic_jcp2018", name)
    assert model.parameters.quadraticflag == 1 and model.n_parameters == 1 + 55 + 55 * 56 // 2
    force, energy = _against_pair_snap(stratified_subset(ta_configurations, 6), model, lammps_pair_snap)
    assert force < 1e-10 and energy < 1e-11


@pytest.mark.parametrize(
    ("folder", "name"),
    [("inp_jpca2020", "trained"), ("inp_jpca2020", "untrained"), ("ta_quadratic_jcp2018", "trained")],
)
def test_paper_estimate_agrees_with_the_exact_gradient(inp, ta_configurations, shared_datasets, folder, name):
    model = _model(shared_datasets, folder, name)
    # groups whose force errors are well above round-off (a perfect crystal has L ≈ 1e-28)
    if folder == "inp_jpca2020":
        configurations = inp(count=3, groups={"Shear", "s_vv", "vP"})
    else:
        groups = {"Liquid", "Displaced_BCC", "GSF_110"}
        configurations = stratified_subset([c for c in ta_configurations if c.group in groups], 3)
    with LinearSnapPotential(model) as potential:
        for configuration in configurations:
            exact = potential.exact_force_loss_gradient(configuration)
            estimate = paper_force_loss_gradient(potential, [configuration], epsilon=1e-5).gradient
            assert np.linalg.norm(estimate - exact) / np.linalg.norm(exact) < 1e-6, configuration.label


def _metrics(configurations, shared_datasets):
    dataset = resolve_dataset(shared_datasets / "inp_jpca2020")
    model = _model(shared_datasets, "inp_jpca2020", "trained")
    rows = build_rows(configurations, dataset.read_fit_input())
    ours = fit_metrics(rows, model.theta).set_index(["group", "weighting", "row_type"])
    stored = read_stored_metrics(dataset.reference_fit / "InP_metrics.md").set_index(["group", "weighting", "row_type"])
    return ours, stored


def _assert_reproduced(ours, stored, index):
    # Bulk's forces are zero by symmetry: its two force lines are round-off (1e-15 eV/Å)
    chosen = [i for i in index if i[:3:2] != ("Bulk", "Force")]
    np.testing.assert_allclose(
        ours.loc[chosen, ["mae", "rmse", "rsq"]], stored.loc[chosen, ["mae", "rmse", "rsq"]], rtol=2e-5
    )
    np.testing.assert_array_equal(ours.loc[index, "ncount"], stored.loc[index, "ncount"])


def test_inp_metrics_of_whole_groups_match_the_stored_fit(inp, shared_datasets):
    """Groups evaluated completely (Bulk, vP): energy, force and stress lines."""
    groups = {"Bulk", "vP"}
    ours, stored = _metrics(inp(groups=groups), shared_datasets)
    index = [i for i in ours.index if i[0] in groups]
    assert len(index) == 2 * 2 * 3
    _assert_reproduced(ours, stored, index)


@pytest.fixture(scope="module")
def full_set_metrics(inp, shared_datasets):
    """(snapcheck's metrics of all 1894 InP configurations under the stored coefficients, InP_metrics.md's)."""
    return _metrics(inp(), shared_datasets)


@pytest.mark.slow
def test_inp_metrics_of_the_full_set_match_the_stored_fit(full_set_metrics):
    """All 1894 configurations: every line of InP_metrics.md (20 groups incl. *ALL, energy, force, stress)."""
    ours, stored = full_set_metrics
    assert set(ours.index) == set(stored.index) and len(ours) == 120
    _assert_reproduced(ours, stored, list(ours.index))


@pytest.mark.slow
def test_inp_stored_stress_metrics_reproduce_to_4_significant_digits(full_set_metrics):
    """FitSNAP's ('*ALL', 'Unweighted', 'Stress') line: 6 components of each of the 1894 configurations, and
    the MAE and RMSE (bar; StressStyle kB read as 1000 bar) the same to 4 significant digits."""
    ours, stored = full_set_metrics
    line = ("*ALL", "Unweighted", "Stress")
    assert ours.loc[line, "ncount"] == stored.loc[line, "ncount"] == 6 * 1894
    for metric in ("mae", "rmse"):
        mine, theirs = ours.loc[line, metric], stored.loc[line, metric]
        print(f"InP *ALL Unweighted Stress {metric}: snapcheck {mine:.9g} bar, stored {theirs:.9g} bar")
        assert f"{mine:.4g}" == f"{theirs:.4g}", f"{metric}: {mine} against the stored {theirs}"
