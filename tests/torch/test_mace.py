"""MACE 0.3.16's force training (its forces, its loss module, its training step) checked by snapcheck.torch on Ta.

The batch mixes sizes N = 2, 4, 24, 54 (``ta_mixed``), so a per-configuration factor cannot pass for
a constant one.  Planted bugs are each a line a MACE user could write; every one must be detected and named.
"""

from __future__ import annotations

import copy
import functools
import importlib.util
import re
from pathlib import Path

import pytest
import torch

import snapcheck.torch as sc
from snapcheck.torch import mace as sm

DOCS = Path(__file__).resolve().parents[2] / "docs" / "torch.md"

# e3nn 0.4.4 compiles and copies its modules with TorchScript, which torch 2.13 deprecates, and reads its
# constants with torch.load under the variable mace sets: hundreds of warnings per run, none about snapcheck
pytestmark = [
    pytest.mark.filterwarnings(r"ignore:`torch\.jit\.\w+` is deprecated:DeprecationWarning"),
    pytest.mark.filterwarnings("ignore:The TorchScript type system doesn't support:UserWarning"),
    pytest.mark.filterwarnings("ignore:Environment variable TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD:UserWarning"),
]


@pytest.fixture(scope="module", autouse=True)
def mace_installed():
    """mace-torch is in the trainers extra: fail with the install line, never skip."""
    if importlib.util.find_spec("mace") is None:
        pytest.fail(
            "mace-torch is not installed: pip install mace-torch==0.3.16 e3nn==0.4.4 (snapcheck's trainers extra)"
        )


@pytest.fixture(scope="module")
def loss():
    from mace.modules.loss import WeightedEnergyForcesLoss

    return WeightedEnergyForcesLoss(energy_weight=0.0, forces_weight=1.0)


@functools.cache
def built(dtype):
    return sm.ta_model(dtype)  # e3nn's code generation makes the first build take seconds


def ta_model(dtype=torch.float64):
    return copy.deepcopy(built(dtype))


def check(model, configurations, loss, **kwargs):
    options = dict(forces_fn=sm.forces_fn, trainer_step=sm.trainer_step(loss), loss_fn=sm.loss_fn(loss, configurations))
    return sc.assert_force_loss_gradient(model, sm.energy_fn, configurations, **(options | kwargs))


# -- a MACE user's code, right -------------------------------------------------------------------------
def test_graph_with_skin_gives_mace_own_energy(ta_mixed):
    """Edges beyond r_max carry exactly zero: Ê on the r_max + skin graph is MACE's Ê on its own r_max graph."""
    model, extra_edges = ta_model(), 0
    for atoms in ta_mixed:
        own = sm.mace_batch(model, [atoms], float(model.r_max), torch.float64, "cpu").to_dict()
        extra_edges += sm.graph(model, atoms, torch.float64, "cpu")["edge_index"].shape[1] - own["edge_index"].shape[1]
        expected = float(model(own, compute_force=False)["energy"].sum().detach())
        energy = float(sm.energy_fn(model, atoms, torch.tensor(atoms.get_positions())).detach())
        assert abs(energy - expected) < 1e-12 * abs(expected)
    assert extra_edges > 0  # the skin added edges, and they changed nothing


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_mace_trainer_passes(dtype, ta_mixed, loss):
    model = ta_model(dtype)
    sc.assert_forces_consistent(model, sm.energy_fn, ta_mixed, forces_fn=sm.forces_fn)
    report = check(model, ta_mixed, loss)
    print(report)
    assert max(report.relative_errors.values()) < (1e-13 if dtype == torch.float64 else 1e-5)
    assert max(report.estimate_vs_exact.values()) < 1e-7  # Eq. 7 against the exact product: the independent oracle
    assert len(report.relative_errors) == sum(1 for p in model.parameters() if p.requires_grad)


def test_forces_consistent_on_cells_whose_forces_vanish_by_symmetry(ta_mixed):
    """Only the Elastic cells (|f̂| ≈ 8e-6 eV/Å): the central difference's round-off is measured against the
    force scale floor (snapcheck.gradients.forces_check.FORCE_SCALE_FLOOR), not against round-off forces."""
    report = sc.assert_forces_consistent(ta_model(), sm.energy_fn, ta_mixed[:2], forces_fn=sm.forces_fn)
    assert report.directional_error < 1e-6


