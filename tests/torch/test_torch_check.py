"""snapcheck.torch on a real PyTorch potential and real Ta DFT data: correct trainers pass, planted bugs are named."""

from __future__ import annotations

import re

import pytest
import torch

import snapcheck.torch as sc
from snapcheck.data.configuration import Configuration
from snapcheck.torch import potential as tp


def model(dtype=torch.float64, **kwargs):
    return tp.RadialPotential(dtype=dtype, **kwargs)


# -- a trainer's force code, right and wrong -------------------------------------------------------------
def forces_detached(m, atoms, positions):  # the geometry detached: autograd finds no path, the trainer uses zeros
    grad = torch.autograd.grad(tp.energy_fn(m, atoms, positions.detach()), positions, allow_unused=True)[0]
    return torch.zeros_like(positions) if grad is None else -grad


def forces_no_create_graph(m, atoms, positions):
    return -torch.autograd.grad(tp.energy_fn(m, atoms, positions), positions)[0]


def forces_sign(m, atoms, positions):
    return torch.autograd.grad(tp.energy_fn(m, atoms, positions), positions, create_graph=True)[0]


def forces_of_mean_energy(m, atoms, positions):  # −∂(Ê/N)/∂r
    return -torch.autograd.grad(tp.energy_fn(m, atoms, positions) / len(atoms), positions, create_graph=True)[0]


def trainer_step_mse(m, configurations):
    """A trainer that uses torch's mse_loss (a mean) where the specification says ½Σ|f̂−f|²."""
    dtype = next(m.parameters()).dtype
    for atoms in configurations:
        positions = torch.tensor(atoms.get_positions(), dtype=dtype, requires_grad=True)
        reference = torch.tensor(atoms.get_forces(), dtype=dtype)
        torch.nn.functional.mse_loss(tp.forces_fn(m, atoms, positions), reference).backward()


# -- correct trainers pass with default tolerances -------------------------------------------------------
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_correct_model_passes_default_tolerances(dtype, ta_three):
    report = sc.assert_force_loss_gradient(model(dtype), tp.energy_fn, ta_three, forces_fn=tp.forces_fn)
    assert set(report.relative_errors) == {n for n, _ in model(dtype).named_parameters()}
    assert report.rtol == sc.DEFAULT_RTOL[report.precision] and report.reference_precision == "float64"
    assert max(report.relative_errors.values()) < (1e-10 if dtype == torch.float64 else 1e-5)
    assert report.energy_only == ["offset", "net.2.bias"]  # they enter Ê, not f̂
    assert max(report.estimate_vs_exact.values()) < 1e-8  # Eq. 7 at the automatic ε against the exact product
    assert 1e-7 <= report.epsilon <= 1e-4 and report.error_bound < 1e-9


def test_five_lines_of_user_code(ta_three):
    """The docs' example: a user's model checked in five lines (snapcheck Configurations work too)."""
    configurations = [Configuration.from_atoms(a) for a in ta_three[:2]]
    m = model()
    sc.assert_forces_consistent(m, tp.energy_fn, configurations, forces_fn=tp.forces_fn)
    report = sc.assert_force_loss_gradient(m, tp.energy_fn, configurations, forces_fn=tp.forces_fn)
    assert max(report.relative_errors.values()) < 1e-10


def test_float32_with_large_energy_offset_passes(ta_three):
    m = model(torch.float32, offset=-250.0)  # Ê ≈ −1.9e4 eV over the three configurations
    report = sc.assert_force_loss_gradient(m, tp.energy_fn, ta_three, forces_fn=tp.forces_fn)
    assert max(report.relative_errors.values()) < 1e-5 and not report.warnings


def energy_in_float32(m, atoms, positions):
    """An energy_fn that hard-codes float32: no float64 copy of the model can be referenced through it."""
    return tp.energy_fn(m.float(), atoms, positions.float())


def test_a_float32_reference_is_announced(ta_three):
    m = model(torch.float32, offset=-250.0)
    report = sc.assert_force_loss_gradient(m, energy_in_float32, ta_three, forces_fn=tp.forces_fn)
    # the native float32 reference, ε by the gradient proxy: it still certifies 1e-3, and says what it cannot see
    assert report.reference_precision == "float32" and report.proxy == "gradient" and report.error_bound < 3e-3
    assert report.tolerance == report.rtol + report.error_bound
    assert max(report.relative_errors.values()) < 1e-3
    assert "the reference runs in float32" in report.warnings[0] and "warning: the reference runs" in str(report)


