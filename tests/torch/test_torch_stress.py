"""The stress check and the whole training loss (energy, forces, stress) on a torch pair potential and real Ta data."""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch

import snapcheck.torch as sct
from snapcheck.torch import potential as tp


def model(dtype=torch.float64):
    return tp.RadialPotential(dtype=dtype)


def stress_fn(m, atoms, positions, cell):
    """A trainer's stress: (1/V) ∂Ê/∂ε by autograd through a strain of positions and cell, with create_graph."""
    epsilon = torch.zeros((3, 3), dtype=positions.dtype, requires_grad=True)
    deformation = torch.eye(3, dtype=positions.dtype) + epsilon
    energy = tp.energy_fn(m, atoms, positions @ deformation.T, cell @ deformation.T)
    (grad,) = torch.autograd.grad(energy, epsilon, create_graph=True)
    return grad / torch.det(cell).abs()


def stress_of_cell_only(m, atoms, positions, cell):
    """Planted: the strain moves the cell but not the positions."""
    epsilon = torch.zeros((3, 3), dtype=positions.dtype, requires_grad=True)
    energy = tp.energy_fn(m, atoms, positions, cell @ (torch.eye(3, dtype=positions.dtype) + epsilon).T)
    (grad,) = torch.autograd.grad(energy, epsilon, create_graph=True)
    return grad / torch.det(cell).abs()


def energy_with_frozen_shifts(m, atoms, positions, cell=None):
    """Planted: periodic image shifts built once from the unstrained cell (the cell argument is ignored)."""
    return tp.energy_fn(m, atoms, positions)


PLANTED = {
    "sign": (lambda m, a, p, c: -stress_fn(m, a, p, c), r"stress_fn has a sign error \(factor −1\)"),
    "virial as stress": (
        lambda m, a, p, c: -stress_fn(m, a, p, c) * torch.det(c).abs(),
        r"stress_fn has a factor −V per configuration: the virial W = −∂Ê/∂ε = −Vσ",
    ),
    "missing 1/V": (
        lambda m, a, p, c: stress_fn(m, a, p, c) * torch.det(c).abs(),
        r"stress_fn has a factor V per configuration: .* a missing 1/V",
    ),
    "divided by N": (
        lambda m, a, p, c: stress_fn(m, a, p, c) / len(a),
        r"stress_fn has a factor 1/N per configuration: the stress divided by the number of atoms",
    ),
    "GPa": (lambda m, a, p, c: stress_fn(m, a, p, c) * 160.21766208, r"a factor 160\.218: the stress in GPa"),
    "kbar": (lambda m, a, p, c: stress_fn(m, a, p, c) * 1602.1766208, r"a factor 1602\.18: the stress in kbar"),
    "cell only": (stress_of_cell_only, r"stress_fn strains the cell but not the positions"),
    "Voigt order": (
        lambda m, a, p, c: stress_fn(m, a, p, c).reshape(-1)[[0, 4, 8, 1, 2, 5]],  # xx yy zz xy xz yz
        r"Voigt order \(…, xy, xz, yz\), not ASE's",
    ),
}


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_a_correct_stress_passes(dtype, ta_three):
    report = sct.assert_stress_consistent(model(dtype), tp.energy_fn, ta_three, stress_fn=stress_fn)
    assert report.relative_error < (1e-12 if dtype == torch.float64 else 1e-5)
    assert report.difference_error < 1e-7  # autograd through the cell against strained copies of the atoms
    assert repr(report).startswith("StressReport(passed=True")


@pytest.mark.parametrize("name", list(PLANTED))
def test_planted_stress_bugs_are_named(name, ta_three):
    planted, message = PLANTED[name]
    with pytest.raises(sct.CheckFailure, match=re.compile("^.*" + message, re.S)):
        sct.assert_stress_consistent(model(), tp.energy_fn, ta_three, stress_fn=planted)


def test_an_energy_fn_with_cell_terms_frozen_at_the_unstrained_cell_is_named(ta_three):
    with pytest.raises(
        sct.CheckFailure, match="built once from the unstrained cell instead of from the `cell` argument"
    ):
        sct.assert_stress_consistent(model(), energy_with_frozen_shifts, ta_three)


def test_a_three_argument_energy_fn_is_told_what_the_stress_check_needs(ta_three):
    with pytest.raises(ValueError, match=r"needs energy_fn\(model, atoms, positions, cell\)"):
        sct.assert_stress_consistent(model(), lambda m, a, p: tp.energy_fn(m, a, p), ta_three)


# -- the whole training loss ---------------------------------------------------------------------------------
WEIGHTS = {"energy": 1.0, "forces": 3.0, "stress": 100.0}  # 1/eV², Å²/eV², Å⁶/eV²


def whole_loss(predicted, reference, atoms):
    """½ Σ_q w_q |q̂ − q|² over energy (per atom), forces and stress: a trainer's loss, stated for snapcheck."""
    n = len(atoms)
    return 0.5 * (
        WEIGHTS["energy"] * ((predicted["energy"] - reference["energy"]) / n) ** 2
        + WEIGHTS["forces"] * ((predicted["forces"] - reference["forces"]) ** 2).sum()
        + WEIGHTS["stress"] * ((predicted["stress"] - reference["stress"]) ** 2).sum()
    )


def trainer_step(m, configurations, stress_scale=1.0):
    """A double-backprop trainer of that loss: forces and stress with create_graph, then backward."""
    total = 0
    for atoms in configurations:
        positions = torch.tensor(atoms.get_positions(), requires_grad=True)
        cell = torch.tensor(np.asarray(atoms.cell))
        predicted = {
            "energy": tp.energy_fn(m, atoms, positions, cell),
            "forces": tp.forces_fn(m, atoms, positions),
            "stress": stress_scale * stress_fn(m, atoms, positions, cell),
        }
        reference = {
            "energy": torch.tensor(atoms.get_potential_energy(), dtype=torch.float64),
            "forces": torch.tensor(atoms.get_forces()),
            "stress": stress_scale * torch.tensor(atoms.get_stress(voigt=False)),
        }
        total = total + whole_loss(predicted, reference, atoms)
    total.backward()


def test_the_whole_loss_gradient_is_one_directional_derivative(ta_three):
    """Energy term exact, forces and stress by one central difference along (g, H): against the exact product."""
    report = sct.assert_force_loss_gradient(
        model(),
        tp.energy_fn,
        ta_three,
        loss_fn=whole_loss,
        terms=("energy", "forces", "stress"),
        trainer_step=trainer_step,
    )
    assert max(report.relative_errors.values()) < 1e-10
    assert max(report.estimate_vs_exact.values()) < 1e-7  # the strained Eq. 7 against the double backward
    paper = sct.paper_force_loss_gradient(
        sct.TorchPotential(model(), tp.energy_fn, whole_loss, terms=("energy", "forces", "stress")), ta_three
    )
    assert paper.proxy == "energy" and paper.error_bound < 1e-6


def test_a_stress_divided_by_n_inside_the_loss_fails_the_whole_loss_check(ta_three):
    """MACE#437's bug: the stress term of the trainer's loss uses (σ̂ − σ)/N."""

    def divided(m, configurations):
        for atoms in configurations:
            trainer_step(m, [atoms], stress_scale=1.0 / len(atoms))

    with pytest.raises(sct.CheckFailure, match=r"^the stress term of the loss has a factor 1/N² per configuration"):
        sct.assert_force_loss_gradient(
            model(),
            tp.energy_fn,
            ta_three,
            loss_fn=whole_loss,
            terms=("energy", "forces", "stress"),
            trainer_step=divided,
        )
