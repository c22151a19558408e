"""Training the neural SNAP network: split, Eq. 1 gradient with Eq. 7, Adam, checkpoints, resumption, ensembles."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from snapcheck.data.selection import stratified_subset
from snapcheck.descriptors.cache import EngineCache
from snapcheck.gradients.paper import relative_error
from snapcheck.models import NeuralSnapPotential
from snapcheck.studies.adam import AdamState, adam_step
from snapcheck.studies.checkpoints import Checkpoint, run_key
from snapcheck.studies.ensemble import EnsembleData, MemberTask, train_ensemble, train_member
from snapcheck.studies.split import split_by_group
from snapcheck.studies.training import TrainingSpec, batch_loss_gradient, initial_model, train

SMALL = TrainingSpec(
    widths=(6,),
    activation="silu",
    epochs=3,
    batch_size=4,
    learning_rate=1e-2,
    final_learning_rate=1e-3,
    force_weight=0.5,
    checkpoint_every=1,
)


@pytest.fixture(scope="module")
def subset(ta_configurations):
    """24 configurations, two per group."""
    return stratified_subset(ta_configurations, 24)


@pytest.fixture(scope="module")
def cache(ta06a):
    with EngineCache(ta06a.parameters) as cache:
        yield cache


def test_split_is_stratified_disjoint_and_deterministic(ta_configurations):
    split = split_by_group(ta_configurations, 0.2, seed=0)
    assert sorted(split.train + split.test) == list(range(len(ta_configurations)))
    assert split_by_group(ta_configurations, 0.2, seed=0) == split
    assert split_by_group(ta_configurations, 0.2, seed=1) != split
    table = split.table(ta_configurations).set_index("group")
    assert len(table) == 12 and (table["test"] >= 1).all()
    sizes = table["train"] + table["test"]
    np.testing.assert_array_equal(table["test"], np.maximum(1, np.round(0.2 * sizes)))
    assert table.loc["Liquid", "test"] == 1 and table.loc["Elastic_BCC", "test"] == 20
    assert table["train_atoms"].sum() + table["test_atoms"].sum() == sum(c.n_atoms for c in ta_configurations)


def test_batch_gradient_is_eq1_with_the_force_term_by_eq7(ta06a, cache, subset):
    """c₁⟨(Ê − E)∇θÊ⟩ + c₂⟨∇̃θL⟩ from one seeded backward pass equals that from the exact R-op to Eq. 7's accuracy."""
    spec = replace(SMALL, energy_weight=0.7, force_weight=2.0)
    model = initial_model(ta06a.parameters, spec, cache, subset, np.random.default_rng(0))
    potential = NeuralSnapPotential(model, cache)
    batch = subset[::3]
    loss, gradient = batch_loss_gradient(potential, batch, spec)
    residuals = np.array([potential.energy(c) - c.energy for c in batch])
    force_errors = [potential.forces(c) - c.forces for c in batch]
    expected_loss = 0.7 * 0.5 * np.mean(residuals**2) + 2.0 * 0.5 * np.mean([np.sum(g * g) for g in force_errors])
    expected = 0.7 * np.mean([r * potential.energy_gradient(c) for r, c in zip(residuals, batch)], axis=0)
    expected += 2.0 * np.mean([potential.exact_force_loss_gradient(c) for c in batch], axis=0)
    assert loss == pytest.approx(expected_loss, rel=1e-12)
    assert relative_error(gradient, expected) < 1e-7
    _, energy_only = batch_loss_gradient(potential, batch, replace(spec, force_weight=0.0))
    np.testing.assert_allclose(
        energy_only,
        0.7 * np.mean([r * potential.energy_gradient(c) for r, c in zip(residuals, batch)], axis=0),
        rtol=1e-10,
        atol=1e-12,
    )


