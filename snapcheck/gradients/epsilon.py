"""The one ε grid, and choosing ε automatically by the energy-only proxy (Sec. III C).

The paper's recommendation: choose ε to minimise the proxy Err[L̃] of Eq. 14,
which needs only energies and the known loss L, never the exact gradient.
Its error tracks that of ∇̃θL (Figs. 1 and 2), so the ε it picks is close to
the one that minimises the true error.

:data:`EPSILON_GRID` is the grid of every sweep and every automatic choice:
the paper's range, 10⁻¹² … 10⁻¹ in half-decades (23 values).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from snapcheck.data.configuration import Configuration
from snapcheck.gradients.paper import Evaluation, central_difference, relative_error, round_to_precision
from snapcheck.models.protocol import check_model

#: ε from 10⁻¹² to 10⁻¹ in half-decades: 23 values (Figs. 1 and 2).
EPSILON_GRID = tuple(10.0 ** (np.arange(-24, -1) / 2))


@dataclass(frozen=True)
class EpsilonSelection:
    """ε* and the proxy curve it was read from: Err[L̃] (Eq. 14) for every ε of ``grid``."""

    epsilon: float
    grid: tuple[float, ...]
    err_loss: tuple[float, ...]


def select_epsilon(
    model,
    configurations: Sequence[Configuration],
    grid: Sequence[float] = EPSILON_GRID,
    g0: str | float = "max",
    precision: str = "float64",
) -> EpsilonSelection:
    """ε minimising Err[L̃] (Eq. 14) over ``grid`` for a model of :mod:`snapcheck.models.protocol`.

    ``precision="float32"`` emulates a single-precision energy code: r± and the
    returned energies are rounded to float32.
    """
    check_model(model)
    losses, estimates = [], []
    for configuration in configurations:
        errors = model.forces(configuration, configuration.positions) - configuration.forces
        losses.append(0.5 * float(np.sum(errors * errors)))

        def energy(positions, configuration=configuration):
            return Evaluation(float(round_to_precision(model.energy(configuration, positions), precision)), None)

        row = []
        for epsilon in grid:
            estimate = central_difference(
                energy, configuration.positions, errors, configuration.forces, epsilon, g0, precision
            )
            row.append(0.0 if estimate is None else estimate.loss)
        estimates.append(row)
    losses, estimates = np.array(losses), np.array(estimates)
    err_loss = tuple(relative_error(estimates[:, k], losses) for k in range(len(grid)))
    return EpsilonSelection(epsilon=float(grid[int(np.argmin(err_loss))]), grid=tuple(grid), err_loss=err_loss)
