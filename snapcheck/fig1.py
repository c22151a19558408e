"""``python -m snapcheck.fig1``: the paper's Fig. 1, with g₀ = maxᵢ|gᵢ| (Eq. 10).

Relative errors Err[∇̃L] (Eq. 11) and Err[L̃] (Eq. 14) of the central
difference (Eq. 7) against ε, for the trained (the dataset's fit: Ta06A for the
Ta data) and untrained (Kaiming) linear SNAP models on the dataset.  Writes reports/fig1.csv,
reports/fig1_groups.csv, reports/fig1_epsilon_rules.csv, figures/fig1.png and figures/fig1.pdf;
with --precision float32 also figures/fig1_precision.png and .pdf.

--loss stress, all or energy,forces… sweeps FitSNAP's training loss over those terms with the
weights of the dataset's FitSNAP input (or --fit-input) instead of the paper's force loss: the
force and stress terms by one strained central difference, the energy term exactly
(snapcheck.studies.sweep).  g₀ is then the path's largest speed, and the proxy is Err[D̃], the
derivative of Ê along the path from energies, not Eq. 14's L̃.  Every output name carries the
loss's label: reports/fig1_all.csv, fig1_all_groups.csv, fig1_all_epsilon_rules.csv,
fig1_all_run.json, figures/fig1_all.png (fig1_stress… for --loss stress), so the paper's
files are never overwritten.
"""

from __future__ import annotations

from snapcheck.runtime import cli
from snapcheck.runtime.cli import run
from snapcheck.studies.epsilon_study import FIG1
from snapcheck.studies.paper_figures import paper_figures_command


def parser():
    return cli.figure_parser(
        "fig1",
        __doc__,
        fixed_g0=False,
        precision_outputs="its rows in reports/fig1.csv, and figures/fig1_precision.png",
    )


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    return cli.report(paper_figures_command([FIG1], args, "fig1"))


if __name__ == "__main__":
    run(main)
