"""Per-atom descriptors and ∂Bᵢ/∂rⱼ (compute snap dgradflag 1): layout and sign against central differences."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from snapcheck.descriptors.cache import EngineCache
from snapcheck.descriptors.engine import GRADIENT_COMPUTE, SnapEngine


def central_difference(engine: SnapEngine, positions: np.ndarray, atom: int, axis: int, h: float = 1e-5) -> np.ndarray:
    """∂Bᵢ/∂r_{atom,axis} for every i, (N, K), from two fast evaluations."""
    plus, minus = positions.copy(), positions.copy()
    plus[atom, axis] += h
    minus[atom, axis] -= h
    return (engine.evaluate_per_atom_values(plus).descriptors - engine.evaluate_per_atom_values(minus).descriptors) / (
        2 * h
    )


@pytest.mark.parametrize("index", [9, 271])  # Displaced_BCC (54 atoms), Liquid (100 atoms)
def test_derivatives_match_central_differences(ta_configurations, ta06a, index):
    configuration = ta_configurations[index]
    with SnapEngine(configuration, ta06a.parameters) as engine:
        evaluation = engine.evaluate_per_atom()
        n, k = evaluation.descriptors.shape
        dense = evaluation.derivatives.toarray().reshape(n, k, n, 3)
        scale = np.abs(dense).max()
        for atom, axis in ((0, 0), (n // 2, 1), (n - 1, 2)):
            numeric = central_difference(engine, configuration.positions, atom, axis)
            np.testing.assert_allclose(dense[:, :, atom, axis], numeric, rtol=0, atol=1e-8 * scale)


def test_derivatives_of_a_rotated_cell_come_back_to_the_user_frame(ta_configurations, ta06a, rotate):
    configuration = rotate(
        ta_configurations[18], Rotation.random(random_state=3).as_matrix()
    )  # Displaced_FCC, 48 atoms
    assert np.any(np.triu(configuration.cell, 1))
    with SnapEngine(configuration, ta06a.parameters) as engine:
        evaluation = engine.evaluate_per_atom()
        n, k = evaluation.descriptors.shape
        dense = evaluation.derivatives.toarray().reshape(n, k, n, 3)
        for atom, axis in ((5, 0), (30, 2)):
            numeric = central_difference(engine, configuration.positions, atom, axis)
            np.testing.assert_allclose(dense[:, :, atom, axis], numeric, rtol=0, atol=1e-8 * np.abs(dense).max())
        full = engine.evaluate()
    np.testing.assert_allclose(evaluation.reference_forces, full.reference_forces, rtol=0, atol=1e-12)


def test_sums_over_atoms_are_the_full_evaluation(one_per_group, ta06a):
    """Σᵢ Bᵢ = ΣB and Σᵢ ∂Bᵢ/∂rⱼ = −A_f, the summed compute's force rows; same E_ref and f_ref."""
    for configuration in one_per_group:
        with SnapEngine(configuration, ta06a.parameters) as engine:
            evaluation = engine.evaluate_per_atom()
            full = engine.evaluate()
        n, k = evaluation.descriptors.shape
        summed = evaluation.derivatives.toarray().reshape(n, k, n, 3).sum(axis=0)
        scale = max(np.abs(full.force_rows).max(), 1.0)
        np.testing.assert_allclose(evaluation.descriptors.sum(axis=0), full.sum_b[0], rtol=1e-13, atol=1e-10)
        np.testing.assert_allclose(summed.transpose(1, 2, 0), -full.force_rows[:, :, 0, :], rtol=0, atol=1e-12 * scale)
        assert evaluation.reference_energy == pytest.approx(full.reference_energy, rel=1e-14)
        np.testing.assert_allclose(evaluation.reference_forces, full.reference_forces, rtol=0, atol=1e-12)


def test_fast_per_atom_evaluation_matches_and_the_derivative_compute_is_removed(ta_configurations, ta06a):
    configuration = ta_configurations[249]  # GSF_112, 30 atoms
    moved = configuration.positions + np.random.default_rng(1).normal(scale=0.02, size=configuration.positions.shape)
    with SnapEngine(configuration, ta06a.parameters) as engine:
        evaluation = engine.evaluate_per_atom(moved)
        assert GRADIENT_COMPUTE not in engine._lmp.available_ids("compute")
        assert f"{GRADIENT_COMPUTE}_press" not in engine._lmp.available_ids("compute")
        fast = engine.evaluate_per_atom_values(moved)
    np.testing.assert_allclose(fast.descriptors, evaluation.descriptors, rtol=1e-13, atol=1e-11)
    assert fast.reference_energy == pytest.approx(evaluation.reference_energy, rel=1e-14)


def test_along_and_pull_back_are_the_two_contractions(ta_configurations, ta06a):
    configuration = ta_configurations[0]
    rng = np.random.default_rng(2)
    with SnapEngine(configuration, ta06a.parameters) as engine:
        evaluation = engine.evaluate_per_atom()
    n, k = evaluation.descriptors.shape
    dense = evaluation.derivatives.toarray().reshape(n, k, n, 3)
    vectors, weights = rng.normal(size=(n, 3)), rng.normal(size=(n, k))
    np.testing.assert_allclose(
        evaluation.along(vectors), np.einsum("ikja,ja->ik", dense, vectors), rtol=1e-12, atol=1e-12
    )
    np.testing.assert_allclose(
        evaluation.pull_back(weights), np.einsum("ikja,ik->ja", dense, weights), rtol=1e-12, atol=1e-12
    )
    # each atom has tens of neighbours, not N: the sparse matrix keeps a fraction of the dense entries
    assert evaluation.derivatives.nnz < 0.5 * dense.size


def test_cache_evaluates_the_dataset_positions_once(ta_configurations, ta06a):
    configuration = ta_configurations[281]
    with EngineCache(ta06a.parameters) as cache:
        first = cache.per_atom(configuration)
        assert cache.per_atom(configuration, configuration.positions.copy()) is first
        moved = cache.per_atom(configuration, configuration.positions + 0.01)
        assert moved is not first and not np.array_equal(moved.descriptors, first.descriptors)
        np.testing.assert_array_equal(cache.per_atom_values(configuration).descriptors, first.descriptors)
