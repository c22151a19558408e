"""The sweep engine: the same numbers, bit for bit, from one process or two, from a new engine or a used one."""

from __future__ import annotations

import numpy as np
import pandas as pd

from snapcheck.descriptors import SnapEngine
from snapcheck.models import LinearSnap
from snapcheck.studies.sweep import SweepSpec, run_sweep, sweep_configuration
from snapcheck.studies.sweep_errors import best_epsilons, error_table


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


def test_float32_emulation_stores_descriptors_and_sums_in_float32(ta_configurations, ta06a):
    """Not only the final sums are rounded: Bᵢ are stored in float32 and ΣB, θ·∇θÊ accumulate in float32."""
    from snapcheck.studies.sweep import float32_evaluation

    liquid = next(c for c in ta_configurations if c.group == "Liquid")
    with SnapEngine(liquid, ta06a.parameters) as engine:
        emulated = float32_evaluation(engine, ta06a, liquid.positions)
        exact = engine.evaluate_values(liquid.positions)
        atoms = engine.evaluate_per_atom_values(liquid.positions).descriptors
    rounded_sum = exact.sum_b.ravel().astype(np.float32)
    emulated_sum = emulated.energy_gradient.reshape(1, -1)[:, 1:].ravel()
    # float32 values, summed in float32 from float32 Bᵢ: equal to that sum, and not to the rounded float64 sum
    np.testing.assert_array_equal(emulated_sum, atoms.astype(np.float32).sum(axis=0, dtype=np.float32))
    assert np.any(emulated_sum != rounded_sum)
    relative = np.abs(emulated_sum - exact.sum_b.ravel()) / np.abs(exact.sum_b.ravel())
    assert 1e-9 < relative.max() < 1e-5  # float32 accumulation over 100 atoms, not float64 round-off
    assert emulated.energy == float(np.float32(emulated.energy))
    assert abs(emulated.energy - ta06a.energy_from(exact)) / abs(ta06a.energy_from(exact)) < 1e-5


def test_the_precision_figure_tells_float64_from_float32_by_line_and_marker(tmp_path):
    from snapcheck.studies.plots import FLOAT32_NOTE, precision_figure

    rows = [
        {"model": "trained", "precision": p, "epsilon": e, "group": "all", "err_grad": 1e-3 * e, "err_loss": 2e-3 * e}
        for p in ("float64", "float32")
        for e in (1e-6, 1e-4)
    ]
    figure = precision_figure(pd.DataFrame(rows), "test")
    styles = {line.get_label(): (line.get_linestyle(), line.get_marker()) for line in figure.axes[0].get_lines()}
    float64 = {v for k, v in styles.items() if "float64" in k}
    float32 = {v for k, v in styles.items() if "float32" in k}
    assert float64 and float32 and not float64 & float32
    assert {marker for _, marker in float64}.isdisjoint({marker for _, marker in float32})
    assert any(FLOAT32_NOTE in text.get_text() for text in figure.texts)


def test_a_host_style_does_not_change_the_figure():
    """Importing MACE sets matplotlib's font.size to 8 for the whole process; snapcheck's figures keep theirs."""
    import matplotlib

    from snapcheck.studies.plots import error_figure

    row = {"model": "trained", "precision": "float64", "group": "all"}
    rows = [dict(row, epsilon=e, err_grad=e, err_loss=e) for e in (1e-6, 1e-4)]

    def sizes(figure):
        return [label.get_fontsize() for label in figure.axes[0].get_xticklabels()] + [
            figure.axes[0].title.get_fontsize()
        ]

    default = sizes(error_figure(pd.DataFrame(rows), "test"))
    with matplotlib.rc_context({"font.size": 8.0}):
        assert sizes(error_figure(pd.DataFrame(rows), "test")) == default