def test_general_loss_function(ta_three):
    def huber(predicted, reference, atoms):
        return torch.nn.functional.huber_loss(predicted, reference, reduction="sum", delta=0.3)

    report = sc.assert_force_loss_gradient(model(), tp.energy_fn, ta_three, loss_fn=huber)
    assert max(report.relative_errors.values()) < 1e-10 and max(report.estimate_vs_exact.values()) < 1e-7


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_forces_consistent_passes(dtype, ta_three):
    report = sc.assert_forces_consistent(model(dtype), tp.energy_fn, ta_three, forces_fn=tp.forces_fn)
    assert report.relative_error < (1e-12 if dtype == torch.float64 else 1e-6)


def test_fixture(force_training_check, ta_three):
    report = force_training_check(model(), tp.energy_fn, ta_three[:1], forces_fn=tp.forces_fn)
    assert report.rtol == 1e-6 and len(report.n_atoms) == 1


# -- planted bugs are named ------------------------------------------------------------------------------
PLANTED = [
    (forces_detached, r"zero gradient.*zero forces.*detached"),
    (forces_no_create_graph, r"zero gradient.*create_graph=True"),
    (forces_sign, r"forces_fn has a sign error \(factor −1\) against −∂Ê/∂r; forces are −∂Ê/∂r"),
    (
        forces_of_mean_energy,
        r"forces_fn has a factor 1/N per configuration: .* against −∂Ê/∂r; the forces of a per-atom mean",
    ),
]


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@pytest.mark.parametrize("forces_fn,diagnosis", PLANTED, ids=[p[0].__name__ for p in PLANTED])
def test_planted_force_bugs(forces_fn, diagnosis, dtype, ta_three):
    with pytest.raises(AssertionError, match=re.compile(diagnosis, re.S)):
        sc.assert_force_loss_gradient(model(dtype), tp.energy_fn, ta_three, forces_fn=forces_fn)


@pytest.mark.parametrize("forces_fn,diagnosis", [p for p in PLANTED if p[0] is not forces_no_create_graph])
def test_forces_consistency_names_bug(forces_fn, diagnosis, ta_three):
    with pytest.raises(AssertionError, match=re.compile(diagnosis.replace("zero gradient.*", ""), re.S)):
        sc.assert_forces_consistent(model(), tp.energy_fn, ta_three, forces_fn=forces_fn)


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_mean_instead_of_sum_is_named(dtype, ta_three):
    with pytest.raises(
        sc.CheckFailure,
        match=r"the gradient has a factor 2/\(3N\) per configuration: mse_loss.*ratio to the reference 0\.0138889",
    ) as info:
        sc.assert_force_loss_gradient(model(dtype), tp.energy_fn, ta_three[2:], trainer_step=trainer_step_mse)
    assert "N = 48 atoms" in str(info.value) and not info.value.report.passed


class WithUnusedModule(tp.RadialPotential):
    """Planted: a registered module that never enters the energy."""

    def __init__(self):
        super().__init__()
        self.forgotten = torch.nn.Linear(8, 1).double()


def test_unused_parameter_is_named(ta_three):
    with pytest.raises(AssertionError, match=r"forgotten\.weight, forgotten\.bias never receive a gradient"):
        sc.assert_force_loss_gradient(WithUnusedModule(), tp.energy_fn, ta_three[:1])
    sc.assert_force_loss_gradient(
        WithUnusedModule(), tp.energy_fn, ta_three[:1], allow_unused=["forgotten.weight", "forgotten.bias"]
    )


def test_missing_gradient_is_named(ta_three):
    def trainer_step(m, configurations):  # a trainer that freezes gamma in its force path
        for atoms in configurations:
            positions = torch.tensor(atoms.get_positions(), requires_grad=True)
            gamma = m.gamma
            m.gamma = torch.nn.Parameter(gamma.detach(), requires_grad=False)
            try:
                forces = tp.forces_fn(m, atoms, positions)
            finally:
                m.gamma = gamma
            sc.default_loss(forces, torch.tensor(atoms.get_forces()), atoms).backward()

    with pytest.raises(AssertionError, match=r"missing gradient: parameter tensor\(s\) gamma receive no gradient"):
        sc.assert_force_loss_gradient(model(), tp.energy_fn, ta_three, trainer_step=trainer_step)


def test_float32_precision_limit_is_named(ta_three):
    with pytest.raises(AssertionError, match="float32 precision limit"):
        sc.assert_force_loss_gradient(model(torch.float32), tp.energy_fn, ta_three, forces_fn=tp.forces_fn, rtol=1e-8)


