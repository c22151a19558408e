"""Force bugs of the field, each in the place it lived: the force code, a custom kernel, the model's geometry.

Each ``build(buggy, dtype)`` returns the trainer with the bug (``buggy=True``) or with the fix of the
linked pull request.  The mechanism is described in each docstring; nothing is copied from the projects.
"""

from __future__ import annotations

import torch
from ase import units

from snapcheck.torch.potential import CUTOFF
from snapcheck.torch.zoo.potentials import (
    EAM,
    R0,
    Pair,
    TinyMPNN,
    bond_vectors,
    cutoff_function,
    energy_fn,
    graph,
    stress_fn,
)
from snapcheck.torch.zoo.registry import Case, Entry, configurations, force_stress_loss, predictions

FORCE_SET = (("ta", "GSF_110", 0), ("ta", "Displaced_BCC", 0))  # 24 and 54 atoms, forces of 0.1–1 eV/Å


def torchani_238(buggy: bool, dtype) -> Case:
    """TorchANI's force-training example took the forces with ``retain_graph=True`` but no ``create_graph``:
    the force term of its loss was a constant to θ, and only the energy term trained."""

    def forces(model, atoms, positions):
        energy = energy_fn(model, atoms, positions)
        return -torch.autograd.grad(energy, positions, retain_graph=True, create_graph=not buggy)[0]

    def trainer_loss(case, model, batch):  # the example's loss: energy MSE/√N + 0.1 × force MSE per atom
        terms = [predictions(case, model, atoms) for atoms in batch]
        energy = sum((p["energy"] - r["energy"]) ** 2 / len(a) ** 0.5 for (p, r), a in zip(terms, batch))
        force = sum(((p["forces"] - r["forces"]) ** 2).sum() / (3 * len(a)) for (p, r), a in zip(terms, batch))
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


class ChargeKernel(torch.autograd.Function):
    """E_q = ½κ Σ_ij q_i q_j ψ(r_ij) with charges q = ρ(r) that depend on the positions, explicit partials.

    The buggy fallback for ``create_graph`` returns the connected total derivative for the positions
    (∂E/∂r plus the path through q) *and* ∂E/∂q, so autograd adds the q → r path a second time."""

    KAPPA, DECAY = 0.05, 1.5

    @staticmethod
    def parts(positions, charges, offsets, i, j):
        vectors = positions[j] - positions[i] + offsets
        d = vectors.norm(dim=-1)
        fc, x = cutoff_function(d), d / CUTOFF
        dfc = torch.where(d < CUTOFF, -6 * x * (1 - x * x) ** 2 / CUTOFF, torch.zeros_like(d))
        psi, dpsi = (
            torch.exp(-d / ChargeKernel.DECAY) * fc,
            torch.exp(-d / ChargeKernel.DECAY) * (dfc - fc / ChargeKernel.DECAY),
        )
        energy = 0.5 * ChargeKernel.KAPPA * (charges[i] * charges[j] * psi).sum()
        w = (0.5 * ChargeKernel.KAPPA * charges[i] * charges[j] * dpsi / d)[:, None] * vectors
        d_positions = torch.zeros_like(positions).index_add(0, j, w).index_add(0, i, -w)
        d_charges = torch.zeros_like(charges).index_add(0, i, ChargeKernel.KAPPA * charges[j] * psi)
        return energy, d_positions, d_charges, w

    @staticmethod
    def forward(ctx, positions, charges, offsets, i, j, buggy):
        ctx.save_for_backward(positions, charges, offsets)
        ctx.pairs, ctx.buggy = (i, j), buggy
        with torch.no_grad():
            return ChargeKernel.parts(positions, charges, offsets, i, j)[0]

    @staticmethod
    def backward(ctx, grad_energy):
        positions, charges, offsets = ctx.saved_tensors
        _, d_positions, d_charges, w = ChargeKernel.parts(positions, charges, offsets, *ctx.pairs)
        grad_positions, grad_charges = grad_energy * d_positions, grad_energy * d_charges
        if ctx.buggy and torch.is_grad_enabled():  # the create_graph fallback: "connected total" gradients
            (through_charges,) = torch.autograd.grad(
                charges, positions, grad_charges, retain_graph=True, create_graph=True
            )
            grad_positions = grad_positions + through_charges
        return grad_positions, grad_charges, grad_energy * w, None, None, None


