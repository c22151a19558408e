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
import inspect
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


def apply_strain(positions, cell, epsilon):
    """r(I + ε)ᵀ and h(I + ε)ᵀ: positions (N, 3) and cell (3, 3), rows are vectors, under the homogeneous strain
    ε (3, 3), as tensors or as numpy arrays.  σ = (1/V) ∂Ê/∂ε at ε = 0 is the stress."""
    if torch.is_tensor(epsilon):
        deformation = torch.eye(3, dtype=epsilon.dtype, device=epsilon.device) + epsilon
    else:
        deformation = np.eye(3) + epsilon
    return positions @ deformation.T, cell @ deformation.T


def zero_strain(like: torch.Tensor) -> torch.Tensor:
    """ε = 0 (3, 3) requiring grad, in the dtype and on the device of ``like``: the leaf ∂Ê/∂ε is taken against."""
    return torch.zeros((3, 3), dtype=like.dtype, device=like.device, requires_grad=True)


def takes_cell(energy_fn: Callable) -> bool:
    """Whether ``energy_fn`` accepts a fourth argument, the cell (3, 3) tensor in Å (rows: lattice vectors)."""
    try:
        inspect.signature(energy_fn).bind(None, None, None, None)
    except TypeError:
        return False
    except ValueError:  # no signature to read: assume the three-argument form
        return False
    return True


#: What a stress needs of ``energy_fn``, said by every check that finds the three-argument form.
CELL_ARGUMENT = (
    "energy_fn(model, atoms, positions, cell): the cell as a (3, 3) tensor in Å whose rows are the lattice vectors, "
    "from which Ê must be built (periodic shifts included)"
)

#: The quantities a training loss may compare: Ê (eV), f̂ (N, 3; eV/Å) and σ̂ (3, 3; eV/Å³, ASE's sign).
QUANTITIES = ("energy", "forces", "stress")


def reference_quantities(atoms, terms) -> dict[str, np.ndarray]:
    """The DFT values the loss compares with, from the calculator attached to ``atoms`` (stress as σ, eV/Å³)."""
    values = {"forces": dft_forces(atoms)}
    try:
        if "energy" in terms:
            values["energy"] = np.asarray(atoms.get_potential_energy(), dtype=np.float64)
        if "stress" in terms:
            values["stress"] = np.asarray(atoms.get_stress(voigt=False), dtype=np.float64)
    except Exception as exc:  # noqa: BLE001 - ASE raises several types when a property is missing
        raise InputError(
            f"configuration {atoms.get_chemical_formula()} has no reference {', '.join(terms)} ({exc}); attach "
            "them with SinglePointCalculator(atoms, energy=..., forces=..., stress=...) (stress in eV/Å³, ASE's sign)"
        ) from None
    return values


