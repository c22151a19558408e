"""The zoo's entries: what each real bug was, where it lived, and the trainer that reproduces it.

An :class:`Entry` is one bug from a public tracker: its URL, its class (:data:`BUG_CLASSES`), the
place in a trainer it lived (:data:`PLACES`), and ``build(buggy, dtype)``, which returns a
:class:`Case`, the trainer as it was (``buggy=True``) or as fixed, on real Ta or InP configurations.
``message`` is the regular expression a snapcheck message must match to name the bug.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache

import numpy as np
import torch
from ase.calculators.singlepoint import SinglePointCalculator

from snapcheck.torch.backend import default_loss, forces_from_energy
from snapcheck.torch.zoo.potentials import energy_fn

#: The bug classes, each a statement a check can make about a trainer.
BUG_CLASSES = {
    "no-create-graph": "forces taken without create_graph=True: the force loss has no gradient to θ",
    "create-graph-dependent": "a custom backward that differs under create_graph: training forces ≠ −∂Ê/∂r",
    "detached-geometry": "part of the geometry enters Ê detached (no_grad): forces and stress miss its terms",
    "force-sign": "forces = +∂Ê/∂r",
    "force-units": "forces (and stress) multiplied by a unit factor twice",
    "explicit-derivative": "a hand-written derivative of Ê that misses or doubles a term",
    "cutoff-discontinuity": "Ê jumps where a pair crosses the cutoff",
    "loss-normalisation": "per-atom against per-structure weighting of a loss term in batches of mixed sizes",
    "stress-per-atom": "the stress divided by the number of atoms in the loss",
    "stress-frozen-cell": "a cell-dependent quantity built from the unstrained cell, constant under the strain",
    "stress-sign": "the stress with the sign of a virial or a pressure",
    "stress-volume": "the stress divided by another volume than the cell's",
    "stress-missing-term": "a hand-written stress (virial) that omits one energy term",
    "stress-transpose": "the strain applied in the row convention on one side and the column one on the other",
}
#: Where in a trainer the bug lived.
PLACES = ("forces code", "stress code", "loss code", "batching", "cell handling", "model code")


@dataclass
class Case:
    """One variant of an entry as a trainer has it: a model, its code, its data and its loss.

    ``loss_fn``/``terms`` are the specification snapcheck compares the gradient with (default
    ½Σ|f̂ − f|²).  ``trainer_loss(case, model, configurations)`` is the trainer's own batch loss when
    it differs from the specification summed over the trainer's predictions; with ``loss_under_test``
    snapcheck receives it as the ``trainer_step``.
    """

    model: torch.nn.Module
    configurations: list
    energy_fn: Callable = energy_fn
    forces_fn: Callable | None = None
    stress_fn: Callable | None = None
    loss_fn: Callable | None = None
    terms: tuple = ("forces",)
    trainer_loss: Callable | None = None
    loss_under_test: bool = False

    def __post_init__(self):
        if self.forces_fn is None:  # a correct trainer's force code for this energy_fn
            self.forces_fn = forces_from_energy(self.energy_fn)

    def training_loss(self, model, configurations) -> torch.Tensor:
        """The loss the trainer minimises over the batch, from its own code."""
        if self.trainer_loss is not None:
            return self.trainer_loss(self, model, configurations)
        total = 0
        for atoms in configurations:
            predicted, reference = predictions(self, model, atoms)
            if self.terms == ("forces",):
                total = total + (self.loss_fn or default_loss)(predicted["forces"], reference["forces"], atoms)
            else:
                total = total + self.loss_fn(predicted, reference, atoms)
        return total

    def trainer_step(self):
        """The ``trainer_step`` snapcheck receives (None when the loss is not under test)."""
        if not self.loss_under_test:
            return None

        def step(model, configurations):
            self.training_loss(model, configurations).backward()

        return step


#: w of :func:`force_stress_loss`, Å⁴: a stress error of 0.1 eV/Å³ weighs as a force error of 1 eV/Å.
STRESS_WEIGHT = 100.0


def force_stress_loss(predicted, reference, atoms):
    """½Σ|f̂ − f|² + ½w Σ|σ̂ − σ|² (eV²/Å²): the loss of the trainers of forces and stress."""
    force = ((predicted["forces"] - reference["forces"]) ** 2).sum()
    return 0.5 * force + 0.5 * STRESS_WEIGHT * ((predicted["stress"] - reference["stress"]) ** 2).sum()


def stress_case(model, batch, stress_fn, energy=energy_fn) -> Case:
    """A trainer of forces and stress (:func:`force_stress_loss`) with its own stress code ``stress_fn``."""
    return Case(
        model, batch, energy_fn=energy, stress_fn=stress_fn, loss_fn=force_stress_loss, terms=("forces", "stress")
    )


def predictions(case: Case, model, atoms) -> tuple[dict, dict]:
    """The trainer's Ê, f̂ (and σ̂) for one configuration and the reference values, as dicts of tensors."""
    dtype = next(model.parameters()).dtype
    positions = torch.tensor(atoms.get_positions(), dtype=dtype, requires_grad=True)
    predicted = {"energy": case.energy_fn(model, atoms, positions), "forces": case.forces_fn(model, atoms, positions)}
    reference = {
        "energy": torch.tensor(atoms.get_potential_energy(), dtype=dtype),
        "forces": torch.tensor(atoms.get_forces(), dtype=dtype),
    }
    if case.stress_fn is not None:
        cell = torch.tensor(np.asarray(atoms.cell), dtype=dtype)
        predicted["stress"] = case.stress_fn(model, atoms, positions, cell)
        reference["stress"] = torch.tensor(atoms.get_stress(voigt=False), dtype=dtype)
    return predicted, reference