class ChargedEAM(EAM):
    """EAM plus the charge kernel, with the densities ρ_i as charges (aimnet's charges from the network)."""

    def __init__(self, dtype, buggy: bool):
        super().__init__(dtype)
        self.buggy = buggy

    def forward(self, positions, g):
        charges = self.densities(positions, g)
        kernel = ChargeKernel.apply(positions, charges, g.offsets, g.i, g.j, self.buggy)
        return super().forward(positions, g) + kernel


def aimnetcentral_106(buggy: bool, dtype) -> Case:
    """aimnetcentral's PME kernel (positions and position-dependent charges as inputs) had a backward for
    ``create_graph=True`` that counted the charge path twice: eval forces right, training forces wrong."""
    return Case(ChargedEAM(dtype, buggy), configurations(*FORCE_SET))


class DetachedAngles(TinyMPNN):
    """matgl#834: the three-body line graph built under ``torch.no_grad()``: its bond vectors carry no gradient."""

    def bond_angles(self, vectors, first, second):
        with torch.no_grad():
            return super().bond_angles(vectors, first, second)


def matgl_834(buggy: bool, dtype) -> Case:
    """CHGNet's three-body angles entered Ê but not f̂ = −∂Ê/∂r or σ̂: their geometry was detached."""
    model = (DetachedAngles if buggy else TinyMPNN)(dtype=dtype, three_body=True)
    return Case(model, configurations(*FORCE_SET))


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

    loss = force_stress_loss(weight=100.0)
    spec = configurations(("ta", "GSF_110", 0), ("ta", "Elastic_BCC", 0))
    return Case(Pair(dtype), spec, forces_fn=forces, stress_fn=stress, loss_fn=loss, terms=("forces", "stress"))


def explicit_eam_forces(double_self_term: bool):
    """Hand-written EAM forces −∂/∂r_k [Σ_i F(ρ_i) + ½Σ φ(r_ij)]; PyXtal_FF's bug accumulated the i = k term twice."""

    def forces(model, atoms, positions):
        g = graph(atoms, positions)
        vectors = bond_vectors(positions, g)
        d = vectors.norm(dim=-1)
        unit = vectors / d[:, None]
        fc, x = cutoff_function(d), d / CUTOFF
        dfc = torch.where(d < CUTOFF, -6 * x * (1 - x * x) ** 2 / CUTOFF, torch.zeros_like(d))
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


class UngatedVectors(TinyMPNN):
    """torchmd-net#254: the vector messages were not multiplied by the cutoff function, only masked at r_c."""

    def vector_gate(self, d):
        return (d < CUTOFF).to(d.dtype)


def torchmd_net_254(buggy: bool, dtype) -> Case:
    """torchmd-net's equivariant transformer gated only its scalar features by the cutoff; vector messages with
    a bias stayed finite at r_c, so Ê jumped when a pair crossed the cutoff (fixed by gating them too, #260)."""
    model = (UngatedVectors if buggy else TinyMPNN)(dtype=dtype, vector=True)
    return Case(model, configurations(*FORCE_SET))


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
        r"create_graph",
    ),
    Entry(
        "aimnetcentral-106",
        "https://github.com/isayevlab/aimnetcentral/issues/106",
        "charge-gradient backward corrupts under create_graph",
        "create-graph-dependent",
        "model code",
        "EAM",
        aimnetcentral_106,
        r"create_graph",
        related=(
            "https://github.com/isayevlab/aimnetcentral/pull/123",
            "https://github.com/NVIDIA/nvalchemi-toolkit-ops/pull/131",
        ),
    ),
    Entry(
        "matgl-834",
        "https://github.com/materialyzeai/matgl/issues/834",
        "forces and stresses inconsistent with energy derivatives: detached three-body geometry",
        "detached-geometry",
        "model code",
        "TinyMPNN",
        matgl_834,
        r"detach",
        related=("https://github.com/materialyzeai/matgl/pull/835",),
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
        r"a constant factor 27\.211",
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
    Entry(
        "torchmd-net-254",
        "https://github.com/torchmd/torchmd-net/issues/254",
        "Discontinuity in the ET potential",
        "cutoff-discontinuity",
        "model code",
        "TinyMPNN",
        torchmd_net_254,
        r"not smooth|cutoff",
        related=("https://github.com/torchmd/torchmd-net/pull/260",),
    ),
)