def test_adam_first_step_moves_every_parameter_by_the_learning_rate():
    gradient = np.array([3.0, -0.5, 1e-3])
    theta, state = adam_step(np.zeros(3), gradient, AdamState(np.zeros(3), np.zeros(3)), 0.1)
    np.testing.assert_allclose(theta, -0.1 * np.sign(gradient), rtol=1e-4)
    assert state.step == 1
    np.testing.assert_allclose(state.second, 0.001 * gradient**2)


def test_learning_rate_decays_from_first_to_last_epoch():
    spec = replace(SMALL, epochs=11, learning_rate=1e-2, final_learning_rate=1e-4)
    assert spec.learning_rate_at(0) == pytest.approx(1e-2)
    assert spec.learning_rate_at(5) == pytest.approx(1e-3)
    assert spec.learning_rate_at(10) == pytest.approx(1e-4)


class Interrupted(Exception):
    pass


def test_an_interrupted_run_resumes_from_its_checkpoint_exactly(ta06a, cache, subset, tmp_path):
    training, path = subset[::2], tmp_path / "member.npz"
    key = run_key(SMALL, 0, 0, training)

    def fresh():
        rng = np.random.default_rng([0, 0])
        return NeuralSnapPotential(initial_model(ta06a.parameters, SMALL, cache, training, rng), cache), rng

    potential, rng = fresh()
    straight = train(potential, training, SMALL, rng)

    def stop_after_two(epoch, loss):
        if epoch == 2:
            raise Interrupted

    potential, rng = fresh()
    with pytest.raises(Interrupted):
        train(potential, training, SMALL, rng, path, key, stop_after_two)
    assert Checkpoint.load(path, key).epoch == 2
    assert Checkpoint.load(path, "another run") is None
    potential, rng = fresh()
    resumed = train(potential, training, SMALL, rng, path, key)
    assert resumed.epochs_run == 1
    np.testing.assert_array_equal(resumed.model.theta, straight.model.theta)
    np.testing.assert_array_equal(resumed.history, straight.history)
    assert straight.history[-1] < straight.history[0]


def test_ensemble_over_processes_equals_the_serial_run(ta06a, subset):
    data = EnsembleData(tuple(subset), split_by_group(subset, 0.25, seed=3), ta06a.parameters)
    split = data.split
    tasks = [
        MemberTask(setting, member, replace(SMALL, epochs=2, force_weight=weight), 5, data)
        for member in range(2)
        for setting, weight in (("energy", 0.0), ("energy+force", 0.5))
    ]
    serial = train_ensemble(tasks, jobs=1, progress=False)
    parallel = train_ensemble(tasks, jobs=2, progress=False)
    for one, other, task in zip(serial, parallel, tasks):
        assert (one.setting, one.member) == (other.setting, other.member) == (task.setting, task.member)
        np.testing.assert_array_equal(one.theta, other.theta)
        np.testing.assert_array_equal(one.predictions.forces, other.predictions.forces)
    assert not np.array_equal(serial[0].theta, serial[1].theta)  # the force term changed the training
    assert all(r.gradient_error < 1e-6 for r in serial)
    assert all(len(r.predictions.energy_errors) == len(split.test) for r in serial)


def test_members_of_one_index_start_from_the_same_theta_in_both_settings(ta06a, subset):
    """Zero epochs leave every network at its initial θ: equal for one member index whatever the setting (so the
    settings differ only by the force term), different between member indices (an ensemble, not copies)."""
    data = EnsembleData(tuple(subset), split_by_group(subset, 0.25, seed=3), ta06a.parameters)
    initial = {
        (setting, member): train_member(
            MemberTask(setting, member, replace(SMALL, epochs=0, force_weight=weight), 5, data)
        ).theta
        for member in range(2)
        for setting, weight in (("energy", 0.0), ("energy+force", 0.5))
    }
    for member in range(2):
        np.testing.assert_array_equal(initial["energy", member], initial["energy+force", member])
    assert not np.array_equal(initial["energy", 0], initial["energy", 1])
