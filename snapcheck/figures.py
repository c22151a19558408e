"""``python -m snapcheck.figures``: Figs. 1 and 2 and the precision study, from one sweep.

Writes everything fig1 and fig2 write, plus figures/fig1_precision.png and
.pdf (float64 beside emulated float32; --precision float32 is the default
here).  With --loss stress, all or energy,forces… (fig1 --help) every name
carries the loss's label: reports/fig1_all.csv, fig2_all.csv,
figures_all_run.json, figures/fig1_all_precision.png and so on.
"""

from __future__ import annotations

from snapcheck.runtime import cli
from snapcheck.runtime.cli import run
from snapcheck.studies.epsilon_study import FIG1, fig2_spec
from snapcheck.studies.paper_figures import paper_figures_command


def parser():
    parser = cli.figure_parser(
        "figures",
        __doc__,
        fixed_g0=True,
        precision_outputs="its rows in reports/fig1.csv and fig2.csv, and figures/fig1_precision.png",
    )
    parser.set_defaults(precision="float32")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    return cli.report(paper_figures_command([FIG1, fig2_spec(args.g0)], args, "figures"))


if __name__ == "__main__":
    run(main)