@dataclass(frozen=True)
class Entry:
    """One real bug: where it was reported, what it was, and how to build the trainer with it and without."""

    key: str
    url: str
    title: str
    bug_class: str
    place: str
    potential: str
    build: Callable[[bool, torch.dtype], Case]
    message: str
    quantities: tuple = ("forces",)
    related: tuple = field(default_factory=tuple)
    #: Why snapcheck does not flag this bug yet (its tests are strict expected failures until the core does).
    missed: str | None = None
    #: What snapcheck says instead of naming this bug, and what it should say.
    misnamed: str | None = None

    def __post_init__(self):
        if self.bug_class not in BUG_CLASSES or self.place not in PLACES:
            raise ValueError(f"entry {self.key}: unknown bug class {self.bug_class!r} or place {self.place!r}")


# -- real configurations -----------------------------------------------------------------------------------------
#: 24 and 54 Ta atoms (a stacking fault, a displaced BCC supercell), forces of 0.1–1 eV/Å.
FORCE_SET = (("ta", "GSF_110", 0), ("ta", "Displaced_BCC", 0))
#: A sheared 2-atom BCC cell, a perfect 4-atom FCC cell (where a frozen image shift gives σ ≡ 0), a stacking fault.
STRESS_SET = (("ta", "Elastic_BCC", 0), ("ta", "Volume_FCC", 5), ("ta", "GSF_110", 0))
#: A sheared 8-atom InP cell and a perfect 4-atom one.
STRESS_INP = (("inp-jpca2020", "Shear", 0), ("inp-jpca2020", "EOS", 0))


@cache
def _group(dataset: str, group: str) -> tuple:
    """The configurations of one group: Ta from the ``ta-xyz`` extxyz files, anything else by its dataset name."""
    if dataset == "ta":
        from snapcheck.data.extxyz import read_extxyz
        from snapcheck.torch.potential import ta_xyz_root

        return tuple(read_extxyz(ta_xyz_root() / f"{group}.xyz"))
    from snapcheck.data import load_configurations

    return tuple(load_configurations(dataset, groups=[group]))


def configurations(*spec: tuple[str, str, int]) -> list:
    """New ase.Atoms of real configurations, reference energy, forces and stress (ASE's σ, eV/Å³) attached:
    ``("ta", "GSF_110", 0)`` or ``("inp-jpca2020", "Shear", 3)``."""
    return [_group(dataset, group)[index].to_atoms() for dataset, group, index in spec]


def with_reference(atoms, **changes):
    """``atoms`` with some of its reference values replaced (a loader's conversion), as a new calculator."""
    results = {
        key: np.array(value) for key, value in atoms.calc.results.items() if key in ("energy", "forces", "stress")
    }
    atoms.calc = SinglePointCalculator(atoms, **{**results, **changes})
    return atoms