def test_docs_example():
    """docs/torch.md's MACE example runs as written, and its trainer agrees with the reference."""
    text = DOCS.read_text()
    code = re.search(r"```python\n(.*?)```", text[text.index("### MACE 0.3.16") :], re.S).group(1)
    namespace: dict = {}
    exec(compile(code, str(DOCS), "exec"), namespace)
    assert max(namespace["report"].relative_errors.values()) < 1e-13


# -- planted bugs: detected and named --------------------------------------------------------------------
def forces_without_create_graph(model, atoms, positions):  # training=False: MACE's evaluation forces
    data = dict(sm.graph(model, atoms, positions.dtype, positions.device), positions=positions)
    return model(data, compute_force=True, training=False)["forces"]


def forces_sign_flipped(model, atoms, positions):
    return -sm.forces_fn(model, atoms, positions)


def energy_from_graph_positions(model, atoms, positions):  # ignores `positions`: the graph's own are used
    return model(dict(sm.graph(model, atoms, positions.dtype, positions.device)), compute_force=False)["energy"].sum()


def per_configuration_mean(pred, ref):
    """Each configuration's mean over its own force components, then the mean over configurations."""
    counts = ref.ptr[1:] - ref.ptr[:-1]
    squares = ((ref["forces"] - pred["forces"]) ** 2).sum(-1)
    per_configuration = torch.zeros(len(counts), dtype=squares.dtype).index_add(0, ref.batch, squares)
    return (per_configuration / (3 * counts)).mean()


def test_forces_without_create_graph_are_named(ta_mixed, loss):
    with pytest.raises(AssertionError, match=re.compile(r"zero gradient.*create_graph=True", re.S)):
        check(ta_model(), ta_mixed[2:3], loss, forces_fn=forces_without_create_graph, trainer_step=None)


def test_sign_flip_is_named(ta_mixed, loss):
    with pytest.raises(AssertionError, match=r"forces_fn has a sign error \(factor −1\)"):
        sc.assert_forces_consistent(ta_model(), sm.energy_fn, ta_mixed[2:3], forces_fn=forces_sign_flipped)
    with pytest.raises(AssertionError, match=r"forces_fn has a sign error \(factor −1\)"):
        check(ta_model(), ta_mixed[2:3], loss, forces_fn=forces_sign_flipped, trainer_step=None)


def test_mean_over_configurations_is_named(ta_mixed, loss):
    def mean_over_configurations(pred, ref):  # MACE's batch mean, divided once more by the batch's M
        return loss(pred=pred, ref=ref) / ref.num_graphs

    with pytest.raises(AssertionError, match=r"the gradient has a factor 1/M: a mean over the M configurations"):
        check(ta_model(), ta_mixed, loss, trainer_step=sm.trainer_step(mean_over_configurations))


def test_mace_mean_against_half_sum_is_named(ta_mixed, loss):
    """MACE's loss checked against snapcheck's default ½Σ|f̂ − f|²: its mean over 3N components, 2/(3N)."""
    with pytest.raises(AssertionError, match=r"the gradient has a factor 2/\(3N\) per configuration: mse_loss"):
        sc.assert_force_loss_gradient(ta_model(), sm.energy_fn, ta_mixed[2:3], trainer_step=sm.trainer_step(loss))


def test_per_configuration_mean_in_mixed_batch_is_named(ta_mixed, loss):
    # against MACE's own loss (a mean over the batch's 3N_batch components) the factors are N_batch/(M·N_c) = 21/N_c
    with pytest.raises(
        AssertionError, match=r"the gradient has a factor 21/N per configuration: each configuration's loss averaged"
    ):
        check(ta_model(), ta_mixed, loss, trainer_step=sm.trainer_step(per_configuration_mean))


def test_energy_fn_ignoring_positions_blamed_in_gradient_check(ta_mixed):
    with pytest.raises(AssertionError, match=r"energy_fn does not depend on the positions tensor"):
        sc.assert_force_loss_gradient(ta_model(), energy_from_graph_positions, ta_mixed[2:3], forces_fn=sm.forces_fn)


def test_energy_fn_ignoring_positions_blamed_in_forces_check(ta_mixed):
    with pytest.raises(AssertionError, match=r"energy_fn does not depend on the positions tensor"):
        sc.assert_forces_consistent(ta_model(), energy_from_graph_positions, ta_mixed[2:3], forces_fn=sm.forces_fn)
