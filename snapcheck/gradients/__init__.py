"""θ-gradients of the force loss: exact (closed form) and the paper's central difference."""

from snapcheck.gradients.estimate import LossGradient, fd_force_loss_gradient, select_epsilon
from snapcheck.gradients.exact import DatasetForceLoss, ForceLoss, dataset_force_loss, exact_force_loss

__all__ = ["DatasetForceLoss", "ForceLoss", "LossGradient", "dataset_force_loss", "exact_force_loss", "fd_force_loss_gradient", "select_epsilon"]
