"""``python -m snapcheck.fig2``: the paper's Fig. 2, with g₀ fixed (1 eV/Å by default).

The same sweep as Fig. 1 but with the naive η = ε·a₀/g₀ for a constant g₀: the
best ε now moves by orders of magnitude between the trained and the untrained
model (the paper's Appendix A).  Writes ``reports/fig2.csv``,
``reports/fig2_groups.csv``, ``figures/fig2.png`` and ``figures/fig2.pdf``.
"""

from __future__ import annotations

from snapcheck.fig1 import make_figures
from snapcheck.runtime.cli import figures_parser, run
from snapcheck.studies.epsilon_study import fig2_spec


def main(argv: list[str] | None = None) -> int:
    args = figures_parser("python -m snapcheck.fig2", __doc__, fixed_g0=True).parse_args(argv)
    return make_figures(args, [fig2_spec(args.g0)], "fig2")


if __name__ == "__main__":
    run(main)
