"""A PyTorch potential as a backend of the paper's estimate: everything from ``energy_fn`` and first-order gradients.

snapcheck trusts only the user's ``energy_fn(model, atoms, positions) -> Ê`` (a scalar tensor in
eV; ``positions`` an (N, 3) tensor in Å that snapcheck creates, displaces and differentiates).
:class:`TorchPotential` gives :mod:`snapcheck.gradients.reference` what it needs
(:mod:`snapcheck.gradients.backend`):

* reference forces   f̂ = −∂Ê/∂r, one backward pass (Eq. 3);
* loss direction     g = ∂L/∂f̂ at f̂, by autograd on ``loss_fn`` alone.  For the paper's
  L = ½Σ|f̂ − f|² (Eq. 2) this is g = f̂ − f (Eq. 4); for any other differentiable force loss the
  chain rule ∇θL = Σ g·∂f̂/∂θ = −Σ g·∂(∇θÊ)/∂r (Eq. 6) still holds with this g;
* Ê and ∇θÊ at the displaced positions of Eq. 7, one first-order backward pass each;
* in float64, the exact forward-over-reverse product −∂/∂θ Σ g·∂Ê/∂r (Pearlmutter), by a double
  backward through ``energy_fn`` (never through the trainer's own force code).

Every tensor is made on the model's device and in its dtype; results come back as float64 numpy.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence

import numpy as np
import torch

from snapcheck.base.errors import InputError
from snapcheck.data.configuration import Configuration
from snapcheck.gradients.backend import Term
from snapcheck.gradients.paper import Evaluation, LossPath

#: What torch says when a model's operations have no double backward (then the exact product does not exist).
DOUBLE_BACKWARD_MISSING = ("not implemented", "does not require grad", "does not have a grad_fn")


def default_loss(predicted_forces: torch.Tensor, reference_forces: torch.Tensor, atoms) -> torch.Tensor:
    """½ Σ |f̂ − f|², the paper's per-configuration force loss (Eq. 2), in eV²/Å²."""
    return 0.5 * ((predicted_forces - reference_forces) ** 2).sum()


def forces_from_energy(energy_fn: Callable) -> Callable:
    """The forces_fn a correct trainer writes: −∂Ê/∂r with ``create_graph=True`` (so the loss reaches θ)."""

    def forces_fn(model, atoms, positions):
        (grad,) = torch.autograd.grad(energy_fn(model, atoms, positions), positions, create_graph=True)
        return -grad

    return forces_fn


def as_atoms_list(configurations) -> list:
    """The configurations as ``ase.Atoms`` (snapcheck :class:`Configuration`\\ s are converted once)."""
    if isinstance(configurations, Configuration) or hasattr(configurations, "get_positions"):
        configurations = [configurations]
    atoms = [c.to_atoms() if isinstance(c, Configuration) else c for c in configurations]
    if not atoms:
        raise InputError(
            "no configurations: pass a list of ase.Atoms (with energy and forces) or snapcheck Configurations"
        )
    return atoms


def dft_forces(atoms) -> np.ndarray:
    """The reference (DFT) forces f attached to ``atoms``, (N, 3) in eV/Å."""
    try:
        return np.asarray(atoms.get_forces(), dtype=np.float64)
    except Exception as exc:  # noqa: BLE001 - ASE raises several types when no calculator is attached
        raise InputError(
            f"configuration {atoms.get_chemical_formula()} has no reference forces ({exc}); read it from an extxyz "
            "file with forces, or attach SinglePointCalculator(atoms, energy=..., forces=...)"
        ) from None


def scalar(value, where: str) -> torch.Tensor:
    if not torch.is_tensor(value) or value.numel() != 1:
        raise TypeError(
            f"{where} must return a scalar tensor (the total energy in eV, or the loss), got "
            f"{type(value).__name__} of shape {tuple(getattr(value, 'shape', ()))}; sum per-atom energies first"
        )
    return value.reshape(())


def trained_parameters(model: torch.nn.Module) -> list[tuple[str, torch.nn.Parameter]]:
    """(name, tensor) for every parameter that requires a gradient, in ``named_parameters()`` order."""
    if not isinstance(model, torch.nn.Module):
        raise TypeError(
            f"model must be a torch.nn.Module, got {type(model).__name__}; wrap a bare function in a Module "
            "that registers its tensors as torch.nn.Parameter so snapcheck can name them"
        )
    params = [(name, p) for name, p in model.named_parameters() if p.requires_grad]
    if not params:
        raise InputError("the model has no parameter with requires_grad=True: there is no gradient to check")
    return params


def flat(grads: Sequence[torch.Tensor | None], params) -> np.ndarray:
    """One float64 vector, like θ, with zeros where a tensor received no gradient."""
    return np.concatenate(
        [
            np.zeros(p.numel()) if g is None else g.detach().double().cpu().numpy().ravel()
            for g, (_, p) in zip(grads, params)
        ]
    )


