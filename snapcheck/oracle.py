"""``python -m snapcheck.oracle``: golden reference files for trainers, and comparing against them.

``export``
    Evaluate a linear SNAP model (``--model`` by registry name: ``trained``,
    ``untrained`` with ``--seed``, ``fitted`` with ``--fit-input``, or a
    ``.snapcoeff``) on the dataset and write its exact answers (f̂, g, L, ∇θL = A_fᵀg,
    ΣB, A_f, with positions, cells and DFT forces) to ``--out FILE.npz``,
    readable by numpy alone.  The format is documented in
    :mod:`snapcheck.studies.golden`.  The evaluations run on ``--jobs`` local
    processes or the Dask cluster of ``--scheduler``
    (:mod:`snapcheck.runtime.executors`); the run log is
    ``reports/oracle_export_run.json``.

``compare REFERENCE CANDIDATE``
    Compare a trainer's per-configuration L and ∇θL (an ``.npz`` with
    ``names``, ``loss`` and ``gradient``) with a reference file.  Prints the
    error over all configurations (Eq. 11 and 14), each group's share of it,
    the worst configurations by their own relative error, names the likely bug
    and any configuration or θ component that is NaN or inf (exit 1), writes ``reports/oracle_compare.csv``
    and exits 1 when the error exceeds ``--rtol``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from snapcheck.base.errors import EXIT_CHECK_FAILED, EXIT_OK
from snapcheck.base.files import write_csv
from snapcheck.data.datasets import load_configurations
from snapcheck.models.registry import ModelRequest, load_model
from snapcheck.runtime.cli import (
    Parser,
    add_configs_argument,
    add_model_arguments,
    common_parser,
    execution_options,
    positive_float,
    run,
)
from snapcheck.studies.golden import build_reference, compare, write_npz
from snapcheck.studies.sweep import ROUNDOFF_FORCE_ERROR


def export(args: argparse.Namespace) -> int:
    named = load_model(args.model, ModelRequest(args.seed, args.data, args.fit_input), args.snapparam)
    model = named.model
    configurations = load_configurations(args.data, count=args.configs)
    arrays = build_reference(model, configurations, named.files, **execution_options(args, "oracle_export"))
    path = write_npz(arrays, args.out)
    print(f"wrote {path}: model {model.name}, {len(configurations)} configurations, {arrays['theta'].size} parameters")
    return EXIT_OK


def compare_command(args: argparse.Namespace) -> int:
    table, likely = compare(args.reference, args.candidate)
    write_csv(table, args.out_dir / "reports" / "oracle_compare.csv")
    overall = table.iloc[0]
    print(f"{args.candidate} against {args.reference}: {int((table['level'] == 'configuration').sum())} configurations")
    print(
        f"  all: Err[∇θL] = {overall['gradient_error']:.3g}, Err[L] = {overall['loss_error']:.3g} (tolerance {args.rtol:.3g})"
    )
    print("  share of the error by group:")
    for row in table[table["level"] == "group"].itertuples():
        print(f"    {row.group:<14} ∇θL {row.gradient_error:<10.3g} L {row.loss_error:.3g}")
    configurations = table[table["level"] == "configuration"]
    worst = configurations[configurations["measurable"]].nlargest(5, "gradient_relative_error")
    print("  worst configurations, by their own relative error |Δ|/|exact|:")
    for row in worst.itertuples():
        print(f"    {row.name:<40} ∇θL {row.gradient_relative_error:<10.3g} L {row.loss_relative_error:.3g}")
    unmeasurable = configurations[~configurations["measurable"].astype(bool)]
    if len(unmeasurable):
        print(
            f"  {len(unmeasurable)} configurations have round-off force errors (maxᵢ|gᵢ| < {ROUNDOFF_FORCE_ERROR:g} eV/Å):"
            " their exact L and ∇θL are round-off, so no relative error of their own is shown"
        )
    if likely:
        print(f"  likely bug: {likely}")
    failed = not (overall["gradient_error"] <= args.rtol and overall["loss_error"] <= args.rtol)
    print("FAIL" if failed else "PASS")
    return EXIT_CHECK_FAILED if failed else EXIT_OK


def main(argv: list[str] | None = None) -> int:
    parser = Parser(
        prog="python -m snapcheck.oracle", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True)
    exporter = common_parser("python -m snapcheck.oracle export", "Write a golden reference file.")
    add_model_arguments(exporter, several=False, default="trained")
    add_configs_argument(exporter, None)
    exporter.add_argument("--out", type=Path, required=True, help="the .npz file to write")
    commands.add_parser("export", parents=[exporter], add_help=False, help="write a golden reference file")
    comparer = common_parser("python -m snapcheck.oracle compare", "Compare a candidate with a reference.")
    comparer.add_argument("reference", type=Path)
    comparer.add_argument("candidate", type=Path)
    comparer.add_argument(
        "--rtol", type=positive_float, default=1e-6, help="largest acceptable relative error (default: 1e-6)"
    )
    commands.add_parser("compare", parents=[comparer], add_help=False, help="compare a candidate with a reference")
    args = parser.parse_args(argv)
    return export(args) if args.command == "export" else compare_command(args)


if __name__ == "__main__":
    run(main)
