"""The paper's estimate of the force-loss gradient (Eqs. 7–14), automatic ε, and naming the likely bug.

Exact gradients belong to the models that have them (the linear SNAP closed
form, the neural network's R-op, the Morse model's analytic form); this layer
sees a model only through Ê, f̂ and ∇θÊ, so the two are independent.
"""

from snapcheck.gradients.diagnosis import diagnose
from snapcheck.gradients.epsilon import EPSILON_GRID, EpsilonSelection, select_epsilon
from snapcheck.gradients.paper import (
    CentralDifference,
    Displacement,
    Evaluation,
    central_difference,
    displacement,
    paper_force_loss_gradient,
    relative_error,
)

__all__ = [
    "CentralDifference",
    "Displacement",
    "EPSILON_GRID",
    "EpsilonSelection",
    "Evaluation",
    "central_difference",
    "diagnose",
    "displacement",
    "paper_force_loss_gradient",
    "relative_error",
    "select_epsilon",
]
