"""MACE 0.3.16's stress (its ``compute_stress`` code, its ``WeightedEnergyForcesStressLoss``, its training step)
checked by snapcheck.torch on Ta: σ̂ against (1/V) ∂Ê/∂ε, and the whole loss's gradient against the strained Eq. 7.

The batch mixes sizes N = 2, 4, 24, 54 (``ta_mixed``), so a per-configuration factor such as 1/N cannot pass
for a constant one.  Planted bugs are each a line a MACE user could write; every one must be detected and named.
"""

from __future__ import annotations

import copy
import functools
import importlib.util
import re
from pathlib import Path

import numpy as np
import pytest
import torch

import snapcheck.torch as sct
from snapcheck.torch import mace as sm
from snapcheck.torch.stress import strained

DOCS = Path(__file__).resolve().parents[2] / "docs" / "torch.md"

# e3nn 0.4.4 compiles and copies its modules with TorchScript, which torch 2.13 deprecates, and reads its
# constants with torch.load under the variable mace sets: hundreds of warnings per run, none about snapcheck
pytestmark = [
    pytest.mark.filterwarnings(r"ignore:`torch\.jit\.\w+` is deprecated:DeprecationWarning"),
    pytest.mark.filterwarnings("ignore:The TorchScript type system doesn't support:UserWarning"),
    pytest.mark.filterwarnings("ignore:Environment variable TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD:UserWarning"),
]

#: MACE's weights w_E, w_F, w_S for the whole loss (its defaults for --loss stress are 1, 100, 1).
WEIGHTS = {"energy_weight": 1.0, "forces_weight": 10.0, "stress_weight": 100.0}


@pytest.fixture(scope="module", autouse=True)
def mace_installed():
    """mace-torch is in the trainers extra: fail with the install line, never skip."""
    if importlib.util.find_spec("mace") is None:
        pytest.fail(
            "mace-torch is not installed: pip install mace-torch==0.3.16 e3nn==0.4.4 (snapcheck's trainers extra)"
        )


@pytest.fixture(scope="module")
def loss():
    from mace.modules.loss import WeightedEnergyForcesStressLoss

    return WeightedEnergyForcesStressLoss(**WEIGHTS)


@functools.cache
def built(dtype):
    return sm.ta_model(dtype)  # e3nn's code generation makes the first build take seconds


def ta_model(dtype=torch.float64):
    return copy.deepcopy(built(dtype))


def whole_loss(configurations, loss, trainer_loss) -> dict:
    """The whole-loss check's options: MACE's training step with ``trainer_loss``, the specification of ``loss``."""
    return dict(
        terms=sm.TERMS,
        trainer_step=sm.trainer_step(trainer_loss, compute_stress=True),
        loss_fn=sm.loss_fn(loss, configurations),
    )


# -- a MACE user's code, right -------------------------------------------------------------------------
def test_energy_and_stress_of_a_strained_cell_are_mace_own(ta_mixed):
    """energy_fn and stress_fn at strained positions and cell (shifts n·cell on the skin graph of the unstrained
    atoms) equal MACE's own energy and stress on its own r_max graph of a strained copy of the atoms."""
    model = ta_model()
    strain = np.array([[1e-2, 2e-3, 0.0], [2e-3, -5e-3, 1e-3], [0.0, 1e-3, 3e-3]])  # symmetric, ≤ 1%
    deformation = torch.eye(3, dtype=torch.float64) + torch.tensor(strain)
    for atoms in ta_mixed:
        own = sm.mace_batch(model, [strained(atoms, strain)], float(model.r_max), torch.float64, "cpu").to_dict()
        expected = {key: value.detach() for key, value in model(own, compute_stress=True).items() if value is not None}
        positions = torch.tensor(atoms.get_positions()) @ deformation.T
        cell = torch.tensor(np.asarray(atoms.cell)) @ deformation.T
        energy = float(sm.energy_fn(model, atoms, positions, cell).detach())
        assert abs(energy - float(expected["energy"].sum())) < 1e-12 * abs(energy)
        stress = sm.stress_fn(model, atoms, positions.detach(), cell).detach()
        scale = float(expected["stress"].abs().max())
        assert scale > 1e-4  # eV/Å³: a strain of 1% stresses every cell
        assert float((stress - expected["stress"][0]).abs().max()) < 1e-12 * scale


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_mace_stress_passes(dtype, ta_mixed):
    report = sct.assert_stress_consistent(ta_model(dtype), sm.energy_fn, ta_mixed, stress_fn=sm.stress_fn)
    print(report)
    assert report.relative_error < (1e-13 if dtype == torch.float64 else 1e-5)
    assert report.difference_error < 1e-7  # autograd through the cell against strained copies of the atoms


