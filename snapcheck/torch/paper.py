"""The paper's first-order force-training step for any PyTorch potential: Eq. 7 into ``.grad``.

No ``create_graph`` and no double backward: one backward pass gives f̂ = −∂Ê/∂r, autograd on the
loss alone gives g = ∂L/∂f̂, and two more first-order backward passes give ∇θÊ at r ± ηg, so

    ∇θL ≈ −Σ_c (∇θÊ_c[r + ηg] − ∇θÊ_c[r − ηg]) / (2η),      η = ε a₀/g₀       (Eqs. 7–10).

The memory is that of an energy-only backward pass, whatever the force loss.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch

from snapcheck.torch.reference import Reference, as_atoms_list, choose_epsilon, default_loss, slices


@dataclass(frozen=True)
class PaperGradientReport:
    """ε, η, the error bound (the proxy at ε), the proxy table and kind, and the force loss L."""

    epsilon: float
    eta: float
    error_bound: float
    proxy: dict
    proxy_kind: str
    loss: float


def paper_force_loss_gradient(
    model: torch.nn.Module,
    energy_fn: Callable,
    configurations: Sequence,
    *,
    loss_fn: Callable | None = None,
    epsilon="auto",
    proxy: str = "auto",
) -> PaperGradientReport:
    """Add the paper's estimate (Eq. 7) of ∇θ Σ_c loss_fn(f̂_c, f_c) to each parameter's ``.grad``.

    Runs in the model's own dtype.  ``epsilon="auto"`` chooses ε by the energy proxy (Eqs. 12–14) in
    float64 and by the gradient self-consistency proxy in lower precision (``proxy="energy"`` or
    ``"gradient"`` forces one); a number fixes ε (one evaluation pair per configuration: the cheap
    choice inside a training loop, e.g. 1e-5 in float64, 3e-3 in float32).  An energy term of the
    training loss is not included: add it with an ordinary ``backward()``.
    """
    reference = Reference.from_energy_fn(model, energy_fn, as_atoms_list(configurations), loss_fn or default_loss)
    if reference.g0 == 0.0:
        return PaperGradientReport(math.nan, 0.0, 0.0, {}, "none", reference.loss)
    choice = choose_epsilon(reference, epsilon, kind=proxy, paper_loss=loss_fn is None)
    for (_, p), s in zip(reference.params, slices(reference.params).values()):
        step = torch.as_tensor(choice.gradient[s], dtype=p.dtype, device=p.device).reshape(p.shape)
        p.grad = step if p.grad is None else p.grad + step
    return PaperGradientReport(
        choice.epsilon, reference.eta(choice.epsilon), choice.bound, choice.proxy, choice.kind, reference.loss
    )
