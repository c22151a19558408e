"""The reference force-loss gradient of a PyTorch potential, from its energy alone (paper Eqs. 6–14).

snapcheck trusts only the user's ``energy_fn(model, atoms, positions) -> Ê`` (a scalar tensor in
eV; ``positions`` an (N, 3) tensor in Å that snapcheck creates, displaces and differentiates).
Everything else follows from it with *first-order* gradients:

* reference forces   f̂ = −∂Ê/∂r, one backward pass (Eq. 3);
* loss direction     g = ∂L/∂f̂ at f̂, by autograd on the loss alone.  For the paper's
  L = ½Σ|f̂ − f|² (Eq. 2) this is g = f̂ − f (Eq. 4); for any other differentiable force loss the
  chain rule ∇θL = Σ g·∂f̂/∂θ = −Σ g·∂(∇θÊ)/∂r (Eq. 6) still holds with this g;
* the estimate       ∇̃θL = −Σ_c (∇θÊ_c[r + ηg] − ∇θÊ_c[r − ηg]) / (2η) (Eqs. 7–8), composed by
  :func:`snapcheck.gradients.paper.central_difference`, with one η = ε a₀/g₀ for the whole batch,
  g₀ = max_i |g_i| over all configurations (Eqs. 9–10);
* ε, automatically   the proxy of Eqs. 12–14 without ∇θ: D̃ = −Σ(Ê[r₊] − Ê[r₋])/(2η) estimates
  D = Σ g·f̂, which is known exactly from the reference forces.  For the paper's loss
  L = ½Σ g·(f̂ − f), so L̃ − L = (D̃ − D)/2 and |D̃ − D|/(2|L|) *is* Err[L̃] of Eq. 14; for other
  losses the proxy is |D̃ − D|/|D| (the argmin does not depend on the normalisation).  ε is the
  argmin over :data:`snapcheck.gradients.epsilon.EPSILON_GRID` of the proxy's running maximum
  over neighbouring half-decades (:func:`robust_argmin`);
* in float64, also the exact forward-over-reverse product −∂/∂θ Σ g·∂Ê/∂r (Pearlmutter), by a
  double backward through ``energy_fn`` (never through the user's ``forces_fn``).

float32: the reference is computed on a float64 *copy* of the model whenever ``energy_fn``
follows the dtype of the positions and the model (:func:`float64_copy`).  In float32 a large
energy (Ê ≈ 1e4 eV) is rounded to ~1e-3 eV inside ``energy_fn``'s own sum, so the energy proxy
sees only noise.  When no float64 copy is possible, ε is chosen by the *gradient*
self-consistency proxy |∇̃L(ε_k) − ∇̃L(ε_{k+1})| / |∇̃L(ε_k)|, which a constant energy offset
does not disturb (the offset's own ∇θÊ is constant in r and cancels exactly).
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from snapcheck.data.configuration import Configuration
from snapcheck.gradients.epsilon import EPSILON_GRID
from snapcheck.gradients.paper import Evaluation, central_difference

#: The trainer dtypes that round like single precision (or worse).
LOW_PRECISION = (torch.float32, torch.float16, torch.bfloat16)


def default_loss(predicted_forces: torch.Tensor, reference_forces: torch.Tensor, atoms) -> torch.Tensor:
    """½ Σ |f̂ − f|², the paper's per-configuration force loss (Eq. 2), in eV²/Å²."""
    return 0.5 * ((predicted_forces - reference_forces) ** 2).sum()


# -- the model and the configurations ------------------------------------------------------------------
def trained_parameters(model: torch.nn.Module) -> list[tuple[str, torch.nn.Parameter]]:
    """(name, tensor) for every parameter that requires a gradient, in ``named_parameters()`` order."""
    if not isinstance(model, torch.nn.Module):
        raise TypeError(
            f"model must be a torch.nn.Module, got {type(model).__name__}; wrap a bare function in a Module "
            "that registers its tensors as torch.nn.Parameter so snapcheck can name them"
        )
    params = [(name, p) for name, p in model.named_parameters() if p.requires_grad]
    if not params:
        raise ValueError("the model has no parameter with requires_grad=True: there is no gradient to check")
    return params


