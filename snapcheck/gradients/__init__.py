"""θ-gradients of the force loss: exact (closed form) and the paper's central difference."""

from snapcheck.gradients.exact import DatasetForceLoss, ForceLoss, dataset_force_loss, exact_force_loss

__all__ = ["DatasetForceLoss", "ForceLoss", "dataset_force_loss", "exact_force_loss"]
