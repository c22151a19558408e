"""Assertions for other projects' test suites, in the spirit of e3nn's ``assert_equivariant``.

A trainer that computes the force-loss gradient ∇θL (by double backpropagation,
by the paper's Eq. 7, or by hand) checks it in one line::

    from snapcheck.testing import assert_force_loss_gradient
    assert_force_loss_gradient(my_model, configurations)

``my_model`` follows :mod:`snapcheck.models.protocol` and also offers
``force_loss_gradient(configuration)``: the trainer's own ∇θL of Eq. 2 for one
configuration.  Or pass any callable ``gradient_fn(configuration) → ∇θL`` and
the model that defines the truth as ``reference``.

The reference gradient is the model's ``exact_force_loss_gradient`` when it
has one (the linear SNAP oracle, the Morse model), otherwise the paper's
central difference (Eq. 7) at ``epsilon`` (``"auto"``: chosen by the proxy of
Eq. 14).  The error is Eq. 11's: one L2 norm over every θ component of every
configuration.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from snapcheck.data.configuration import Configuration
from snapcheck.gradients.diagnosis import diagnose
from snapcheck.gradients.epsilon import select_epsilon
from snapcheck.gradients.paper import paper_force_loss_gradient, relative_error
from snapcheck.models.protocol import check_model


def reference_gradients(
    reference, configurations: Sequence[Configuration], epsilon: float | str = "auto"
) -> tuple[np.ndarray, str]:
    """(M, P) reference ∇θL and a phrase saying where it came from."""
    check_model(reference)
    if hasattr(reference, "exact_force_loss_gradient"):
        return np.array([reference.exact_force_loss_gradient(c) for c in configurations]), "the model's exact gradient"
    if epsilon == "auto":
        epsilon = select_epsilon(reference, configurations).epsilon
    return np.array(
        [paper_force_loss_gradient(reference, c, epsilon) for c in configurations]
    ), f"the paper's central difference at ε = {epsilon:.3g}"


def assert_force_loss_gradient(
    model_or_gradient_fn,
    configurations: Sequence[Configuration],
    *,
    reference=None,
    epsilon: float | str = "auto",
    rtol: float = 1e-6,
) -> float:
    """Raise AssertionError when the candidate ∇θL differs from the reference by more than ``rtol``.

    Returns the relative error (Eq. 11) when it passes.
    """
    if callable(getattr(model_or_gradient_fn, "force_loss_gradient", None)):
        gradient_fn: Callable = model_or_gradient_fn.force_loss_gradient
        reference = model_or_gradient_fn if reference is None else reference
    elif callable(model_or_gradient_fn):
        gradient_fn = model_or_gradient_fn
        if reference is None:
            raise TypeError("a bare gradient function needs reference=<the energy model it differentiates>")
    else:
        raise TypeError(
            f"expected a model with force_loss_gradient(configuration) or a callable, got {type(model_or_gradient_fn).__name__}"
        )
    expected, source = reference_gradients(reference, configurations, epsilon)
    candidates = np.array([np.asarray(gradient_fn(c), dtype=float) for c in configurations])
    if candidates.shape != expected.shape:
        raise AssertionError(
            f"the candidate gradients have shape {candidates.shape}, the reference {expected.shape} (configurations × θ components)"
        )
    error = relative_error(candidates, expected)
    if not error <= rtol:
        per_configuration = np.linalg.norm(candidates - expected, axis=1)
        worst = int(np.argmax(per_configuration))
        parameters = np.argsort(-np.abs(candidates[worst] - expected[worst]))[:5]
        lines = [
            f"force-loss gradient check failed: relative error {error:.3g} > rtol {rtol:.3g} (Eq. 11 over {len(configurations)} configurations; reference: {source})",
            f"worst configuration: {configurations[worst].label} (error norm {per_configuration[worst]:.3g} eV/Å² per unit θ)",
            "worst parameters: "
            + ", ".join(f"θ[{p}] candidate {candidates[worst, p]:.6g} vs {expected[worst, p]:.6g}" for p in parameters),
        ]
        likely = diagnose(candidates, expected, [c.n_atoms for c in configurations])
        if likely:
            lines.append(f"likely bug: {likely}")
        raise AssertionError("\n".join(lines))
    return error
