"""The paper's claims on the full Ta dataset (slow: run with ``pytest -m slow``, about a minute)."""

from __future__ import annotations

import numpy as np
import pytest

from snapcheck.models import LinearSnap
from snapcheck.studies.sweep import SweepSpec, run_sweep
from snapcheck.studies.sweep_errors import best_epsilons, error_table

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def full_table(ta_configurations, ta06a):
    spec = SweepSpec(models=(ta06a, LinearSnap.kaiming(ta06a.parameters, seed=0)), g0_rules=("max", 1.0))
    return error_table(ta_configurations, run_sweep(ta_configurations, spec, jobs=2, progress=False), spec)


def best(table, mode):
    return best_epsilons(table[table["g0_mode"] == mode]).set_index("model")


def test_fig1_single_epsilon_gives_nine_digits(full_table):
    fig1 = best(full_table, "max")
    for model in ("trained", "untrained"):
        assert fig1.loc[model, "min_err_grad"] <= 1e-8
        assert 1e-6 <= fig1.loc[model, "best_epsilon_grad"] <= 1e-4
    ratio = fig1.loc["trained", "best_epsilon_grad"] / fig1.loc["untrained", "best_epsilon_grad"]
    assert 0.1 <= ratio <= 10


def test_fig1_proxy_tracks_the_true_error(full_table):
    whole = full_table[(full_table["group"] == "all") & (full_table["g0_mode"] == "max")]
    window = whole[(whole["epsilon"] >= 1e-8 * (1 - 1e-9)) & (whole["epsilon"] <= 1e-2 * (1 + 1e-9))]
    ratio = window["err_loss"] / window["err_grad"]
    assert len(window) == 2 * 13  # two models, ε = 1e-8 … 1e-2 in half-decades
    assert np.all((ratio >= 0.1) & (ratio <= 10)), window[["model", "epsilon", "err_grad", "err_loss"]]


def test_fig2_best_epsilon_moves_with_the_model(full_table):
    fig2 = best(full_table, "fixed")
    ratio = fig2.loc["trained", "best_epsilon_grad"] / fig2.loc["untrained", "best_epsilon_grad"]
    assert ratio >= 10 or ratio <= 0.1
