"""The sweep engine: the same numbers, bit for bit, from one process or two, from a new engine or a used one."""

from __future__ import annotations

import numpy as np

from snapcheck.descriptors import SnapEngine
from snapcheck.models import LinearSnap
from snapcheck.studies.sweep import SweepSpec, best_epsilons, error_table, run_sweep, sweep_configuration


def test_parallel_and_serial_sweeps_agree_bit_for_bit(one_per_group, ta06a):
    spec = SweepSpec(
        models=(ta06a, LinearSnap.kaiming(ta06a.parameters, seed=5)), epsilons=(1e-6, 1e-3), g0_rules=("max", 1.0)
    )
    serial = run_sweep(one_per_group, spec, jobs=1, progress=False)
    parallel = run_sweep(one_per_group, spec, jobs=2, progress=False)
    for a, b in zip(serial, parallel):
        np.testing.assert_array_equal(a.gradient_estimates, b.gradient_estimates)
        np.testing.assert_array_equal(a.loss_estimates, b.loss_estimates)
        np.testing.assert_array_equal(a.exact_gradient, b.exact_gradient)


def test_best_epsilons_picks_the_minimum(one_per_group, ta06a):
    spec = SweepSpec(models=(ta06a,), epsilons=(1e-9, 1e-5, 1e-1))
    table = error_table(one_per_group, run_sweep(one_per_group, spec, progress=False), spec)
    best = best_epsilons(table).iloc[0]
    whole = table[table["group"] == "all"]
    assert best["min_err_grad"] == whole["err_grad"].min()
    assert best["best_epsilon_grad"] == 1e-5


def test_a_used_engine_gives_the_same_bits_as_a_new_one(one_per_group, ta06a):
    """What makes results independent of which worker ran what before: an engine's history does not leak."""
    spec = SweepSpec(models=(ta06a,), epsilons=(1e-6, 1e-2), precisions=("float64", "float32"))
    for configuration in (one_per_group[0], max(one_per_group, key=lambda c: c.n_atoms)):
        with SnapEngine(configuration, ta06a.parameters) as engine:
            first = sweep_configuration(engine, configuration, spec)
            engine.evaluate_values(configuration.positions + 0.05)  # leave it somewhere else
            again = sweep_configuration(engine, configuration, spec)
        for name in ("exact_gradient", "loss_estimates", "gradient_estimates"):
            np.testing.assert_array_equal(getattr(first, name), getattr(again, name), err_msg=name)
