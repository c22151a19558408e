"""Assertions for other projects' test suites, in the spirit of e3nn's ``assert_equivariant``.

A trainer that computes the force-loss gradient ∇θL (by double backpropagation,
by the paper's Eq. 7, or by hand) checks it in one line::

    from snapcheck.testing import assert_force_loss_gradient
    assert_force_loss_gradient(my_model, configurations)

``my_model`` follows :mod:`snapcheck.models.protocol` and also offers
``force_loss_gradient(configuration)``: the trainer's own ∇θL of Eq. 2 for one
configuration.  Or pass any callable ``gradient_fn(configuration) → ∇θL`` and
the model that defines the truth as ``reference``.

The reference is independent of the code under test:

* for linear SNAP (a :class:`~snapcheck.models.potentials.LinearSnapPotential`,
  or any object whose ``exact_force_loss_gradient`` is that potential's), the
  closed form ∇θL = A_fᵀg with A_f from LAMMPS ``compute snap``;
* for any other model, even one with an exact gradient of its own (which may be
  the very code under test), the paper's central difference (Eq. 7) at
  ``epsilon`` (``"auto"``: chosen by the proxy of Eq. 14), whose own error is
  bounded by :data:`PROXY_FACTOR` × the proxy error Err[L̃] at that ε: the
  assertion tolerates ``rtol`` plus that bound, and says so.

The error is Eq. 11's: one L2 norm over every θ component of every
configuration.  The failure message says what was compared with what.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from snapcheck.data.configuration import Configuration
from snapcheck.gradients.diagnosis import diagnose
from snapcheck.gradients.epsilon import select_epsilon
from snapcheck.gradients.paper import paper_force_loss_gradient, relative_error
from snapcheck.models.protocol import check_model

#: The paper's estimate is trusted to PROXY_FACTOR × its proxy error Err[L̃] (Figs. 1–2: the proxy tracks
#: the true error Err[∇̃L] to within a factor of a few at the selected ε).
PROXY_FACTOR = 10.0


@dataclass(frozen=True)
class Reference:
    """(M, P) reference ∇θL, a phrase saying where it came from, and a bound on its own relative error."""

    gradients: np.ndarray
    source: str
    error_bound: float


def lammps_closed_form(reference):
    """The LinearSnapPotential whose closed form A_fᵀg ``reference`` offers, or None."""
    from snapcheck.models.potentials import LinearSnapPotential  # loads LAMMPS: only when asked

    if isinstance(reference, LinearSnapPotential):
        return reference
    owner = getattr(getattr(reference, "exact_force_loss_gradient", None), "__self__", None)
    return owner if isinstance(owner, LinearSnapPotential) else None


def reference_gradients(
    reference, configurations: Sequence[Configuration], epsilon: float | str = "auto", candidate=None
) -> Reference:
    """The reference ∇θL for ``configurations``, independent of ``candidate`` (module docstring)."""
    check_model(reference)
    snap = lammps_closed_form(reference)
    if snap is not None and not _same_function(candidate, snap.exact_force_loss_gradient):
        return Reference(
            np.array([snap.exact_force_loss_gradient(c) for c in configurations]),
            "the linear SNAP closed form A_fᵀg from LAMMPS compute snap",
            0.0,
        )
    selection = select_epsilon(reference, configurations) if epsilon == "auto" else None
    epsilon = selection.epsilon if selection else epsilon
    proxy = selection.err_loss[selection.grid.index(epsilon)] if selection else float("nan")
    bound = PROXY_FACTOR * proxy if selection else 0.0
    gradients = np.array([paper_force_loss_gradient(reference, c, epsilon) for c in configurations])
    chosen = f"ε = {epsilon:.3g}" + (f" chosen by the proxy, Err[L̃] = {proxy:.2g}" if selection else " as given")
    return Reference(gradients, f"the paper's central difference (Eq. 7) at {chosen}", bound)


def _same_function(candidate, method) -> bool:
    """True when ``candidate`` is ``method`` itself (a bound method of the same object)."""
    return (
        candidate is not None
        and getattr(candidate, "__func__", candidate) is getattr(method, "__func__", method)
        and getattr(candidate, "__self__", None) is getattr(method, "__self__", None)
    )


def assert_force_loss_gradient(
    model_or_gradient_fn,
    configurations: Sequence[Configuration],
    *,
    reference=None,
    epsilon: float | str = "auto",
    rtol: float = 1e-6,
) -> float:
    """Raise AssertionError when the candidate ∇θL differs from an independent reference by more than ``rtol``.

    The reference (module docstring) is the LAMMPS closed form for linear SNAP
    and the paper's estimate otherwise; with the estimate, the tolerance is
    ``rtol`` plus the estimate's own error bound.  Returns the relative error
    (Eq. 11) when it passes.
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
    truth = reference_gradients(reference, configurations, epsilon, candidate=gradient_fn)
    expected, source = truth.gradients, truth.source
    candidates = np.array([np.asarray(gradient_fn(c), dtype=float) for c in configurations])
    if candidates.shape != expected.shape:
        raise AssertionError(
            f"the candidate gradients have shape {candidates.shape}, the reference {expected.shape} (configurations × θ components)"
        )
    error = relative_error(candidates, expected)
    tolerance = rtol + truth.error_bound
    if not error <= tolerance:
        per_configuration = np.linalg.norm(candidates - expected, axis=1)
        worst = int(np.argmax(per_configuration))
        parameters = np.argsort(-np.abs(candidates[worst] - expected[worst]))[:5]
        lines = [
            f"force-loss gradient check failed: relative error {error:.3g} > tolerance {tolerance:.3g}"
            f" (rtol {rtol:.3g} + the reference's own error bound {truth.error_bound:.2g}; Eq. 11 over"
            f" {len(configurations)} configurations): compared the candidate {getattr(gradient_fn, '__qualname__', type(gradient_fn).__name__)}"
            f" with {source}",
            f"worst configuration: {configurations[worst].label} (error norm {per_configuration[worst]:.3g} eV/Å² per unit θ)",
            "worst parameters: "
            + ", ".join(f"θ[{p}] candidate {candidates[worst, p]:.6g} vs {expected[worst, p]:.6g}" for p in parameters),
        ]
        likely = diagnose(candidates, expected, [c.n_atoms for c in configurations])
        if likely:
            lines.append(f"likely bug: {likely}")
        raise AssertionError("\n".join(lines))
    return error
