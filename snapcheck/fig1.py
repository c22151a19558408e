"""``python -m snapcheck.fig1``: the paper's Fig. 1, with g₀ = max_i |g_i| (Eq. 10).

Relative errors Err[∇̃L] (Eq. 11) and Err[L̃] (Eq. 14) of the central
difference (Eq. 7) against ε, for the trained (Ta06A) and untrained (Kaiming)
linear SNAP models on the Ta dataset.  Writes ``reports/fig1.csv``,
``reports/fig1_groups.csv``, ``figures/fig1.png`` and ``figures/fig1.pdf``.
"""

from __future__ import annotations

from snapcheck.cli import EXIT_OK, run
from snapcheck.studies.epsilon_study import FigureSpec, parser, run_study

FIG1 = FigureSpec("fig1", "max", "Fig. 1: η = ε·a₀/g₀ with g₀ = maxᵢ|gᵢ|")


def main(argv: list[str] | None = None) -> int:
    args = parser("python -m snapcheck.fig1", __doc__, fixed_g0=False).parse_args(argv)
    run_study(args, [FIG1])
    return EXIT_OK


if __name__ == "__main__":
    run(main)
