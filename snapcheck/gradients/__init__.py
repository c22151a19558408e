"""The paper's estimate of ∇θL (Eqs. 6–14), automatic ε, the checks' shared parts, and naming the likely bug.

Exact gradients belong to the models that have them (the linear SNAP closed
form, the neural network's R-op, the Morse model's analytic form); this layer
sees a model only through a backend (:mod:`snapcheck.gradients.backend`): Ê,
f̂ and ∇θÊ, so the two are independent.
"""

from snapcheck.gradients.backend import Backend, NumpyBackend, Term, as_backend
from snapcheck.gradients.checks import CheckFailure, GradientReport
from snapcheck.gradients.diagnosis import FACTORS, describe_gradient, name_scales
from snapcheck.gradients.epsilon import DEFAULT_RULE, EPSILON_GRID, RULES, choose_epsilon
from snapcheck.gradients.forces_check import ForcesReport
from snapcheck.gradients.paper import (
    CentralDifference,
    Displacement,
    Evaluation,
    LossPath,
    central_difference,
    displacement,
    relative_error,
)
from snapcheck.gradients.reference import EpsilonChoice, PaperGradient, Reference, paper_force_loss_gradient

__all__ = [
    "DEFAULT_RULE",
    "EPSILON_GRID",
    "FACTORS",
    "RULES",
    "Backend",
    "CentralDifference",
    "CheckFailure",
    "Displacement",
    "EpsilonChoice",
    "Evaluation",
    "ForcesReport",
    "GradientReport",
    "NumpyBackend",
    "PaperGradient",
    "LossPath",
    "Reference",
    "Term",
    "as_backend",
    "central_difference",
    "choose_epsilon",
    "describe_gradient",
    "displacement",
    "name_scales",
    "paper_force_loss_gradient",
    "relative_error",
]