def model_dtype(model: torch.nn.Module) -> torch.dtype:
    return next((p.dtype for p in model.parameters() if p.is_floating_point()), torch.get_default_dtype())


def model_device(model: torch.nn.Module) -> torch.device:
    return next((p.device for p in model.parameters()), torch.device("cpu"))


def as_atoms_list(configurations) -> list:
    """The configurations as ``ase.Atoms`` (snapcheck :class:`Configuration`\\ s are converted once)."""
    if isinstance(configurations, Configuration) or hasattr(configurations, "get_positions"):
        configurations = [configurations]
    atoms = [c.to_atoms() if isinstance(c, Configuration) else c for c in configurations]
    if not atoms:
        raise ValueError(
            "no configurations: pass a list of ase.Atoms (with energy and forces) or snapcheck Configurations"
        )
    return atoms


def positions_tensor(atoms, dtype: torch.dtype, device, requires_grad: bool = False, positions=None) -> torch.Tensor:
    """r (N, 3) in Å as a tensor (``positions`` overrides the atoms' own, e.g. r±)."""
    values = atoms.get_positions() if positions is None else positions
    return torch.tensor(np.asarray(values), dtype=dtype, device=device, requires_grad=requires_grad)


def dft_forces(atoms) -> np.ndarray:
    """The reference (DFT) forces f attached to ``atoms``, (N, 3) in eV/Å."""
    try:
        return np.asarray(atoms.get_forces(), dtype=np.float64)
    except Exception as exc:  # noqa: BLE001 - ASE raises several types when no calculator is attached
        raise ValueError(
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


def energy_and_forces(model, energy_fn: Callable, atoms) -> tuple[float, np.ndarray | None]:
    """Ê and f̂ = −∂Ê/∂r (first order, no graph kept); f̂ is None when Ê does not depend on r."""
    pos = positions_tensor(atoms, model_dtype(model), model_device(model), requires_grad=True)
    energy = scalar(energy_fn(model, atoms, pos), "energy_fn")
    grad = None
    if energy.requires_grad:
        (grad,) = torch.autograd.grad(energy, pos, allow_unused=True)
    return float(energy.detach()), None if grad is None else -grad.detach().double().cpu().numpy()


def loss_direction(loss_fn: Callable, forces: np.ndarray, atoms, dtype) -> tuple[float, np.ndarray]:
    """L and g = ∂L/∂f̂ at f̂ (the paper's g = f̂ − f for the default loss), by autograd on the loss alone."""
    leaf = torch.tensor(forces, dtype=dtype, requires_grad=True)
    loss = scalar(loss_fn(leaf, torch.tensor(dft_forces(atoms), dtype=dtype), atoms), "loss_fn")
    (g,) = torch.autograd.grad(loss, leaf, allow_unused=True)
    return float(loss.detach()), np.zeros_like(forces) if g is None else g.double().numpy()


def flat(grads: Sequence[torch.Tensor | None], params) -> np.ndarray:
    """One float64 vector, like θ, with zeros where a tensor received no gradient."""
    return np.concatenate(
        [
            np.zeros(p.numel()) if g is None else g.detach().double().cpu().numpy().ravel()
            for g, (_, p) in zip(grads, params)
        ]
    )


def slices(params) -> dict[str, slice]:
    """name → its slice of the flat θ vector."""
    bounds = np.cumsum([0] + [p.numel() for _, p in params])
    return {name: slice(int(a), int(b)) for (name, _), a, b in zip(params, bounds[:-1], bounds[1:])}


def energy_gradient(model, energy_fn: Callable, atoms, positions: np.ndarray, params) -> Evaluation:
    """Ê and ∇θÊ (flat, float64) at fixed ``positions`` (Å): one first-order backward pass."""
    pos = positions_tensor(atoms, model_dtype(model), model_device(model), positions=positions)
    energy = scalar(energy_fn(model, atoms, pos), "energy_fn")
    grads = [None] * len(params)
    if energy.requires_grad:
        grads = torch.autograd.grad(energy, [p for _, p in params], allow_unused=True)
    return Evaluation(float(energy.detach()), flat(grads, params))


# -- the reference -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Item:
    """One configuration: its atoms (any key the evaluator understands), r, f̂ = −∂Ê/∂r and g = ∂L/∂f̂ (N, 3)."""

    atoms: object
    positions: np.ndarray
    forces: np.ndarray
    g: np.ndarray


class Reference:
    """What Eq. 7 and its proxy need, shared by every ε: the items, L, D = Σ g·f̂ and g₀.

    ``evaluate(atoms, positions) -> Evaluation`` gives Ê and ∇θÊ (flat, float64) at fixed positions;
    :meth:`from_energy_fn` builds everything from a PyTorch ``energy_fn``, and an adapter whose
    energies come from elsewhere (FitSNAP's LAMMPS descriptors) passes its own.
    """

    def __init__(self, evaluate: Callable, items: list[Item], params, dtype, loss: float):
        self.evaluate, self.items, self.params, self.dtype, self.loss = evaluate, items, params, dtype, loss
        self.directional = float(sum(np.sum(i.g * i.forces) for i in items))  # D = Σ g·f̂
        self.g0 = max(float(np.sqrt(np.max(np.sum(i.g * i.g, axis=1)))) for i in items)
        self.size = sum(p.numel() for _, p in params)

    @classmethod
    def from_energy_fn(cls, model, energy_fn: Callable, atoms_list: Sequence, loss_fn: Callable = default_loss):
        params, dtype = trained_parameters(model), model_dtype(model)
        items, loss = [], 0.0
        differentiable = True
        for atoms in atoms_list:
            _, forces = energy_and_forces(model, energy_fn, atoms)
            if forces is None:
                differentiable, forces = False, np.zeros((len(atoms), 3))
            value, g = loss_direction(loss_fn, forces, atoms, dtype)
            loss += value
            items.append(Item(atoms, atoms.get_positions(), forces, g))
        reference = cls(
            lambda atoms, r: energy_gradient(model, energy_fn, atoms, r, params), items, params, dtype, loss
        )
        reference.model, reference.energy_fn, reference.differentiable = model, energy_fn, differentiable
        return reference

    def enters_energy(self) -> dict[str, bool]:
        """name → whether the tensor's ∇θÊ is nonzero at some configuration's own positions."""
        enters = np.zeros(self.size, dtype=bool)
        for item in self.items:
            enters |= self.evaluate(item.atoms, item.positions).energy_gradient != 0
        return {name: bool(enters[s].any()) for name, s in slices(self.params).items()}

    def eta(self, epsilon: float) -> float:
        """η = ε a₀/g₀ (Eq. 9) with the batch's g₀ (Eq. 10), Å²/eV."""
        return epsilon / self.g0

    def central_difference(self, epsilon: float) -> tuple[np.ndarray, float]:
        """Σ_c ∇̃θL (Eq. 7, flat) and D̃ = −Σ(Ê[r₊] − Ê[r₋])/(2η) at ``epsilon``.

        :func:`~snapcheck.gradients.paper.central_difference` is given f = 0 as the "reference forces",
        so its L̃ (Eq. 13) is −(Ê[r₊] − Ê[r₋])/(4η) = D̃/2.
        """
        gradient, dtilde = np.zeros(self.size), 0.0
        for item in self.items:
            estimate = central_difference(
                lambda r, atoms=item.atoms: self.evaluate(atoms, r),
                item.positions,
                item.g,
                np.zeros_like(item.g),
                epsilon,
                g0=self.g0,
            )
            if estimate is not None:
                gradient += estimate.gradient
                dtilde += 2.0 * estimate.loss
        return gradient, dtilde

    def exact(self) -> np.ndarray:
        """−∂/∂θ Σ_c g_c·∂Ê_c/∂r (flat): Eq. 6 by autograd's double backward through ``energy_fn``."""
        total = np.zeros(self.size)
        for item in self.items:
            pos = positions_tensor(item.atoms, self.dtype, model_device(self.model), requires_grad=True)
            energy = scalar(self.energy_fn(self.model, item.atoms, pos), "energy_fn")
            (dedr,) = torch.autograd.grad(energy, pos, create_graph=True)
            directional = -(dedr * torch.tensor(item.g, dtype=self.dtype)).sum()
            if directional.requires_grad:
                grads = torch.autograd.grad(directional, [p for _, p in self.params], allow_unused=True)
                total += flat(grads, self.params)
        return total


def robust_argmin(proxy: dict[float, float]) -> tuple[float, float]:
    """ε minimising the proxy's running maximum over each grid point and its two neighbours, and that value.

    Round-off makes the proxy noisy at small ε, and one lucky cancellation can dip far below the
    true error (FitSNAP, float32 forces: 3.8e-7 at ε = 1e-9 on a plateau of 1.4e-6, where the
    raw argmin gave an 8× worse gradient).  Requiring the neighbours to be small picks the plateau's middle.
    """
    keys = list(proxy)
    smooth = {}
    for k, epsilon in enumerate(keys):
        window = [proxy[keys[j]] for j in range(max(0, k - 1), min(len(keys), k + 2))]
        window = [w for w in window if not math.isnan(w)]
        smooth[epsilon] = max(window) if window else math.inf
    best = min(smooth, key=lambda e: (smooth[e], -e))
    return best, smooth[best]


@dataclass(frozen=True)
class EpsilonChoice:
    """ε, its error bound (the proxy at ε), the proxy over the grid, its kind, and ∇̃θL at ε (flat)."""

    epsilon: float
    bound: float
    proxy: dict
    kind: str
    gradient: np.ndarray


def choose_epsilon(reference: Reference, epsilon="auto", kind: str = "auto", paper_loss: bool = True) -> EpsilonChoice:
    """ε by the energy proxy (Eqs. 12–14; float64) or the gradient self-consistency proxy (lower precision).

    ``epsilon`` a number: used as given (no bound).  ``kind``: ``"energy"``, ``"gradient"`` or ``"auto"``.
    """
    if epsilon != "auto":
        epsilon = float(epsilon)
        return EpsilonChoice(epsilon, math.nan, {}, "fixed", reference.central_difference(epsilon)[0])
    if kind == "auto":
        kind = "gradient" if reference.dtype in LOW_PRECISION else "energy"
    estimates = {e: reference.central_difference(e) for e in EPSILON_GRID}
    if kind == "energy":
        scale = 2.0 * abs(reference.loss) if paper_loss else abs(reference.directional)
        proxy = {e: abs(d - reference.directional) / scale if scale else math.inf for e, (_, d) in estimates.items()}
        best, bound = robust_argmin(proxy)
    elif kind == "gradient":
        grid = list(EPSILON_GRID)
        proxy = {}
        for a, b in zip(grid[:-1], grid[1:]):
            size = np.linalg.norm(estimates[a][0])
            proxy[a] = float(np.linalg.norm(estimates[a][0] - estimates[b][0]) / size) if size else math.inf
        best = min(proxy, key=lambda e: (proxy[e], -e))  # already a two-point quantity
        bound = proxy[best]
    else:
        raise ValueError(f"proxy {kind!r}: expected 'auto', 'energy' (Eqs. 12-14) or 'gradient' (self-consistency)")
    return EpsilonChoice(float(best), bound, proxy, kind, estimates[best][0])


def float64_copy(model, energy_fn: Callable, atoms_list: Sequence):
    """A float64 deep copy of ``model`` if ``energy_fn`` follows the model's and the positions' dtype, else None."""
    try:
        twin = copy.deepcopy(model).double()
        atoms = atoms_list[0]
        energy = energy_fn(twin, atoms, positions_tensor(atoms, torch.float64, model_device(twin)))
    except Exception:  # noqa: BLE001 - any failure means "cannot promote"; the native dtype is used
        return None
    return twin if torch.is_tensor(energy) and energy.dtype == torch.float64 else None
