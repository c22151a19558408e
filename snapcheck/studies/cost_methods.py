"""The gradients the cost benchmark times for a network on SNAP descriptors, every LAMMPS output precomputed.

For one system and one network (:class:`NeuralProblem`), each method is a call
with every input bound (:func:`neural_methods`):

(a) ``force prediction``: Bᵢ → Eᵢ → ∂Eᵢ/∂Bᵢ (one forward and one backward
    pass) → f̂ = −Dᵀe + f_ref (one sparse product with D = ∂B/∂r);
(b) ``paper gradient``: (a), g = f̂ − f, then ∇θÊ at r₊ and at r₋ (two
    forward-and-backward passes on the per-atom descriptors B(r±), which
    LAMMPS computed beforehand by two fast evaluations) and Eq. 7;
(c) ``exact product``: (a), g, u = D g (one sparse product), and the exact
    forward-over-reverse product −Σᵢ Jᵢuᵢ (the R-operator of
    :mod:`snapcheck.models.neural_snap`);
(d) ``double backprop`` (PyTorch, float64): forces by
    ``autograd.grad(ΣE, B, create_graph=True)`` and the same derivative rows,
    then ``L.backward()`` (:mod:`snapcheck.models.torch_snap`);
(a') ``force prediction (torch)``: (a) in PyTorch (``autograd.grad`` without
    ``create_graph``), so that (d) can also be read against a force
    prediction in its own framework, as TorchANI's figures are.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from snapcheck.descriptors.engine import SnapEngine
from snapcheck.descriptors.results import AtomDescriptors
from snapcheck.gradients.paper import Evaluation, LossPath, central_difference, displacement
from snapcheck.models.neural_snap import NeuralSnap

EPSILON = 1e-5  # the paper's ε (Eq. 9), g₀ = max|gᵢ|
FORCES, PAPER, EXACT, DOUBLE_BACKPROP = "force prediction", "paper gradient", "exact product", "double backprop"
TORCH_FORCES = "force prediction (torch)"


@dataclass(frozen=True)
class NeuralProblem:
    """One system and one network, every LAMMPS output precomputed.

    Attributes:
        model: the network; descriptors: B and D = ∂B/∂r at r.
        targets: f, (N, 3) eV/Å.
        plus, minus: B at r± = r ± ηg (N, K), from LAMMPS.
        positions: r; plus_positions: r₊ (Å), to tell which of B(r±) an evaluation asks for.
    """

    model: NeuralSnap
    descriptors: AtomDescriptors
    targets: np.ndarray
    plus: np.ndarray
    minus: np.ndarray
    positions: np.ndarray
    plus_positions: np.ndarray


def force_prediction(problem: NeuralProblem) -> np.ndarray:
    return problem.model.forces_from(problem.descriptors)


def paper_gradient(problem: NeuralProblem) -> np.ndarray:
    """(b): f̂, g and η (g sets r±, whose descriptors LAMMPS computed beforehand), then Eq. 7 from two ∇θÊ passes."""
    model, positions = problem.model, problem.positions

    def energy_gradient(displaced: np.ndarray, cell) -> Evaluation:
        descriptors = problem.plus if np.array_equal(displaced, problem.plus_positions) else problem.minus
        return Evaluation(None, model.atom_energy_gradient(descriptors))

    errors = model.forces_from(problem.descriptors) - problem.targets
    return central_difference(energy_gradient, LossPath(positions, errors), EPSILON).gradient


def exact_product(problem: NeuralProblem) -> np.ndarray:
    model = problem.model
    return model.force_loss_gradient_from(problem.descriptors, model.forces_from(problem.descriptors) - problem.targets)


def neural_problem(
    engine: SnapEngine, descriptors: AtomDescriptors, targets: np.ndarray, widths: tuple[int, ...], seed: int
) -> NeuralProblem:
    """A fresh tanh network standardised on this system's B, g at r, and B(r±).

    B(r±) come from two LAMMPS evaluations without derivatives.
    """
    b = descriptors.descriptors
    model = NeuralSnap.initialize(engine.parameters, widths, seed=seed, shift=b.mean(axis=0), scale=b.std(axis=0))
    positions = engine.configuration.positions
    step = displacement(LossPath(positions, model.forces_from(descriptors) - targets), EPSILON)
    plus, minus = (engine.evaluate_per_atom_values(r).descriptors for r, _ in (step.plus, step.minus))
    return NeuralProblem(model, descriptors, targets, plus, minus, positions, step.plus[0])


def neural_methods(problem: NeuralProblem, with_torch: bool) -> dict[str, tuple[str, Callable[[], object]]]:
    """Method name → (library, a call with every input bound)."""
    methods = {
        FORCES: ("numpy", lambda: force_prediction(problem)),
        PAPER: ("numpy", lambda: paper_gradient(problem)),
        EXACT: ("numpy", lambda: exact_product(problem)),
    }
    if with_torch:
        import torch

        from snapcheck.models.torch_snap import TorchDescriptors, TorchSnap

        network, tensors, targets = (
            TorchSnap(problem.model),
            TorchDescriptors.from_numpy(problem.descriptors),
            torch.tensor(problem.targets),
        )
        methods[TORCH_FORCES] = ("torch", lambda: network.forces_from(tensors).numpy())
        methods[DOUBLE_BACKPROP] = ("torch", lambda: network.force_loss_gradient_from(tensors, targets).numpy())
    return methods
