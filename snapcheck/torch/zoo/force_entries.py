"""Bugs in a trainer's force code: the forces it trains on are not −∂Ê/∂r with a graph to θ.

Each ``build(buggy, dtype)`` returns the trainer with the bug (``buggy=True``) or with the fix of the
linked pull request.  The mechanism is described in each docstring; nothing is copied from the projects.
"""

from __future__ import annotations

import torch
from ase import units

from snapcheck.torch.zoo.potentials import (
    EAM,
    R0,
    Pair,
    bond_vectors,
    cutoff_derivative,
    cutoff_function,
    energy_fn,
    graph,
    stress_fn,
)
from snapcheck.torch.zoo.registry import FORCE_SET, Case, Entry, configurations, force_stress_loss, predictions


def torchani_238(buggy: bool, dtype) -> Case:
    """TorchANI's force-training example took the forces with ``retain_graph=True`` but no ``create_graph``:
    the force term of its loss was a constant to θ, and only the energy term trained."""

    def forces(model, atoms, positions):
        energy = energy_fn(model, atoms, positions)
        return -torch.autograd.grad(energy, positions, retain_graph=True, create_graph=not buggy)[0]

    def trainer_loss(case, model, batch):  # the example's: mean over the batch of (ΔE)²/√N + 0.1 Σ|Δf|²/N
        terms = [predictions(case, model, atoms) for atoms in batch]
        energy = sum((p["energy"] - r["energy"]) ** 2 / len(a) ** 0.5 for (p, r), a in zip(terms, batch))
        force = sum(((p["forces"] - r["forces"]) ** 2).sum() / len(a) for (p, r), a in zip(terms, batch))
        return (energy + 0.1 * force) / len(batch)

    return Case(Pair(dtype), configurations(*FORCE_SET), forces_fn=forces, trainer_loss=trainer_loss)


def modelforge_240(buggy: bool, dtype) -> Case:
    """modelforge computed the training forces with ``create_graph=False, retain_graph=True``; its total loss
    (energy + forces) still trained, on the energy term alone.  Checked through the trainer's own step."""

    def forces(model, atoms, positions):
        energy = energy_fn(model, atoms, positions)
        return -torch.autograd.grad(energy, positions, create_graph=not buggy, retain_graph=True)[0]

    def loss(predicted, reference, atoms):  # per-structure energy MSE + per-atom force MSE
        n = len(atoms)
        return ((predicted["energy"] - reference["energy"]) / n) ** 2 + (
            (predicted["forces"] - reference["forces"]) ** 2
        ).sum() / n

    return Case(
        EAM(dtype),
        configurations(*FORCE_SET),
        forces_fn=forces,
        loss_fn=loss,
        terms=("energy", "forces"),
        loss_under_test=True,
    )


def descent_70(buggy: bool, dtype) -> Case:
    """descent's energy target returned ∂Ê/∂r, without the minus sign, as the predicted forces."""

    def forces(model, atoms, positions):
        grad = torch.autograd.grad(energy_fn(model, atoms, positions), positions, create_graph=True)[0]
        return grad if buggy else -grad

    return Case(Pair(dtype), configurations(*FORCE_SET), forces_fn=forces)


def torchani_421(buggy: bool, dtype) -> Case:
    """A TorchANI ASE-interface change multiplied forces and stress by Hartree although the energy was already
    in eV (27.2× too large); the review caught it."""
    factor = units.Hartree if buggy else 1.0

    def forces(model, atoms, positions):
        return -factor * torch.autograd.grad(energy_fn(model, atoms, positions), positions, create_graph=True)[0]

    def stress(model, atoms, positions, cell):
        return factor * stress_fn(model, atoms, positions, cell)

    spec = configurations(("ta", "GSF_110", 0), ("ta", "Elastic_BCC", 0))
    return Case(
        Pair(dtype), spec, forces_fn=forces, stress_fn=stress, loss_fn=force_stress_loss, terms=("forces", "stress")
    )


def explicit_eam_forces(double_self_term: bool):
    """Hand-written EAM forces −∂/∂r_k [Σ_i F(ρ_i) + ½Σ φ(r_ij)]; PyXtal_FF's bug accumulated the i = k term twice."""

    def forces(model, atoms, positions):
        g = graph(atoms, positions)
        vectors = bond_vectors(positions, g)
        d = vectors.norm(dim=-1)
        unit = vectors / d[:, None]
        fc, dfc = cutoff_function(d), cutoff_derivative(d)
        density = model.A * torch.exp(-model.beta * (d - R0))
        repulsion = model.B * torch.exp(-model.b * (d - R0))
        rho = torch.zeros(len(positions), dtype=d.dtype).index_add(0, g.i, density * fc)
        d_embedding = -model.c / (2 * torch.sqrt(1 + rho))  # F'(ρ)
        d_rho = density * (dfc - model.beta * fc)  # ψ'(r)
        d_pair = repulsion * (dfc - model.b * fc)  # φ'(r)
        w_embedding = (d_embedding[g.i] * d_rho)[:, None] * unit
        w_pair = (0.5 * d_pair)[:, None] * unit
        centre = 2 if double_self_term else 1
        grad = torch.zeros_like(positions).index_add(0, g.j, w_embedding + w_pair)
        grad = grad.index_add(0, g.i, -centre * w_embedding - w_pair)
        return -grad

    return forces


def pyxtal_ff_34(buggy: bool, dtype) -> Case:
    """PyXtal_FF's hand-written descriptor derivative mis-accumulated the self term (i = j) of ∂ρ_i/∂r."""
    return Case(EAM(dtype), configurations(*FORCE_SET), forces_fn=explicit_eam_forces(buggy))


ENTRIES = (
    Entry(
        "torchani-238",
        "https://github.com/aiqm/torchani/pull/238",
        "Create graph for force in force training",
        "no-create-graph",
        "forces code",
        "Pair",
        torchani_238,
        r"zero gradient: the predicted forces carry no graph to the parameters.*create_graph=True",
    ),
    Entry(
        "modelforge-240",
        "https://github.com/choderalab/modelforge/pull/240",
        "fix bug that resulted in force loss without gradient",
        "no-create-graph",
        "forces code",
        "EAM",
        modelforge_240,
        r"create_graph=True",
    ),
    Entry(
        "descent-70",
        "https://github.com/openforcefield/descent/pull/70",
        "Fix incorrect force sign in energy target",
        "force-sign",
        "forces code",
        "Pair",
        descent_70,
        r"forces_fn has a sign error \(factor −1\) against −∂Ê/∂r",
    ),
    Entry(
        "torchani-421",
        "https://github.com/aiqm/torchani/pull/421",
        "Fix forces and stress in ASE interface (Hartree applied twice; caught in review)",
        "force-units",
        "forces code",
        "Pair",
        torchani_421,
        r"a factor 27\.211",
        quantities=("forces", "stress"),
    ),
    Entry(
        "pyxtal_ff-34",
        "https://github.com/MaterSim/PyXtal_FF/issues/34",
        "Debug the SNAP option: the self term of the descriptor derivative",
        "explicit-derivative",
        "forces code",
        "EAM",
        pyxtal_ff_34,
        r"forces_fn ≠ −∂Ê/∂r",
        related=("https://github.com/MaterSim/PyXtal_FF/issues/35",),
    ),
)
