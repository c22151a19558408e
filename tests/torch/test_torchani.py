"""TorchANI 2.9.0's force training (``forces_for_training``, its docs' training step) checked by snapcheck.torch on Ta.

The batch mixes sizes N = 2, 4, 24, 54 (``ta_mixed``).  TorchANI's loss is a per-configuration mean
over atoms and a mean over configurations; the planted reduction bugs are specifications that sum
where it averages, so each factor is known: 1/N_c per configuration, 1/M for the batch.
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest
import torch

import snapcheck.torch as sc
from snapcheck.torch import torchani as sa

DOCS = Path(__file__).resolve().parents[2] / "docs" / "torch.md"


@pytest.fixture(scope="module", autouse=True)
def torchani_installed():
    """torchani is in the trainers extra: fail with the install line, never skip."""
    if importlib.util.find_spec("torchani") is None:
        pytest.fail("torchani is not installed: pip install torchani==2.9.0 (snapcheck's trainers extra)")


def check(model, configurations, **kwargs):
    options = dict(forces_fn=sa.forces_fn, trainer_step=sa.trainer_step(), loss_fn=sa.loss_fn(configurations))
    return sc.assert_force_loss_gradient(model, sa.energy_fn, configurations, **(options | kwargs))


# -- a TorchANI user's code, right -----------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_torchani_trainer_passes(dtype, ta_mixed):
    model = sa.ta_model(dtype)
    sc.assert_forces_consistent(model, sa.energy_fn, ta_mixed, forces_fn=sa.forces_fn)
    report = check(model, ta_mixed)
    print(report)
    assert max(report.relative_errors.values()) < (1e-13 if dtype == torch.float64 else 1e-5)
    assert max(report.estimate_vs_exact.values()) < 1e-7  # Eq. 7 against the exact product: the independent oracle
    assert len(report.relative_errors) == sum(1 for p in model.parameters() if p.requires_grad)


def test_docs_example():
    """docs/torch.md's TorchANI example runs as written, and its trainer agrees with the reference."""
    text = DOCS.read_text()
    code = re.search(r"```python\n(.*?)```", text[text.index("### TorchANI 2.9.0") :], re.S).group(1)
    namespace: dict = {}
    exec(compile(code, str(DOCS), "exec"), namespace)
    assert max(namespace["report"].relative_errors.values()) < 1e-13


# -- planted bugs: detected and named --------------------------------------------------------------------
def forces_without_create_graph(model, atoms, positions):  # torchani.grad.forces: create_graph=False by default
    from torchani.grad import forces

    species_coordinates, periodic = sa.inputs(atoms, positions)
    return forces(model(species_coordinates, **periodic).energies, positions) * sa.hartree()


def gradient_for_forces(model, atoms, positions):  # torchani.grad.grads is +∂Ê/∂r
    from torchani.grad import grads

    species_coordinates, periodic = sa.inputs(atoms, positions)
    return grads(model(species_coordinates, **periodic).energies, positions, create_graph=True) * sa.hartree()


def energy_from_atoms_positions(model, atoms, positions):  # ignores `positions`: reads the atoms' own
    return sa.energy_fn(model, atoms, torch.tensor(atoms.get_positions(), dtype=positions.dtype))


def summed_over_atoms(configurations):
    """A specification that sums over each configuration's atoms (TorchANI divides by N_c)."""
    scale = sa.FORCE_COEFFICIENT / (sa.hartree() ** 2 * len(configurations))
    return lambda predicted, reference, atoms: scale * ((predicted - reference) ** 2).sum()


def summed_over_configurations(predicted, reference, atoms):
    """A specification that sums over configurations (TorchANI takes their mean)."""
    return sa.FORCE_COEFFICIENT / sa.hartree() ** 2 * ((predicted - reference) ** 2).sum() / len(atoms)


def test_forces_without_create_graph_are_named(ta_mixed):
    with pytest.raises(AssertionError, match=re.compile(r"zero gradient.*create_graph=True", re.S)):
        check(sa.ta_model(), ta_mixed, forces_fn=forces_without_create_graph, trainer_step=None)


def test_sign_flip_is_named(ta_mixed):
    with pytest.raises(AssertionError, match=r"forces_fn has a sign error \(factor −1\)"):
        sc.assert_forces_consistent(sa.ta_model(), sa.energy_fn, ta_mixed, forces_fn=gradient_for_forces)
    with pytest.raises(AssertionError, match=r"forces_fn has a sign error \(factor −1\)"):
        check(sa.ta_model(), ta_mixed, forces_fn=gradient_for_forces, trainer_step=None)


def test_mean_over_configurations_against_sum_is_named(ta_mixed):
    with pytest.raises(AssertionError, match=r"the gradient has a factor 1/M: a mean over the M configurations"):
        check(sa.ta_model(), ta_mixed, loss_fn=summed_over_configurations)


def test_per_configuration_mean_in_mixed_batch_is_named(ta_mixed):
    with pytest.raises(
        AssertionError, match=r"the gradient has a factor 1/N per configuration: a mean over each configuration's atoms"
    ):
        check(sa.ta_model(), ta_mixed, loss_fn=summed_over_atoms(ta_mixed))


def test_energy_fn_ignoring_positions_blamed_in_gradient_check(ta_mixed):
    with pytest.raises(AssertionError, match=r"energy_fn does not depend on the positions tensor"):
        sc.assert_force_loss_gradient(sa.ta_model(), energy_from_atoms_positions, ta_mixed, forces_fn=sa.forces_fn)


def test_energy_fn_ignoring_positions_blamed_in_forces_check(ta_mixed):
    with pytest.raises(AssertionError, match=r"energy_fn does not depend on the positions tensor"):
        sc.assert_forces_consistent(sa.ta_model(), energy_from_atoms_positions, ta_mixed, forces_fn=sa.forces_fn)
