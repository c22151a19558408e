"""``python -m snapcheck.figures``: Figs. 1 and 2 and the precision study, from one sweep.

Writes everything ``fig1`` and ``fig2`` write, plus ``figures/fig1_precision.png``
and ``.pdf`` (float64 beside emulated float32; ``--precision float32`` is the
default here).
"""

from __future__ import annotations

from snapcheck.fig1 import make_figures
from snapcheck.runtime.cli import figures_parser, run
from snapcheck.studies.epsilon_study import FIG1, fig2_spec


def main(argv: list[str] | None = None) -> int:
    parser = figures_parser("python -m snapcheck.figures", __doc__, fixed_g0=True)
    parser.set_defaults(precision="float32")
    args = parser.parse_args(argv)
    return make_figures(args, [FIG1, fig2_spec(args.g0)], "figures")


if __name__ == "__main__":
    run(main)
