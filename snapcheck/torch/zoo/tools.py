"""The tools a case is run through: snapcheck's three checks, and what a trainer has today.

Each tool returns an :class:`Outcome`: whether it flagged the case, what it said, and its wall time.
Today's tools, as a trainer would run them:

* ``torch.autograd.gradcheck`` and ``gradgradcheck`` (default tolerances) on the energy and on the
  trainer's forces, each as a function of θ and r (``torch.func.functional_call``), on the case's smallest
  configuration;
* ASE's finite differences, ``ase.calculators.fd.calculate_numerical_forces`` and
  ``calculate_numerical_stress`` at ASE's default steps, through a small calculator around the trainer's
  code (:class:`ModelCalculator`), against that calculator's own forces and stress;
* "the loss decreases over 20 Adam steps" of the trainer's own loss, in the model's dtype.

Finite differences need float64 (in float32 the round-off of Ê, ~1e-5 eV, divided by ASE's 2e-6 Å is an
error of several eV/Å), so gradcheck and ASE check a float32 model on a float64 copy, as a careful trainer
does.
"""

from __future__ import annotations

import copy
import math
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass

import torch
from ase.calculators.calculator import Calculator, all_changes
from ase.calculators.fd import calculate_numerical_forces, calculate_numerical_stress

import snapcheck.torch as sct
from snapcheck.gradients.paper import relative_error_over
from snapcheck.torch.determinism import seeded
from snapcheck.torch.zoo.registry import Case

#: The ASE tool's steps (ASE's defaults: 1e-6 Å, strain 1e-6) and the relative error it flags.
ASE_DISPLACEMENT, ASE_STRAIN, ASE_TOLERANCE = 1e-6, 1e-6, 1e-4
ADAM_STEPS, ADAM_LR = 20, 1e-2
#: Every tool: its name in ``reports/zoo.csv`` → (family, short label) in the tables of ``docs/zoo.md``, in order.
TOOLS = {
    "snapcheck.torch.assert_forces_consistent": ("snapcheck", "forces"),
    "snapcheck.torch.assert_force_loss_gradient": ("snapcheck", "gradient"),
    "snapcheck.torch.assert_stress_consistent": ("snapcheck", "stress"),
    "torch.gradcheck(energy)": ("gradcheck / gradgradcheck", "gradcheck(Ê)"),
    "torch.gradgradcheck(energy)": ("gradcheck / gradgradcheck", "gradgradcheck(Ê)"),
    "torch.gradcheck(forces)": ("gradcheck / gradgradcheck", "gradcheck(f̂)"),
    "torch.gradgradcheck(forces)": ("gradcheck / gradgradcheck", "gradgradcheck(f̂)"),
    "ase.numerical_forces": ("ASE finite differences", "forces"),
    "ase.numerical_stress": ("ASE finite differences", "stress"),
    f"adam.{ADAM_STEPS}_steps": (f"{ADAM_STEPS} Adam steps", "the loss did not fall"),
}


@dataclass(frozen=True)
class Outcome:
    tool: str
    detected: bool
    message: str
    seconds: float


def timed(tool: str, run: Callable[[], tuple[bool, str]]) -> Outcome:
    """``run()`` → (flagged, message); an exception counts as flagged (a loud failure), its first line the message."""
    start = time.perf_counter()
    try:
        detected, message = run()
    except Exception as error:  # noqa: BLE001 - any failure of a tool is what the tool reports
        detected, message = True, f"{type(error).__name__}: {str(error).strip().splitlines()[0] if str(error) else ''}"
    return Outcome(tool, detected, message, time.perf_counter() - start)


def first_problem(report) -> tuple[bool, str]:
    return (not report.passed), (report.problems[0] if report.problems else repr(report))


# -- snapcheck -------------------------------------------------------------------------------------------------
def snapcheck_tools(case: Case) -> list[Outcome]:
    """assert_forces_consistent, assert_force_loss_gradient and (with a stress code) assert_stress_consistent."""
    m, e, batch = case.model, case.energy_fn, case.configurations
    outcomes = [
        timed(
            "snapcheck.torch.assert_forces_consistent",
            lambda: first_problem(sct.forces_error(m, e, batch, forces_fn=case.forces_fn)),
        ),
        timed(
            "snapcheck.torch.assert_force_loss_gradient",
            lambda: first_problem(
                sct.force_loss_gradient_error(
                    m,
                    e,
                    batch,
                    forces_fn=case.forces_fn,
                    stress_fn=case.stress_fn,
                    loss_fn=case.loss_fn,
                    terms=case.terms,
                    trainer_step=case.trainer_step(),
                )
            ),
        ),
    ]
    if case.stress_fn is not None:
        outcomes.append(
            timed(
                "snapcheck.torch.assert_stress_consistent",
                lambda: first_problem(sct.stress_error(m, e, batch, stress_fn=case.stress_fn)),
            )
        )
    return outcomes


# -- torch.autograd.gradcheck and gradgradcheck -----------------------------------------------------------------
class Bound(torch.nn.Module):
    """``function(model, atoms, positions)`` as a module of the positions alone, so functional_call can swap θ."""

    def __init__(self, model, function, atoms):
        super().__init__()
        self.model, self.function, self.atoms = model, function, atoms

    def forward(self, positions):
        return self.function(self.model, self.atoms, positions)


