"""Bugs inside the model's energy: a custom kernel, detached geometry, a cutoff that does not switch off.

The trainer's code is right; Ê itself is not the function its derivatives describe (or not smooth).
Each ``build(buggy, dtype)`` returns the model with the bug or with the fix of the linked pull request.
"""

from __future__ import annotations

import torch

from snapcheck.torch.potential import CUTOFF
from snapcheck.torch.zoo.potentials import EAM, TinyMPNN, cutoff_derivative, cutoff_function
from snapcheck.torch.zoo.registry import FORCE_SET, Case, Entry, configurations


class ChargeKernel(torch.autograd.Function):
    """E_q = ½κ Σ_ij q_i q_j ψ(r_ij) with charges q = ρ(r) that depend on the positions, explicit partials.

    The buggy fallback for ``create_graph`` returns the connected total derivative for the positions
    (∂E/∂r plus the path through q) *and* ∂E/∂q, so autograd adds the q → r path a second time."""

    KAPPA, DECAY = 0.05, 1.5

    @staticmethod
    def parts(positions, charges, offsets, i, j):
        vectors = positions[j] - positions[i] + offsets
        d = vectors.norm(dim=-1)
        decay, fc = torch.exp(-d / ChargeKernel.DECAY), cutoff_function(d)
        psi, dpsi = decay * fc, decay * (cutoff_derivative(d) - fc / ChargeKernel.DECAY)
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
        r"no_grad|\.detach\(\)",
        related=("https://github.com/materialyzeai/matgl/pull/835",),
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
