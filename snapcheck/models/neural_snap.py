"""A neural-network potential on SNAP descriptors, in plain numpy, with its backpropagation by hand.

The model (a Behler–Parrinello network on bispectrum descriptors) gives every
atom an energy from its own descriptors Bᵢ ∈ ℝᴷ (:meth:`snapcheck.descriptors.engine.SnapEngine.evaluate_per_atom`):

    Ê = Σᵢ Eᵢ + E_ref,     Eᵢ = MLP(xᵢ),     xᵢ = (Bᵢ − μ)/σ,

with μ, σ fixed per-component shifts and scales (the training set's mean and
standard deviation, part of the model but not of θ) and E_ref the ZBL reference.
The MLP has hidden layers l = 1 … L of widths d_l and an activation φ:

    h⁰ = x,   aˡ = hˡ⁻¹ Wˡ + bˡ,   hˡ = φ(aˡ),   E = hᴸ · w + c.

θ = (W¹, b¹, …, Wᴸ, bᴸ, w, c), flattened in that order (each W row-major, d_{l−1} × d_l).

**Forces** (the paper's Eq. 3).  One backward pass gives ∂Eᵢ/∂xᵢ:

    Gᴸ = w,   Dˡ = Gˡ ⊙ φ'(aˡ),   Gˡ⁻¹ = Dˡ Wˡᵀ,   ∂Eᵢ/∂Bᵢ = G⁰/σ,

and f̂ⱼ = −Σᵢ (∂Eᵢ/∂Bᵢ) · (∂Bᵢ/∂rⱼ) + f_ref,ⱼ with the cached LAMMPS derivatives.

**∇θÊ** (the paper's footnote 23: "implementing a *first* iteration of
backpropagation manually is not too difficult").  With seeds sᵢ (sᵢ = 1 gives
∇θÊ, other seeds give any weighted sum Σᵢ sᵢ ∇θEᵢ in one pass), start the
backward pass from Gᴸ = s ⊗ w; then

    ∂/∂Wˡ = hˡ⁻¹ᵀ Dˡ,   ∂/∂bˡ = Σᵢ Dˡᵢ,   ∂/∂w = hᴸᵀ s,   ∂/∂c = Σᵢ sᵢ.

**The exact force-loss gradient** (Pearlmutter's R-operator, the η → 0 limit
of Eq. 7).  By Eqs. 5 and 6, with g = f̂ − f and E_ref independent of θ,

    ∇θL = Σⱼ gⱼ · ∇θf̂ⱼ = −Σᵢ Jᵢ uᵢ,    uᵢ = Σⱼ (∂Bᵢ/∂rⱼ) · gⱼ,    Jᵢ = ∂(∇θEᵢ)/∂Bᵢ,

i.e. the derivative of the backward pass above along the input direction
ẋᵢ = uᵢ/σ.  Forward-over-reverse: push tangents through the forward pass,

    ȧˡ = ḣˡ⁻¹ Wˡ,   ḣˡ = φ'(aˡ) ⊙ ȧˡ       (ḣ⁰ = ẋ),

then through the backward pass (Ġᴸ = 0, since Gᴸ = s ⊗ w does not depend on x),

    Ḋˡ = Ġˡ ⊙ φ'(aˡ) + Gˡ ⊙ φ''(aˡ) ⊙ ȧˡ,    Ġˡ⁻¹ = Ḋˡ Wˡᵀ,

and through the parameter gradients,

    ∂̇/∂Wˡ = ḣˡ⁻¹ᵀ Dˡ + hˡ⁻¹ᵀ Ḋˡ,   ∂̇/∂bˡ = Σᵢ Ḋˡᵢ,   ∂̇/∂w = ḣᴸᵀ s,   ∂̇/∂c = 0.

Every step is analytic: no finite difference anywhere, so this is the oracle
for the paper's estimate on a nonlinear model.  It costs about two ∇θÊ passes.

:class:`NeuralSnap` is the pure numpy model, on arrays of per-atom descriptors;
:class:`~snapcheck.models.potentials.NeuralSnapPotential` binds it to LAMMPS
and implements the model protocol (:mod:`snapcheck.models.protocol`), with
``exact_force_loss_gradient`` (the R-op); the paper's estimate of the same
gradient is :func:`snapcheck.gradients.reference.paper_force_loss_gradient`, which
sees the model only through Ê and ∇θÊ.

Units: B and x are dimensionless; Eᵢ, Ê, θ's output layer (w, c) in eV; f̂ in
eV/Å; L in eV²/Å²; ∇θL in eV²/Å² per unit of θ.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from snapcheck.base.errors import InputError
from snapcheck.data.snap_files import ZBL_TANTALUM, ReferencePotential, SnapParameters
from snapcheck.descriptors.results import AtomDescriptors, AtomDescriptorValues


@dataclass(frozen=True)
class Activation:
    """φ and its first two derivatives, elementwise."""

    name: str
    value: Callable[[np.ndarray], np.ndarray]
    first: Callable[[np.ndarray], np.ndarray]
    second: Callable[[np.ndarray], np.ndarray]


def _sigmoid(a: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * a))


def _silu_second(a: np.ndarray) -> np.ndarray:
    s = _sigmoid(a)
    return s * (1.0 - s) * (2.0 + a * (1.0 - 2.0 * s))


ACTIVATIONS = {
    "tanh": Activation(
        "tanh", np.tanh, lambda a: 1.0 - np.tanh(a) ** 2, lambda a: -2.0 * np.tanh(a) * (1.0 - np.tanh(a) ** 2)
    ),
    "softplus": Activation(
        "softplus", lambda a: np.logaddexp(0.0, a), _sigmoid, lambda a: _sigmoid(a) * (1.0 - _sigmoid(a))
    ),
    "silu": Activation(
        "silu", lambda a: a * _sigmoid(a), lambda a: _sigmoid(a) * (1.0 + a * (1.0 - _sigmoid(a))), _silu_second
    ),
}


@dataclass(frozen=True)
class _Pass:
    """A forward pass over n atoms: inputs x (n, K), pre-activations aˡ and activations hˡ (n, d_l)."""

    inputs: np.ndarray
    pre: list[np.ndarray]
    post: list[np.ndarray]


@dataclass(frozen=True, eq=False)
class NeuralSnap:
    """Eᵢ = MLP((Bᵢ − μ)/σ); Ê = Σᵢ Eᵢ + E_ref (module docstring).

    Attributes:
        parameters: the SNAP descriptor hyperparameters (one element).
        widths: hidden-layer widths (d₁ … d_L).
        activation: a key of :data:`ACTIVATIONS`.
        theta: θ, flat (see :attr:`n_parameters` and the module docstring).
        shift: μ, (K,); scale: σ, (K,) > 0.
        dtype: the floating-point type of every evaluation (default float64).
        reference: the reference pair potential (ZBL for Ta).
        name: a label for reports.
    """

    parameters: SnapParameters
    widths: tuple[int, ...]
    activation: str
    theta: np.ndarray
    shift: np.ndarray
    scale: np.ndarray
    dtype: str = "float64"
    reference: ReferencePotential = ZBL_TANTALUM
    name: str = "neural-snap"

    def __post_init__(self) -> None:
        if len(self.parameters.elements) != 1:
            raise InputError(
                f"NeuralSnap has one network for one element; the SNAP parameters list {list(self.parameters.elements)}"
            )
        if self.activation not in ACTIVATIONS:
            raise ValueError(f"activation {self.activation!r} is not one of {sorted(ACTIVATIONS)}")
        if not self.widths or min(self.widths) < 1:
            raise ValueError(f"widths must be one or more positive layer sizes, got {self.widths}")
        k = self.parameters.n_descriptors
        theta = np.array(self.theta, dtype=self.dtype)
        if theta.shape != (self.n_parameters,):
            raise ValueError(
                f"θ has shape {theta.shape}, expected ({self.n_parameters},) for K = {k} and widths {self.widths}"
            )
        shift, scale = np.array(self.shift, dtype=self.dtype), np.array(self.scale, dtype=self.dtype)
        if shift.shape != (k,) or scale.shape != (k,) or not np.all(scale > 0):
            raise ValueError(f"shift and scale must be ({k},) and the scale positive")
        for name, array in (("theta", theta), ("shift", shift), ("scale", scale)):
            array.flags.writeable = False
            object.__setattr__(self, name, array)
        object.__setattr__(self, "widths", tuple(int(w) for w in self.widths))

    # -- constructors -------------------------------------------------------
    @classmethod
    def initialize(
        cls,
        parameters: SnapParameters,
        widths: tuple[int, ...],
        seed: int | np.random.Generator,
        activation: str = "tanh",
        shift: np.ndarray | None = None,
        scale: np.ndarray | None = None,
        energy_offset: float = 0.0,
        **options,
    ) -> NeuralSnap:
        """A fresh network: W ~ N(0, 1/d_in) (LeCun), biases 0, output bias c = ``energy_offset`` (eV).

        ``shift`` and ``scale`` default to 0 and 1 (no standardisation).
        """
        rng = np.random.default_rng(seed)
        k = parameters.n_descriptors
        sizes = (k, *widths, 1)
        pieces = []
        for d_in, d_out in zip(sizes[:-1], sizes[1:]):
            pieces += [rng.normal(0.0, 1.0 / np.sqrt(d_in), size=d_in * d_out), np.zeros(d_out)]
        pieces[-1] = np.array([energy_offset])
        shift = np.zeros(k) if shift is None else shift
        scale = np.ones(k) if scale is None else scale
        return cls(parameters, tuple(widths), activation, np.concatenate(pieces), shift, scale, **options)

    def with_theta(self, theta: np.ndarray) -> NeuralSnap:
        return replace(self, theta=theta)

    # -- θ ------------------------------------------------------------------
    @property
    def layer_sizes(self) -> tuple[int, ...]:
        return (self.parameters.n_descriptors, *self.widths, 1)

    @property
    def n_parameters(self) -> int:
        sizes = self.layer_sizes
        return sum(d_in * d_out + d_out for d_in, d_out in zip(sizes[:-1], sizes[1:]))

    def _unflatten(self, flat: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
        """Views (W, b) per layer, the output layer (w as d_L × 1, c) last."""
        layers, start, sizes = [], 0, self.layer_sizes
        for d_in, d_out in zip(sizes[:-1], sizes[1:]):
            weight = flat[start : start + d_in * d_out].reshape(d_in, d_out)
            bias = flat[start + d_in * d_out : start + d_in * d_out + d_out]
            layers.append((weight, bias))
            start += d_in * d_out + d_out
        return layers

    # -- passes over atoms --------------------------------------------------
    def _forward(self, descriptors: np.ndarray) -> _Pass:
        phi = ACTIVATIONS[self.activation].value
        inputs = (np.asarray(descriptors, dtype=self.dtype) - self.shift) / self.scale
        pre, post, h = [], [], inputs
        for weight, bias in self._unflatten(self.theta)[:-1]:
            a = h @ weight + bias
            h = phi(a)
            pre.append(a)
            post.append(h)
        return _Pass(inputs, pre, post)

    def _backward(self, forward: _Pass, seeds: np.ndarray) -> tuple[list[np.ndarray], np.ndarray]:
        """(Dˡ for each hidden layer, G⁰ = Σ-seeded ∂E/∂x), from Gᴸ = s ⊗ w."""
        phi_first = ACTIVATIONS[self.activation].first
        layers = self._unflatten(self.theta)
        g = seeds[:, None] * layers[-1][0][:, 0]
        deltas = [np.empty(0)] * len(forward.pre)
        for index in reversed(range(len(forward.pre))):
            deltas[index] = g * phi_first(forward.pre[index])
            g = deltas[index] @ layers[index][0].T
        return deltas, g

    def atom_energies(self, descriptors: np.ndarray) -> np.ndarray:
        """Eᵢ for every row Bᵢ of ``descriptors`` (n, K), in eV."""
        forward = self._forward(descriptors)
        weight, bias = self._unflatten(self.theta)[-1]
        return forward.post[-1] @ weight[:, 0] + bias[0]

    def descriptor_gradients(self, descriptors: np.ndarray) -> np.ndarray:
        """∂Eᵢ/∂Bᵢ for every row (n, K), in eV."""
        forward = self._forward(descriptors)
        _, g = self._backward(forward, np.ones(len(forward.inputs), dtype=self.dtype))
        return g / self.scale

    def atom_energy_gradient(self, descriptors: np.ndarray, seeds: np.ndarray | None = None) -> np.ndarray:
        """Σᵢ sᵢ ∇θEᵢ over the rows of ``descriptors`` (default sᵢ = 1: ∇θ Σᵢ Eᵢ), flat like θ."""
        forward = self._forward(descriptors)
        seeds = np.ones(len(forward.inputs), dtype=self.dtype) if seeds is None else np.asarray(seeds, dtype=self.dtype)
        deltas, _ = self._backward(forward, seeds)
        # ∂/∂Wˡ = hˡ⁻¹ᵀ Dˡ, ∂/∂bˡ = Σ Dˡ, ∂/∂w = hᴸᵀ s, ∂/∂c = Σ s
        pieces = []
        for previous, delta in zip([forward.inputs, *forward.post[:-1]], deltas):
            pieces += [(previous.T @ delta).ravel(), delta.sum(axis=0)]
        pieces += [forward.post[-1].T @ seeds, seeds.sum(keepdims=True)]
        return np.concatenate(pieces)

    def atom_energy_gradient_directional(
        self, descriptors: np.ndarray, directions: np.ndarray, seeds: np.ndarray | None = None
    ) -> np.ndarray:
        """Σᵢ sᵢ Jᵢ uᵢ with Jᵢ = ∂(∇θEᵢ)/∂Bᵢ and uᵢ the rows of ``directions`` (n, K): the R-op, flat like θ."""
        activation = ACTIVATIONS[self.activation]
        layers = self._unflatten(self.theta)
        forward = self._forward(descriptors)
        seeds = np.ones(len(forward.inputs), dtype=self.dtype) if seeds is None else np.asarray(seeds, dtype=self.dtype)
        # forward tangents: ȧˡ = ḣˡ⁻¹ Wˡ, ḣˡ = φ'(aˡ) ȧˡ
        h_dot = np.asarray(directions, dtype=self.dtype) / self.scale
        inputs_dot, pre_dot, post_dot, first = h_dot, [], [], []
        for (weight, _), a in zip(layers[:-1], forward.pre):
            a_dot = h_dot @ weight
            first.append(activation.first(a))
            h_dot = first[-1] * a_dot
            pre_dot.append(a_dot)
            post_dot.append(h_dot)
        # backward pass and its tangent: Dˡ = Gˡ φ'(aˡ), Ḋˡ = Ġˡ φ'(aˡ) + Gˡ φ''(aˡ) ȧˡ
        g = seeds[:, None] * layers[-1][0][:, 0]
        g_dot = np.zeros_like(g)
        deltas, deltas_dot = [np.empty(0)] * len(first), [np.empty(0)] * len(first)
        for index in reversed(range(len(first))):
            deltas[index] = g * first[index]
            deltas_dot[index] = g_dot * first[index] + g * activation.second(forward.pre[index]) * pre_dot[index]
            weight_t = layers[index][0].T
            g, g_dot = deltas[index] @ weight_t, deltas_dot[index] @ weight_t
        # tangents of the parameter gradient: ḣˡ⁻¹ᵀ Dˡ + hˡ⁻¹ᵀ Ḋˡ, Σ Ḋˡ, ḣᴸᵀ s, 0
        pieces = []
        for previous, previous_dot, delta, delta_dot in zip(
            [forward.inputs, *forward.post[:-1]], [inputs_dot, *post_dot[:-1]], deltas, deltas_dot
        ):
            pieces += [(previous_dot.T @ delta + previous.T @ delta_dot).ravel(), delta_dot.sum(axis=0)]
        pieces += [post_dot[-1].T @ seeds, np.zeros(1, dtype=self.dtype)]
        return np.concatenate(pieces)

    # -- one configuration --------------------------------------------------
    def energy_from(self, descriptors: AtomDescriptors | AtomDescriptorValues) -> float:
        """Ê = Σᵢ Eᵢ + E_ref, eV."""
        return float(self.atom_energies(descriptors.descriptors).sum()) + descriptors.reference_energy

    def energy_gradient_from(self, descriptors: AtomDescriptors | AtomDescriptorValues) -> np.ndarray:
        """∇θÊ = Σᵢ ∇θEᵢ, flat like θ (E_ref does not depend on θ)."""
        return self.atom_energy_gradient(descriptors.descriptors)

    def forces_from(self, descriptors: AtomDescriptors) -> np.ndarray:
        """f̂ⱼ = −Σᵢ (∂Eᵢ/∂Bᵢ) · (∂Bᵢ/∂rⱼ) + f_ref,ⱼ, (N, 3) in eV/Å."""
        return -descriptors.pull_back(self.descriptor_gradients(descriptors.descriptors)) + descriptors.reference_forces

    def force_loss_gradient_from(self, descriptors: AtomDescriptors, errors: np.ndarray) -> np.ndarray:
        """∇θL = −Σᵢ Jᵢ uᵢ with uᵢ = Σⱼ (∂Bᵢ/∂rⱼ) · gⱼ, for force errors g = f̂ − f (N, 3)."""
        return -self.atom_energy_gradient_directional(descriptors.descriptors, descriptors.along(errors))