def test_mace_whole_loss_passes(ta_mixed, loss):
    """MACE's own step with WeightedEnergyForcesStressLoss against its specification: the exact product decides,
    and the strained Eq. 7 (one central difference along g and H) agrees with it, the independent oracle."""
    report = sct.assert_force_loss_gradient(
        ta_model(),
        sm.energy_fn,
        ta_mixed,
        forces_fn=sm.forces_fn,
        terms=sm.TERMS,
        trainer_step=sm.trainer_step(loss),
        loss_fn=sm.loss_fn(loss, ta_mixed),
    )
    print(report)
    assert max(report.relative_errors.values()) < 1e-13
    assert max(report.estimate_vs_exact.values()) < 1e-7


def test_docs_example():
    """docs/torch.md's MACE stress example runs as written, and MACE's stress and whole-loss gradient agree."""
    text = DOCS.read_text()
    code = re.search(r"```python\n(.*?)```", text[text.index("### MACE stress") :], re.S).group(1)
    namespace: dict = {}
    exec(compile(code, str(DOCS), "exec"), namespace)
    assert namespace["stress"].relative_error < 1e-13
    assert max(namespace["report"].relative_errors.values()) < 1e-13


# -- planted bugs: detected and named --------------------------------------------------------------------
def mace_virials(model, atoms, positions, cell):
    """MACE's ``output["virials"]``, W = −∂Ê/∂ε = −Vσ (eV)."""
    output = model(sm.mace_input(model, atoms, positions, cell), compute_stress=True, training=True)
    return output["virials"].reshape(3, 3)


PLANTED = {
    "stress divided by N (MACE#437)": (
        lambda m, a, p, c: sm.stress_fn(m, a, p, c) / len(a),
        r"stress_fn has a factor 1/N per configuration: the stress divided by the number of atoms",
    ),
    "pressure P = −σ": (
        lambda m, a, p, c: -sm.stress_fn(m, a, p, c),
        r"stress_fn has a sign error \(factor −1\)",
    ),
    "virials as stress": (
        mace_virials,
        r"stress_fn has a factor −V per configuration: the virial W = −∂Ê/∂ε = −Vσ given where the stress σ was due",
    ),
    "missing 1/V (−virials)": (
        lambda m, a, p, c: -mace_virials(m, a, p, c),
        r"stress_fn has a factor V per configuration: ∂Ê/∂ε \(a virial\) given where \(1/V\) ∂Ê/∂ε was due, "
        r"a missing 1/V",
    ),
}


@pytest.mark.parametrize("name", list(PLANTED))
def test_planted_stress_bugs_are_named(name, ta_mixed):
    planted, message = PLANTED[name]
    with pytest.raises(sct.CheckFailure, match="^" + message):
        sct.assert_stress_consistent(ta_model(), sm.energy_fn, ta_mixed, stress_fn=planted)


def stress_loss_divided_by_n(energy_weight, forces_weight, stress_weight):
    """MACE's stress loss before its fix of issue #437: (σ − σ̂)/N inside the square (``weighted_mean_squared_stress``
    as it was), beside its own energy and force terms."""
    from mace.modules.loss import mean_squared_error_forces, weighted_mean_squared_error_energy

    def loss(pred, ref):
        n = (ref.ptr[1:] - ref.ptr[:-1]).view(-1, 1, 1)
        weight = ref.weight.view(-1, 1, 1) * ref.stress_weight.view(-1, 1, 1)
        stress = torch.mean(weight * torch.square((ref["stress"] - pred["stress"]) / n))
        return (
            energy_weight * weighted_mean_squared_error_energy(ref, pred)
            + forces_weight * mean_squared_error_forces(ref, pred)
            + stress_weight * stress
        )

    return loss


def test_stress_loss_divided_by_n_is_named_in_a_stress_only_loss(ta_mixed):
    """MACE#437 with the stress term alone: the whole gradient scales by 1/N² per configuration, and is named."""
    from mace.modules.loss import WeightedEnergyForcesStressLoss

    weights = dict(energy_weight=0.0, forces_weight=0.0, stress_weight=100.0)
    with pytest.raises(
        sct.CheckFailure,
        match=r"^the stress term of the loss has a factor 1/N² per configuration: a quantity",
    ):
        sct.assert_force_loss_gradient(
            ta_model(),
            sm.energy_fn,
            ta_mixed,
            **whole_loss(ta_mixed, WeightedEnergyForcesStressLoss(**weights), stress_loss_divided_by_n(**weights)),
        )


def test_stress_loss_divided_by_n_is_named_in_the_whole_loss(ta_mixed, loss):
    """MACE#437 in the whole loss: detected (a failure to detect fails this test outright, not as xfail), and the
    message must name the stress term's 1/N² per configuration."""
    options = whole_loss(ta_mixed, loss, stress_loss_divided_by_n(**WEIGHTS))
    report = sct.force_loss_gradient_error(ta_model(), sm.energy_fn, ta_mixed, **options)
    if report.passed:
        pytest.fail("the stress loss divided by N passed the whole-loss check")
    assert re.search(r"stress.*1/N² per configuration|1/N² per configuration.*stress", report.problems[0]), str(report)
