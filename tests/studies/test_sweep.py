"""The sweep engine: the same numbers, bit for bit, from one process or two."""

from __future__ import annotations

import numpy as np

from snapcheck.models import LinearSnap
from snapcheck.studies.sweep import SweepSpec, best_epsilons, error_table, run_sweep


def test_parallel_and_serial_sweeps_agree_bit_for_bit(one_per_group, ta06a):
    spec = SweepSpec(models=(ta06a, LinearSnap.kaiming(ta06a.parameters, seed=5)), epsilons=(1e-6, 1e-3), g0_rules=("max", 1.0))
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
