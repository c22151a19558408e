"""Example: train a small PyTorch potential to Ta DFT forces with the paper's first-order step and with double backprop.

Both trainers start from the same θ and take the same Adam steps on L = Σ_c ½Σ|f̂ − f|² (Eq. 2):

* ``paper``:  :func:`snapcheck.torch.paper_force_loss_gradient` and ``TorchPotential.add_to_grad`` fill ``.grad``
  with Eq. 7 (first-order backward passes only, no ``create_graph``), ε fixed at 1e-5 (float64; the paper's
  automatic choice on this model lands there too);
* ``double``: f̂ = −∂Ê/∂r with ``create_graph=True`` and ``loss.backward()`` through it (Eq. 5).

The two loss curves coincide to the accuracy of Eq. 7 (~1e-10 relative per step).
``python -m snapcheck.bench torch-training`` runs it (:func:`snapcheck.torch.bench_studies.bench_torch_training`).
"""

from __future__ import annotations

import time

import pandas as pd
import torch

from snapcheck.gradients.reference import paper_force_loss_gradient
from snapcheck.torch.backend import TorchPotential, default_loss
from snapcheck.torch.determinism import one_thread
from snapcheck.torch.potential import RadialPotential, energy_fn, forces_fn, ta_atoms

#: Six Ta configurations (4 to 48 atoms) from four groups.
TRAINING_SET = (("Elastic_FCC", 2), ("Elastic_BCC", 2), ("GSF_110", 1), ("Displaced_FCC", 1))


def force_loss(model, configurations) -> torch.Tensor:
    """Σ_c ½Σ|f̂ − f|² with f̂ = −∂Ê/∂r taken with create_graph=True (the double-backprop trainer's loss)."""
    total = 0
    for atoms in configurations:
        positions = torch.tensor(atoms.get_positions(), requires_grad=True)
        total = total + default_loss(forces_fn(model, atoms, positions), torch.tensor(atoms.get_forces()), atoms)
    return total


def train(method: str, configurations, steps: int = 30, learning_rate: float = 1e-2, seed: int = 0) -> list[dict]:
    """Adam on the force loss; one row per step: step, method, loss (before the step, eV²/Å²), seconds."""
    model = RadialPotential(hidden=16, seed=seed)
    optimizer = torch.optim.Adam(model.parameters(), lr=learning_rate)
    potential = TorchPotential(model, energy_fn)
    rows = []
    for step in range(steps):
        start = time.perf_counter()
        optimizer.zero_grad(set_to_none=True)
        if method == "paper":
            estimate = paper_force_loss_gradient(potential, configurations, epsilon=1e-5)
            potential.add_to_grad(estimate.gradient)
            loss = estimate.loss
        elif method == "double":
            loss_tensor = force_loss(model, configurations)
            loss_tensor.backward()
            loss = float(loss_tensor.detach())
        else:
            raise ValueError(f"method {method!r}: expected 'paper' or 'double'")
        optimizer.step()
        rows.append({"step": step, "method": method, "loss": loss, "seconds": time.perf_counter() - start})
    return rows


def compare_training(steps: int = 30, seed: int = 0, configurations=None) -> pd.DataFrame:
    """Both trainers side by side, on one thread: columns step, loss_paper, loss_double, relative_difference,
    seconds_*."""
    configurations = configurations if configurations is not None else ta_atoms(TRAINING_SET)
    with one_thread():
        frames = {
            m: pd.DataFrame(train(m, configurations, steps, seed=seed)).set_index("step") for m in ("paper", "double")
        }
    table = pd.DataFrame(
        {
            "loss_paper": frames["paper"]["loss"],
            "loss_double": frames["double"]["loss"],
            "seconds_paper": frames["paper"]["seconds"],
            "seconds_double": frames["double"]["seconds"],
        }
    )
    table["relative_difference"] = (table.loss_paper - table.loss_double).abs() / table.loss_double
    return table.reset_index()


def training_figure(table: pd.DataFrame):
    """The two loss curves of :func:`compare_training` against the Adam step, on a log scale (a matplotlib
    ``Figure`` outside pyplot: no backend is chosen, nothing stays open)."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=(5, 3.5))
    ax = figure.subplots()
    ax.semilogy(table.step, table.loss_double, "-", label="double backprop (create_graph=True)")
    ax.semilogy(table.step, table.loss_paper, "--", label="paper's first-order step (Eq. 7)")
    ax.set(xlabel="Adam step", ylabel="force loss L (eV²/Å²)", title="Ta forces, RadialPotential")
    ax.legend()
    figure.tight_layout()
    return figure