def test_energy_fn_detached_from_positions_is_refused(ta_three):
    def energy_numpy(m, atoms, positions):
        return tp.energy_fn(m, atoms, torch.tensor(positions.detach().numpy()))

    with pytest.raises(AssertionError, match="energy_fn does not depend on the positions tensor snapcheck passes"):
        sc.assert_force_loss_gradient(model(), energy_numpy, ta_three[:1])


def test_an_energy_fn_that_ignores_positions_is_blamed_not_the_forces(ta_three, force_training_check):
    """The natural MACE mistake: Ê from the atoms' own positions, while the trainer's forces are right."""

    def energy_of_own_positions(m, atoms, positions):
        return tp.energy_fn(m, atoms, torch.tensor(atoms.get_positions()))

    for check in (sc.assert_forces_consistent, sc.assert_force_loss_gradient, force_training_check):
        with pytest.raises(AssertionError, match="^energy_fn does not depend on the positions tensor"):
            check(model(), energy_of_own_positions, ta_three[:2], forces_fn=tp.forces_fn)


def test_a_per_configuration_mean_in_a_mixed_batch_is_named(ta_three):
    """A trainer that averages each configuration's loss over its atoms, in a batch of N = 4, 24, 48."""

    def trainer_step(m, configurations):
        total = 0
        for atoms in configurations:
            positions = torch.tensor(atoms.get_positions(), requires_grad=True)
            forces = tp.forces_fn(m, atoms, positions)
            total = total + sc.default_loss(forces, torch.tensor(atoms.get_forces()), atoms) / len(atoms)
        total.backward()

    with pytest.raises(sc.CheckFailure, match=r"the gradient has a factor 1/N per configuration: a mean over each"):
        sc.assert_force_loss_gradient(model(), tp.energy_fn, ta_three, trainer_step=trainer_step)


# -- the paper's first-order step ------------------------------------------------------------------------
@pytest.mark.parametrize("dtype,tolerance", [(torch.float64, 1e-8), (torch.float32, 2e-3)])
def test_paper_gradient_fills_grad(dtype, tolerance, ta_three):
    m = model(dtype, offset=-11.8)
    potential = sc.TorchPotential(m, tp.energy_fn)
    report = sc.paper_force_loss_gradient(potential, ta_three)
    potential.add_to_grad(report.gradient)
    paper = {n: p.grad.clone() for n, p in m.named_parameters()}
    m.zero_grad(set_to_none=True)
    total = sum(
        sc.default_loss(
            tp.forces_fn(m, a, torch.tensor(a.get_positions(), dtype=dtype, requires_grad=True)),
            torch.tensor(a.get_forces(), dtype=dtype),
            a,
        )
        for a in ta_three
    )
    total.backward()
    for name, p in m.named_parameters():
        if name in ("offset", "net.2.bias"):
            assert p.grad is None and float(paper[name].abs().max()) == 0.0
            continue
        assert float((paper[name] - p.grad).norm() / p.grad.norm()) < tolerance, name
    assert report.proxy == ("energy" if dtype == torch.float64 else "gradient")


def test_configuration_round_trip_through_ase(ta_three):
    atoms = ta_three[1]
    configuration = Configuration.from_atoms(atoms)
    back = configuration.to_atoms()
    assert configuration.label == "GSF_110/GSF_110_0" and configuration.n_atoms == 24
    assert (back.get_positions() == atoms.get_positions()).all() and (back.get_forces() == atoms.get_forces()).all()
    assert back.get_potential_energy() == atoms.get_potential_energy()
    assert abs(back.get_stress() - atoms.get_stress()).max() < 1e-12 * abs(atoms.get_stress()).max()


def test_an_isolated_atom_is_no_false_positive(ta_three):
    """An atom without neighbours has Ê without a graph to its position and f̂ = 0: a correct trainer still passes."""
    from ase import Atoms
    from ase.calculators.singlepoint import SinglePointCalculator

    isolated = Atoms("Ta", positions=[[5.0, 5.0, 5.0]], cell=[20.0, 20.0, 20.0], pbc=True)
    isolated.calc = SinglePointCalculator(isolated, energy=-11.8, forces=[[0.1, 0.0, 0.0]])
    batch = [isolated, ta_three[0]]
    sc.assert_forces_consistent(model(), tp.energy_fn, batch, forces_fn=tp.forces_fn)
    sc.assert_force_loss_gradient(model(), tp.energy_fn, batch, forces_fn=tp.forces_fn)