class TorchPotential:
    """``model`` and ``energy_fn`` (and ``loss_fn``, default Eq. 2) as a backend of the paper's estimate."""

    def __init__(self, model: torch.nn.Module, energy_fn: Callable, loss_fn: Callable | None = None):
        self.model, self.energy_fn = model, energy_fn
        self.given_loss_fn, self.loss_fn = loss_fn, loss_fn or default_loss
        self.paper_loss = loss_fn is None
        self.params = trained_parameters(model)
        self.dtype = self.params[0][1].dtype
        self.device = self.params[0][1].device
        self.precision = str(self.dtype).removeprefix("torch.")
        bounds = np.cumsum([0] + [p.numel() for _, p in self.params])
        self.parameter_slices = {
            name: slice(int(a), int(b)) for (name, _), a, b in zip(self.params, bounds, bounds[1:])
        }

    # -- tensors -------------------------------------------------------------------------------------
    def tensor(self, values, requires_grad: bool = False) -> torch.Tensor:
        return torch.tensor(np.asarray(values), dtype=self.dtype, device=self.device, requires_grad=requires_grad)

    def energy(self, atoms, positions: np.ndarray) -> float:
        """Ê in eV at ``positions`` (Å), no graph kept."""
        with torch.no_grad():
            return float(scalar(self.energy_fn(self.model, atoms, self.tensor(positions)), "energy_fn"))

    def _position_gradient(self, atoms) -> torch.Tensor | None:
        positions = self.tensor(atoms.get_positions(), requires_grad=True)
        energy = scalar(self.energy_fn(self.model, atoms, positions), "energy_fn")
        return torch.autograd.grad(energy, positions, allow_unused=True)[0] if energy.requires_grad else None

    def depends_on_positions(self, atoms) -> bool:
        """Whether Ê has a graph to the ``positions`` tensor (an isolated atom's energy legitimately has none)."""
        return self._position_gradient(atoms) is not None

    def forces(self, atoms) -> np.ndarray:
        """f̂ = −∂Ê/∂r at the atoms' own positions (first order); zero where Ê does not depend on them."""
        grad = self._position_gradient(atoms)
        return np.zeros((len(atoms), 3)) if grad is None else -grad.detach().double().cpu().numpy()

    # -- the backend ---------------------------------------------------------------------------------
    def term(self, atoms) -> Term:
        forces = self.forces(atoms)
        leaf = self.tensor(forces, requires_grad=True)
        loss = scalar(self.loss_fn(leaf, self.tensor(dft_forces(atoms)), atoms), "loss_fn")
        g = torch.autograd.grad(loss, leaf, allow_unused=True)[0] if loss.requires_grad else None
        g = np.zeros_like(forces) if g is None else g.double().cpu().numpy()
        return Term(atoms, LossPath(atoms.get_positions(), g), forces, float(loss.detach()), float(np.sum(g * forces)))

    def evaluate(self, atoms, positions: np.ndarray, cell: np.ndarray | None) -> Evaluation:
        """Ê and ∇θÊ (flat, float64) at fixed ``positions`` (Å): one first-order backward pass."""
        energy = scalar(self.energy_fn(self.model, atoms, self.tensor(positions)), "energy_fn")
        grads = [None] * len(self.params)
        if energy.requires_grad:
            grads = torch.autograd.grad(energy, [p for _, p in self.params], allow_unused=True)
        return Evaluation(float(energy.detach()), flat(grads, self.params))

    def exact(self, term: Term) -> np.ndarray | None:
        """−∂/∂θ Σ g·∂Ê/∂r (flat) by a double backward through ``energy_fn``; None below float64 or without one."""
        if self.dtype != torch.float64:
            return None
        positions = self.tensor(term.path.positions, requires_grad=True)
        try:
            energy = scalar(self.energy_fn(self.model, term.configuration, positions), "energy_fn")
            (dedr,) = torch.autograd.grad(energy, positions, create_graph=True)
            directional = -(dedr * self.tensor(term.path.g)).sum()
            if not directional.requires_grad:
                return np.zeros(max(s.stop for s in self.parameter_slices.values()))
            grads = torch.autograd.grad(directional, [p for _, p in self.params], allow_unused=True)
        except RuntimeError as error:  # a model without double backward: Eq. 7 stands alone; anything else is raised
            if not any(sign in str(error) for sign in DOUBLE_BACKWARD_MISSING):
                raise
            return None
        return flat(grads, self.params)

    # -- around the model ----------------------------------------------------------------------------
    def float64(self, probe) -> TorchPotential | None:
        """This backend on a float64 deep copy of the model, if ``energy_fn`` follows its dtype on ``probe``; else None."""
        if self.dtype == torch.float64:
            return self
        try:
            twin = TorchPotential(copy.deepcopy(self.model).double(), self.energy_fn, self.given_loss_fn)
            energy = self.energy_fn(twin.model, probe, twin.tensor(probe.get_positions()))
        except Exception:  # noqa: BLE001 - any failure means "cannot promote"
            return None
        return twin if torch.is_tensor(energy) and energy.dtype == torch.float64 else None

    def add_to_grad(self, gradient: np.ndarray) -> None:
        """``.grad += gradient`` (flat like θ) for every trained parameter, in its dtype and on its device."""
        for (_, p), s in zip(self.params, self.parameter_slices.values()):
            step = torch.as_tensor(gradient[s], dtype=p.dtype, device=p.device).reshape(p.shape)
            p.grad = step if p.grad is None else p.grad + step