def of_parameters_and_positions(model, function, atoms):
    """(f(r, *θ), inputs): ``function`` as a function of the positions and every trained parameter, in float64."""
    model = copy.deepcopy(model).double()
    bound = Bound(model, function, atoms)
    named = [(f"model.{n}", p) for n, p in model.named_parameters() if p.requires_grad]
    positions = torch.tensor(atoms.get_positions(), dtype=torch.float64, requires_grad=True)
    inputs = (positions, *(p.detach().clone().requires_grad_(True) for _, p in named))

    def f(positions, *parameters):
        return torch.func.functional_call(bound, dict(zip((n for n, _ in named), parameters)), (positions,))

    return f, inputs


def gradcheck_tools(case: Case) -> list[Outcome]:
    """gradcheck and gradgradcheck of Ê(θ, r) and of the trainer's f̂(θ, r) on the smallest configuration."""
    atoms = min(case.configurations, key=len)
    outcomes = []
    for quantity, function in (("energy", case.energy_fn), ("forces", case.forces_fn)):
        for name, check in (("gradcheck", torch.autograd.gradcheck), ("gradgradcheck", torch.autograd.gradgradcheck)):

            def run(function=function, check=check):
                f, inputs = of_parameters_and_positions(case.model, function, atoms)
                with seeded(0), warnings.catch_warnings():  # gradgradcheck draws its grad_outputs
                    warnings.simplefilter("ignore", UserWarning)
                    return not check(f, inputs), "passed"

            outcomes.append(timed(f"torch.{name}({quantity})", run))
    return outcomes


# -- ASE's numerical forces and stress ---------------------------------------------------------------------------
class ModelCalculator(Calculator):
    """An ASE calculator around the trainer's code: Ê from ``energy_fn``, its forces and stress from its own
    ``forces_fn`` and ``stress_fn``.  Its graph is built from a new copy of the atoms whenever the cell,
    the periodicity or the atoms change; a displacement (within the skin) reuses it."""

    implemented_properties = ["energy", "free_energy", "forces", "stress"]

    def __init__(self, case: Case, model):
        super().__init__()
        self.case, self.model, self.graph_atoms = case, model, None
        self.dtype = next(model.parameters()).dtype

    def calculate(self, atoms=None, properties=("energy",), system_changes=all_changes):
        super().calculate(atoms, properties, system_changes)
        if self.graph_atoms is None or set(system_changes) - {"positions"}:
            self.graph_atoms = self.atoms.copy()
        atoms = self.graph_atoms
        atoms.positions[:] = self.atoms.positions
        positions = torch.tensor(atoms.get_positions(), dtype=self.dtype, requires_grad=True)
        energy = float(self.case.energy_fn(self.model, atoms, positions).detach())
        self.results["energy"] = self.results["free_energy"] = energy
        if "forces" in properties:
            self.results["forces"] = self.case.forces_fn(self.model, atoms, positions).detach().double().numpy()
        if "stress" in properties:
            cell = torch.tensor(atoms.cell.array, dtype=self.dtype)
            stress = self.case.stress_fn(self.model, atoms, positions, cell).detach().double().numpy()
            self.results["stress"] = stress.flat[[0, 4, 8, 5, 2, 1]]


def ase_tools(case: Case) -> list[Outcome]:
    """The calculator's forces (and stress) against ASE's finite differences of its energy, over the case's
    configurations, on a float64 copy of the model."""

    def compare(quantity: str) -> tuple[bool, str]:
        model = copy.deepcopy(case.model).double()
        calculated, numerical = [], []
        for atoms in case.configurations:
            atoms = atoms.copy()
            atoms.calc = ModelCalculator(case, model)
            if quantity == "forces":
                calculated.append(atoms.get_forces())
                numerical.append(calculate_numerical_forces(atoms, eps=ASE_DISPLACEMENT))
            else:
                calculated.append(atoms.get_stress())
                numerical.append(calculate_numerical_stress(atoms, eps=ASE_STRAIN))
        error = relative_error_over(calculated, numerical)
        message = f"{quantity} vs ASE finite differences: relative error {error:.2e} (flagged above {ASE_TOLERANCE:g})"
        return error > ASE_TOLERANCE, message

    outcomes = [timed("ase.numerical_forces", lambda: compare("forces"))]
    if case.stress_fn is not None:
        outcomes.append(timed("ase.numerical_stress", lambda: compare("stress")))
    return outcomes


# -- the loss decreases ------------------------------------------------------------------------------------------
def adam_tool(case: Case) -> Outcome:
    """Flagged when the trainer's own loss does not fall over 20 Adam steps (or is not finite)."""

    def run() -> tuple[bool, str]:
        model = copy.deepcopy(case.model)
        optimizer = torch.optim.Adam(model.parameters(), lr=ADAM_LR)
        losses = []
        for step in range(ADAM_STEPS + 1):
            loss = case.training_loss(model, case.configurations)
            losses.append(float(loss.detach()))
            if step == ADAM_STEPS:
                break
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        falls = math.isfinite(losses[-1]) and losses[-1] < losses[0]
        return not falls, f"the trainer's loss went from {losses[0]:.4g} to {losses[-1]:.4g} in {ADAM_STEPS} Adam steps"

    return timed(f"adam.{ADAM_STEPS}_steps", run)


def todays_tools(case: Case) -> list[Outcome]:
    return [*gradcheck_tools(case), *ase_tools(case), adam_tool(case)]
