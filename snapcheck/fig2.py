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
from snapcheck.studies.paper_figures import make_paper_figures


def parser():
    figures = cli.figure_flags(fixed_g0=True, precision_outputs="its rows in reports/fig2.csv")
    return cli.command_parser(
        "fig2",
        __doc__,
        cli.add_data,
        cli.add_out_dir,
        cli.add_seed,
        cli.add_execution,
        figures,
        cli.loss_flag("forces"),
    )


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    return cli.report(
        make_paper_figures(
            [fig2_spec(args.g0)],
            data=args.data,
            configs=args.configs,
            models=args.models,
            seed=args.seed,
            fit_input=args.fit_input,
            loss=args.loss,
            epsilons=args.epsilons,
            precision=args.precision,
            out_dir=args.out_dir,
            execution=cli.execution_options(args, "fig2"),
        )
    )


if __name__ == "__main__":
    run(main)
