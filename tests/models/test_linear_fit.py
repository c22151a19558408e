"""snapcheck's weighted least-squares fit of a linear SNAP model, against FitSNAP's stored reference fit."""

from __future__ import annotations

import numpy as np
import pytest

from snapcheck.data.dataset_registry import FIT_INPUT, REFERENCE_FIT
from snapcheck.data.fitsnap_input import read_fitsnap_input
from snapcheck.data.snap_files import read_snapcoeff
from snapcheck.descriptors.engine import SnapEngine
from snapcheck.models import LinearSnap, ModelRequest, load_model
from snapcheck.models.linear_fit import configuration_rows, fit_linear_snap
from snapcheck.studies.fitsnap_crosscheck import align, read_stored_metrics, read_stored_reference


@pytest.fixture(scope="module")
def fit(ta_configurations, data_root):
    return fit_linear_snap(ta_configurations, read_fitsnap_input(data_root / FIT_INPUT))


def test_coefficients_match_fitsnaps_stored_reference_fit(fit, data_root):
    _, _, _, stored = read_snapcoeff(data_root / REFERENCE_FIT / "Ta_pot.snapcoeff")
    np.testing.assert_allclose(fit.model.coefficients, stored, rtol=1e-8, atol=0)


def test_rows_match_fitsnaps_stored_matrices_row_by_row(fit, ta_configurations, data_root):
    """A, b, w against FitSNAP's Descriptors.npy, Truth-Ref.npy and Weights.npy: energy and
    force rows to 1e-10 absolute, stress rows (bar/eV, up to ~1e7) to 1e-10 of their largest."""
    stored = read_stored_reference(data_root / REFERENCE_FIT, ta_configurations, fit.rows)
    order = align(fit.rows, stored)
    for row_type in ("Energy", "Force", "Stress"):
        mine = (fit.rows.index["row_type"] == row_type).to_numpy()
        theirs = stored.matrix[order[mine]]
        atol = 1e-10 * (np.abs(theirs).max() if row_type == "Stress" else 1.0)
        np.testing.assert_allclose(fit.rows.matrix[mine], theirs, rtol=0, atol=atol, err_msg=row_type)
        np.testing.assert_allclose(
            fit.rows.truth[mine],
            stored.truth[order[mine]],
            rtol=0,
            atol=1e-10 * max(1.0, np.abs(fit.rows.truth[mine]).max()),
            err_msg=row_type,
        )
        np.testing.assert_array_equal(fit.rows.weights[mine], stored.weights[order[mine]], err_msg=row_type)


def test_the_solution_satisfies_the_weighted_normal_equations(fit):
    """θ minimises Σ w²(Aθ − b)²: the gradient Aᵀ W² (Aθ − b) vanishes to round-off."""
    rows = fit.rows
    weighted = rows.weights[:, None] * rows.matrix
    gradient = weighted.T @ (weighted @ fit.model.theta - rows.weights * rows.truth)
    scale = np.abs(weighted.T) @ np.abs(rows.weights * rows.truth)
    assert np.max(np.abs(gradient) / scale) < 1e-9


def test_metrics_match_fitsnaps_stored_table(fit, data_root):
    stored = read_stored_metrics(data_root / REFERENCE_FIT / "Ta_metrics.md").set_index(
        ["group", "weighting", "row_type"]
    )
    ours = fit.metrics.set_index(["group", "weighting", "row_type"])
    assert set(ours.index) == set(stored.index) and len(ours) == 78
    whole = ours.loc[("*ALL", "Unweighted")]
    np.testing.assert_allclose(whole["rmse"], stored.loc[("*ALL", "Unweighted"), "rmse"], rtol=1e-5)
    # every group with residuals above round-off (the Volume groups' forces are zero by symmetry)
    meaningful = ours["rmse"] > 1e-10
    np.testing.assert_allclose(
        ours.loc[meaningful, ["mae", "rmse", "rsq"]],
        stored.loc[ours.index[meaningful], ["mae", "rmse", "rsq"]],
        rtol=1e-5,
    )
    np.testing.assert_array_equal(ours["ncount"], stored.loc[ours.index, "ncount"])


def test_rows_reproduce_the_model_and_its_labels(ta_configurations, data_root, fit):
    """A θ is the model's own per-atom energy, forces and pressure tensor, minus the reference."""
    configuration = ta_configurations[300]
    fit_input = read_fitsnap_input(data_root / FIT_INPUT)
    with SnapEngine(configuration, fit_input.parameters) as engine:
        descriptors = engine.evaluate()
    rows = configuration_rows(configuration, descriptors, fit_input)
    model = fit.model
    prediction = rows.matrix @ model.theta
    n = configuration.n_atoms
    assert prediction[0] == pytest.approx(
        (model.energy_from(descriptors) - descriptors.reference_energy) / n, rel=1e-12
    )
    np.testing.assert_allclose(
        prediction[1 : 1 + 3 * n], (model.forces_from(descriptors) - descriptors.reference_forces).ravel(), atol=1e-12
    )
    np.testing.assert_allclose(
        prediction[1 + 3 * n :], model.stress_from(descriptors) - descriptors.reference_stress, rtol=1e-12, atol=1e-6
    )
    assert list(rows.index["row_type"].value_counts().sort_index()) == [1, 3 * n, 6]


def test_the_registry_fit_gives_the_same_model_and_writes_files_that_read_back_exactly(data_root, fit, tmp_path):
    model = load_model("fitted", ModelRequest(data=data_root)).model
    np.testing.assert_array_equal(model.coefficients, fit.model.coefficients)
    model.write(tmp_path / "fitted.snapcoeff", tmp_path / "fitted.snapparam", "test fit")
    again = LinearSnap.from_files(tmp_path / "fitted.snapcoeff", tmp_path / "fitted.snapparam")
    np.testing.assert_array_equal(again.coefficients, model.coefficients)
    assert again.parameters == model.parameters
