"""``python -m snapcheck.fig2``: the paper's Fig. 2, with g₀ fixed (1 eV/Å by default).

The same sweep as Fig. 1 but with the naive η = ε·a₀/g₀ for a constant g₀: the
best ε now moves by orders of magnitude between the trained and the untrained
model (the paper's Appendix A).  Writes reports/fig2.csv,
reports/fig2_groups.csv, reports/fig2_epsilon_rules.csv, figures/fig2.png and figures/fig2.pdf.

--loss stress, all or energy,forces… sweeps FitSNAP's training loss over those terms with the
weights of the dataset's FitSNAP input (or --fit-input), as fig1 --help says; --g0 is then in
Å/eV, the unit of the path's speed, and the outputs are named fig2_all.csv, fig2_stress.png and
so on.
"""

from __future__ import annotations

from snapcheck.runtime import cli
from snapcheck.runtime.cli import run
from snapcheck.studies.epsilon_study import fig2_spec
from snapcheck.studies.paper_figures import paper_figures_command


def parser():
    return cli.figure_parser("fig2", __doc__, fixed_g0=True, precision_outputs="its rows in reports/fig2.csv")


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    return cli.report(paper_figures_command([fig2_spec(args.g0)], args, "fig2"))


if __name__ == "__main__":
    run(main)