class TorchPotential:
    """``model`` and ``energy_fn`` with a training loss, as a backend of the paper's estimate.

    ``loss_fn`` with ``terms=("forces",)`` (the default) is a force loss ``loss_fn(f̂, f, atoms)``
    (default ½Σ|f̂ − f|², Eq. 2).  With other ``terms`` (any of :data:`QUANTITIES`) it is a whole
    training loss ``loss_fn(predicted, reference, atoms)`` over dicts of those quantities; a stress term
    needs ``energy_fn(model, atoms, positions, cell)``.
    """

    def __init__(
        self, model: torch.nn.Module, energy_fn: Callable, loss_fn: Callable | None = None, *, terms=("forces",)
    ):
        self.model, self.energy_fn = model, energy_fn
        self.terms = tuple(terms)
        unknown = sorted(set(self.terms) - set(QUANTITIES))
        if unknown or not self.terms:
            raise InputError(f"terms {self.terms}: expected some of {', '.join(QUANTITIES)}")
        if self.terms != ("forces",) and loss_fn is None:
            raise InputError(f"terms {self.terms}: a loss over them needs loss_fn(predicted, reference, atoms)")
        self.given_loss_fn = loss_fn
        self.loss_fn: Callable[..., torch.Tensor] = loss_fn or default_loss
        self.paper_loss = loss_fn is None
        self.takes_cell = takes_cell(energy_fn)
        if "stress" in self.terms and not self.takes_cell:
            raise InputError(f"a stress term needs {CELL_ARGUMENT}")
        self.params = trained_parameters(model)
        self.dtype = self.params[0][1].dtype
        self.device = self.params[0][1].device
        self.precision = str(self.dtype).removeprefix("torch.")
        bounds = np.cumsum([0] + [p.numel() for _, p in self.params])
        self.parameter_slices = {
            name: slice(int(a), int(b)) for (name, _), a, b in zip(self.params, bounds, bounds[1:])
        }

    # -- tensors and evaluations ---------------------------------------------------------------------
    def tensor(self, values, requires_grad: bool = False) -> torch.Tensor:
        return torch.tensor(np.asarray(values), dtype=self.dtype, device=self.device, requires_grad=requires_grad)

    def call_energy(self, atoms, positions: torch.Tensor, cell: torch.Tensor | None = None) -> torch.Tensor:
        """``energy_fn`` at ``positions`` (and ``cell`` when given, which needs the four-argument form)."""
        if cell is None:
            return scalar(self.energy_fn(self.model, atoms, positions), "energy_fn")
        if not self.takes_cell:
            raise InputError(f"a strained cell needs {CELL_ARGUMENT}")
        return scalar(self.energy_fn(self.model, atoms, positions, cell), "energy_fn")

    def energy(self, atoms, positions: np.ndarray, cell: np.ndarray | None = None) -> float:
        """Ê in eV at ``positions`` (Å) and ``cell``, no graph kept."""
        with torch.no_grad():
            return float(self.call_energy(atoms, self.tensor(positions), None if cell is None else self.tensor(cell)))

    def _derivatives(
        self, atoms, strain: bool, *, positions: np.ndarray | None = None, create_graph: bool = False
    ) -> tuple[torch.Tensor, torch.Tensor | None, torch.Tensor | None]:
        """Ê, ∂Ê/∂r and, with ``strain``, ∂Ê/∂ε (ε applied to positions and cell together), at ``positions``
        (default the atoms' own); first order, or with ``create_graph`` as a trainer takes its forces."""
        r = self.tensor(atoms.get_positions() if positions is None else positions, requires_grad=True)
        if not strain:
            energy = self.call_energy(atoms, r)
            leaves = [r]
        else:
            epsilon = zero_strain(r)
            energy = self.call_energy(atoms, *apply_strain(r, self.tensor(np.asarray(atoms.cell)), epsilon))
            leaves = [r, epsilon]
        grads: Sequence[torch.Tensor | None] = [None] * 2
        if energy.requires_grad:
            grads = torch.autograd.grad(energy, leaves, allow_unused=True, create_graph=create_graph)
        return energy.detach(), grads[0], grads[1] if strain else None

    def depends_on_positions(self, atoms) -> bool:
        """Whether Ê has a graph to the ``positions`` tensor (an isolated atom's energy legitimately has none)."""
        return self._derivatives(atoms, False)[1] is not None

    def forces(self, atoms, positions: np.ndarray | None = None, create_graph: bool = False) -> np.ndarray:
        """f̂ = −∂Ê/∂r at ``positions`` (default the atoms' own; first order unless ``create_graph``); zero
        where Ê does not depend on them."""
        grad = self._derivatives(atoms, False, positions=positions, create_graph=create_graph)[1]
        return np.zeros((len(atoms), 3)) if grad is None else -grad.detach().double().cpu().numpy()

    def stress(self, atoms) -> np.ndarray:
        """σ̂ = (1/V) ∂Ê/∂ε (3, 3) in eV/Å³, ASE's sign, by autograd through a strain of positions and cell."""
        grad = self._derivatives(atoms, True)[2]
        volume = abs(float(np.linalg.det(np.asarray(atoms.cell))))
        return np.zeros((3, 3)) if grad is None else grad.detach().double().cpu().numpy() / volume

    # -- the backend ---------------------------------------------------------------------------------
    def term(self, atoms) -> Term:
        """f̂ (and Ê, σ̂), the loss, and its direction: g = ∂L/∂f̂, H = (1/V) ∂L/∂σ̂, ∂L/∂Ê (Eqs. 4–6)."""
        strain = "stress" in self.terms
        energy, dedr, dedε = self._derivatives(atoms, strain)
        volume = abs(float(np.linalg.det(np.asarray(atoms.cell))))
        forces = torch.zeros((len(atoms), 3), dtype=self.dtype, device=self.device) if dedr is None else -dedr
        predicted = {"energy": energy, "forces": forces.detach()}
        if strain:
            zero = torch.zeros((3, 3), dtype=self.dtype, device=self.device)
            predicted["stress"] = (zero if dedε is None else dedε.detach()) / volume
        leaves = {key: value.clone().requires_grad_(True) for key, value in predicted.items() if key in self.terms}
        reference = {key: self.tensor(value) for key, value in reference_quantities(atoms, self.terms).items()}
        if self.terms == ("forces",):
            loss = scalar(self.loss_fn(leaves["forces"], reference["forces"], atoms), "loss_fn")
        else:
            loss = scalar(self.loss_fn(leaves, {k: reference[k] for k in self.terms}, atoms), "loss_fn")
        grads = dict(zip(leaves, torch.autograd.grad(loss, list(leaves.values()), allow_unused=True)))
        as_numpy = {k: None if v is None else v.detach().double().cpu().numpy() for k, v in grads.items()}
        f = predicted["forces"].double().cpu().numpy()
        g = np.zeros_like(f) if as_numpy.get("forces") is None else as_numpy["forces"]
        directional = float(np.sum(g * f))
        h = None
        if strain:
            dl_dσ = np.zeros((3, 3)) if as_numpy.get("stress") is None else as_numpy["stress"]
            h = dl_dσ / volume
            directional += float(np.sum(dl_dσ * predicted["stress"].double().cpu().numpy()))
        energy_weight = 0.0 if as_numpy.get("energy") is None else float(as_numpy["energy"])
        path = LossPath(atoms.get_positions(), g, np.asarray(atoms.cell) if strain else None, h)
        return Term(atoms, path, f, float(loss.detach()), directional, energy_weight)

    def evaluate(self, atoms, positions: np.ndarray, cell: np.ndarray | None) -> Evaluation:
        """Ê and ∇θÊ (flat, float64) at fixed ``positions`` (Å) and ``cell``: one first-order backward pass."""
        energy = self.call_energy(atoms, self.tensor(positions), None if cell is None else self.tensor(cell))
        grads: Sequence[torch.Tensor | None] = [None] * len(self.params)
        if energy.requires_grad:
            grads = torch.autograd.grad(energy, [p for _, p in self.params], allow_unused=True)
        return Evaluation(float(energy.detach()), flat(grads, self.params))

    def exact(self, term: Term) -> np.ndarray | None:
        """∂/∂θ dÊ/dt along the term's path at t = 0 (Eq. 6, and its strain) by a double backward through
        ``energy_fn``; None below float64, or for a model without double backward."""
        if self.dtype != torch.float64:
            return None
        path = term.path
        t = torch.zeros((), dtype=self.dtype, device=self.device, requires_grad=True)
        try:
            positions = self.tensor(path.positions) - t * self.tensor(path.g)
            if path.h is None:
                energy = self.call_energy(term.configuration, positions)
            else:
                energy = self.call_energy(
                    term.configuration, *apply_strain(positions, self.tensor(path.cell), t * self.tensor(path.h))
                )
            (rate,) = (
                torch.autograd.grad(energy, t, create_graph=True, allow_unused=True)
                if energy.requires_grad
                else (None,)
            )
            if rate is None or not rate.requires_grad:
                return np.zeros(max(s.stop for s in self.parameter_slices.values()))
            grads = torch.autograd.grad(rate, [p for _, p in self.params], allow_unused=True)
        except RuntimeError as error:  # a model without double backward: Eq. 7 stands alone; anything else is raised
            if not any(sign in str(error) for sign in DOUBLE_BACKWARD_MISSING):
                raise
            return None
        return flat(grads, self.params)

    # -- around the model ----------------------------------------------------------------------------
    def float64(self, probe) -> TorchPotential | None:
        """This backend on a float64 deep copy of the model, if ``energy_fn`` uses its dtype on ``probe``; else None."""
        if self.dtype == torch.float64:
            return self
        try:
            twin = TorchPotential(
                copy.deepcopy(self.model).double(), self.energy_fn, self.given_loss_fn, terms=self.terms
            )
            energy = self.energy_fn(twin.model, probe, twin.tensor(probe.get_positions()))
        except Exception:  # noqa: BLE001 - any failure means "cannot promote"
            return None
        return twin if torch.is_tensor(energy) and energy.dtype == torch.float64 else None

    def add_to_grad(self, gradient: np.ndarray) -> None:
        """``.grad += gradient`` (flat like θ) for every trained parameter, in its dtype and on its device."""
        for (_, p), s in zip(self.params, self.parameter_slices.values()):
            step = torch.as_tensor(gradient[s], dtype=p.dtype, device=p.device).reshape(p.shape)
            p.grad = step if p.grad is None else p.grad + step
