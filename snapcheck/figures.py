"""``python -m snapcheck.figures``: Figs. 1 and 2 and the precision study, from one sweep.

Writes everything ``fig1`` and ``fig2`` write, plus ``figures/fig1_precision.png``
(float64 beside emulated float32; ``--precision float32`` is the default here).
"""

from __future__ import annotations

from snapcheck.cli import EXIT_OK, run
from snapcheck.fig1 import FIG1
from snapcheck.fig2 import fig2_spec
from snapcheck.studies.epsilon_study import parser, run_study


def main(argv: list[str] | None = None) -> int:
    command = parser("python -m snapcheck.figures", __doc__, fixed_g0=True)
    command.set_defaults(precision="float32")
    args = command.parse_args(argv)
    run_study(args, [FIG1, fig2_spec(args.g0)])
    return EXIT_OK


if __name__ == "__main__":
    run(main)
