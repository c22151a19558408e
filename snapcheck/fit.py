"""``python -m snapcheck.fit``: fit a linear SNAP model to the dataset, as FitSNAP does.

Builds FitSNAP's energy, force and stress rows from LAMMPS ``compute snap``,
weights them by group as the FitSNAP input file says (``--fit-input``, by default
the dataset's own ``Ta-example.in``), solves by SVD least squares and prints
FitSNAP's metrics: per group and row type, the count, MAE, RMSE and R², unweighted
(eV/atom, eV/Å, bar) and weighted.  See :mod:`snapcheck.models.linear_fit`.

Writes ``reports/fit_metrics.csv`` and ``reports/fit_metrics.md`` (the metrics),
and ``reports/fitted.snapcoeff`` with ``reports/fitted.snapparam`` (the model,
readable by LAMMPS ``pair_style snap`` and by ``--model FILE.snapcoeff`` of the
other commands; ``--model fitted`` refits instead).  The fit is deterministic
and serial (a few seconds for the Ta set): ``--seed`` and ``--jobs`` do not
change it.
"""

from __future__ import annotations

import pandas as pd

from snapcheck.base.errors import EXIT_OK
from snapcheck.base.files import write_csv, write_markdown
from snapcheck.base.progress import progress_bar
from snapcheck.data.datasets import FIT_INPUT, dataset_file, load_configurations
from snapcheck.data.fitsnap_input import read_fitsnap_input
from snapcheck.models.linear_fit import ROW_UNITS, fit_linear_snap
from snapcheck.runtime.cli import add_fit_input_argument, common_parser, run


def print_metrics(metrics: pd.DataFrame) -> None:
    """One line per group and row type: the unweighted metrics, then the weighted ones."""
    wide = metrics.pivot_table(
        index=["group", "row_type"], columns="weighting", values=["ncount", "mae", "rmse", "rsq"], sort=True
    )
    print(
        f"  {'group':<14} {'rows':<7} {'count':>5}  {'MAE':<10} {'RMSE':<10} {'R²':<10} | weighted: {'MAE':<10} {'RMSE':<10} R²"
    )
    for (group, row_type), row in wide.iterrows():
        unweighted = [row[(metric, "Unweighted")] for metric in ("mae", "rmse", "rsq")]
        weighted = [row[(metric, "weighted")] for metric in ("mae", "rmse", "rsq")]
        print(
            f"  {group:<14} {row_type:<7} {int(row[('ncount', 'Unweighted')]):>5}  "
            + " ".join(f"{v:<10.4g}" for v in unweighted)
            + " |           "
            + " ".join(f"{v:<10.4g}" for v in weighted)
            + f" ({ROW_UNITS[row_type]}; weighted ×w)"
        )


def main(argv: list[str] | None = None) -> int:
    parser = common_parser("python -m snapcheck.fit", __doc__)
    add_fit_input_argument(parser)
    args = parser.parse_args(argv)

    fit_input = read_fitsnap_input(args.fit_input or dataset_file(args.data, FIT_INPUT))
    configurations = load_configurations(args.data)
    fit = fit_linear_snap(
        configurations, fit_input, progress=lambda items: progress_bar(items, desc="FitSNAP rows", unit="config")
    )
    reports = args.out_dir / "reports"
    write_csv(fit.metrics, reports / "fit_metrics.csv")
    write_markdown(fit.metrics, reports / "fit_metrics.md")
    fit.model.write(
        reports / "fitted.snapcoeff",
        reports / "fitted.snapparam",
        f"snapcheck fit of {len(configurations)} configurations with {fit_input.path}",
    )

    print(
        f"fitted {fit.model.n_parameters} coefficients to {len(fit.rows.truth)} rows of {len(configurations)} configurations ({fit_input.path})"
    )
    print(f"  wall time: descriptors {fit.descriptor_seconds:.2f} s, SVD solve {fit.solve_seconds:.3f} s")
    print_metrics(fit.metrics)
    print(f"wrote {reports}/fit_metrics.csv, fit_metrics.md, fitted.snapcoeff and fitted.snapparam")
    return EXIT_OK


if __name__ == "__main__":
    run(main)
