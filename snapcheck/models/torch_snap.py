"""The :class:`~snapcheck.models.neural_snap.NeuralSnap` in PyTorch, trained to forces by iterated backpropagation.

This is the approach of TorchANI, MACE, NequIP and FitSNAP's PyTorch solver,
which the paper's method replaces.  With per-atom energies Eᵢ = MLP((Bᵢ − μ)/σ)
(the same network, the same θ, the same float64 arithmetic as the numpy
model) and the LAMMPS derivatives ∂Bᵢ/∂rⱼ precomputed:

1. forward pass, Eᵢ for every atom, with B a leaf tensor that requires grad;
2. **first backpropagation**, ``torch.autograd.grad(Σᵢ Eᵢ, B, create_graph=True)``:
   eᵢ = ∂Eᵢ/∂Bᵢ, and f̂ⱼ = −Σᵢ eᵢ · ∂Bᵢ/∂rⱼ + f_ref,ⱼ (the paper's Eq. 3).
   ``create_graph=True`` records this backward pass itself as a graph;
3. L = ½ Σⱼ |f̂ⱼ − fⱼ|² (Eq. 2), and **second backpropagation**,
   ``L.backward()``, through the recorded first one: ∇θL (Eq. 5).

The contraction in step 2 is FitSNAP's: the derivatives are kept as rows
(i, c, ∂Bᵢ/∂r_c) for every atom i and Cartesian coordinate c = 3j + a within
its cutoff, each row a K-vector; the gradient of ΣE in the positions is
``index_add`` over c of the row-wise products with e_{i}.  Both passes are
differentiable, so the graph of step 2 is a graph like any other.

The memory cost of step 3 is what the paper's method avoids: the second
backpropagation needs every intermediate of the forward *and* of the first
backward pass alive at once (Sec. II B).

PyTorch is an optional extra (``pip install -e '.[torch]'``, pinned to the
CPU wheel ``torch==2.13.0``); import this module only when it is installed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from snapcheck.descriptors.results import AtomDescriptors
from snapcheck.models.neural_snap import NeuralSnap

ACTIVATIONS = {
    "tanh": torch.tanh,
    # log(1 + eᵃ) exactly, like numpy's logaddexp (F.softplus switches to a above a threshold)
    "softplus": lambda a: torch.logaddexp(a, torch.zeros_like(a)),
    "silu": torch.nn.functional.silu,
}


@dataclass(frozen=True)
class TorchDescriptors:
    """One configuration's LAMMPS descriptors as float64 tensors, derivatives in FitSNAP's row form.

    Attributes:
        descriptors: B, (N, K).
        rows: ∂Bᵢ/∂r_c for each nonzero (i, c), (M, K) in 1/Å.
        atoms: i of every row, (M,); coordinates: c = 3j + a of every row, (M,).
        reference_forces: f_ref, (N, 3) in eV/Å.
    """

    descriptors: torch.Tensor
    rows: torch.Tensor
    atoms: torch.Tensor
    coordinates: torch.Tensor
    reference_forces: torch.Tensor

    @classmethod
    def from_numpy(cls, descriptors: AtomDescriptors) -> TorchDescriptors:
        """Regroup the sparse D (N·K × 3N, row i·K + k, column c) into one K-vector per nonzero (i, c)."""
        n, k = descriptors.descriptors.shape
        coo = descriptors.derivatives.tocoo()
        atom, component = np.divmod(coo.row, k)
        keys, slot = np.unique(atom * 3 * n + coo.col, return_inverse=True)
        rows = np.zeros((len(keys), k))
        rows[slot, component] = coo.data
        atoms, coordinates = np.divmod(keys, 3 * n)
        return cls(
            descriptors=torch.tensor(descriptors.descriptors, dtype=torch.float64),
            rows=torch.tensor(rows),
            atoms=torch.tensor(atoms),
            coordinates=torch.tensor(coordinates),
            reference_forces=torch.tensor(descriptors.reference_forces, dtype=torch.float64),
        )


class TorchSnap:
    """Eᵢ = MLP((Bᵢ − μ)/σ) with θ from a :class:`NeuralSnap`; forces and ∇θL by autograd (module docstring)."""

    def __init__(self, model: NeuralSnap):
        if model.dtype != "float64":
            raise ValueError(f"TorchSnap compares with the numpy model in float64; this model is {model.dtype}")
        self.activation = ACTIVATIONS[model.activation]
        # one leaf tensor per (W, b) in θ order, so that ∇θ comes out flat like θ
        self.layers = [
            (
                torch.tensor(weight, dtype=torch.float64, requires_grad=True),
                torch.tensor(bias, dtype=torch.float64, requires_grad=True),
            )
            for weight, bias in model._unflatten(np.array(model.theta))
        ]
        self.shift = torch.tensor(model.shift, dtype=torch.float64)
        self.scale = torch.tensor(model.scale, dtype=torch.float64)

    @property
    def parameters(self) -> list[torch.Tensor]:
        return [tensor for layer in self.layers for tensor in layer]

    def atom_energies(self, descriptors: torch.Tensor) -> torch.Tensor:
        """Eᵢ for every row of B (N, K), in eV."""
        h = (descriptors - self.shift) / self.scale
        for weight, bias in self.layers[:-1]:
            h = self.activation(h @ weight + bias)
        weight, bias = self.layers[-1]
        return h @ weight[:, 0] + bias[0]

    def forces_from(self, descriptors: TorchDescriptors, create_graph: bool = False) -> torch.Tensor:
        """f̂ⱼ = −Σᵢ (∂Eᵢ/∂Bᵢ) · (∂Bᵢ/∂rⱼ) + f_ref,ⱼ, (N, 3) in eV/Å, by the first backpropagation."""
        b = descriptors.descriptors.detach().requires_grad_(True)
        (energy_gradients,) = torch.autograd.grad(self.atom_energies(b).sum(), b, create_graph=create_graph)
        contributions = (descriptors.rows * energy_gradients[descriptors.atoms]).sum(dim=1)
        gradient = torch.zeros(3 * b.shape[0], dtype=torch.float64).index_add(0, descriptors.coordinates, contributions)
        return -gradient.reshape(-1, 3) + descriptors.reference_forces

    def force_loss_gradient_from(self, descriptors: TorchDescriptors, target_forces: torch.Tensor) -> torch.Tensor:
        """∇θL for L = ½ Σⱼ |f̂ⱼ − fⱼ|², by double backpropagation; flat like :attr:`NeuralSnap.theta`."""
        for tensor in self.parameters:
            tensor.grad = None
        loss = 0.5 * ((self.forces_from(descriptors, create_graph=True) - target_forces) ** 2).sum()
        loss.backward()
        # the output bias c does not reach the forces: autograd leaves its gradient None, it is 0
        return torch.cat(
            [
                torch.zeros(tensor.numel(), dtype=torch.float64) if tensor.grad is None else tensor.grad.reshape(-1)
                for tensor in self.parameters
            ]
        )
