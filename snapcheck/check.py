"""``python -m snapcheck.check``: a CI regression check of force-training gradient accuracy.

Estimates ∇θL by the paper's central difference (Eq. 7, η = ε a₀/g₀ with
g₀ = max|g|) for a linear SNAP model on a subset of the Ta dataset, compares it
with the exact gradient A_fᵀ g, and prints Err[∇̃L] (Eq. 11) and the proxy
Err[L̃] (Eq. 14), for the whole subset and per group.

``--model`` is a name of the model registry (:mod:`snapcheck.models.registry`:
``trained``, ``untrained`` from ``--seed``, ``fitted`` with ``--fit-input``) or a
``.snapcoeff`` file, whose ``.snapparam`` must sit beside it (or be given by
``--snapparam``).  ``--epsilon auto`` selects ε by the proxy (Sec. III C): one
sweep over :data:`~snapcheck.gradients.epsilon.EPSILON_GRID` gives, per ε,
both Err[L̃] and Err[∇̃L]; ε is the one with the smallest Err[L̃] (as
:meth:`~snapcheck.gradients.reference.Reference.choose` reads it off the proxy), and Err[∇̃L] is
reported there.  The sweep runs on ``--jobs`` local processes or the Dask
cluster of ``--scheduler`` (:mod:`snapcheck.runtime.executors`).

Configurations whose force errors are round-off (maxᵢ|gᵢ| below
:data:`~snapcheck.studies.sweep.ROUNDOFF_FORCE_ERROR`, the perfect crystals of
the Volume groups) have a round-off ∇θL: they are listed with their absolute
figures as "not measurable at this precision" and left out of the relative
errors; a dataset of only such configurations passes with a note.

Exit codes: 0 when Err[∇̃L] ≤ ``--max-error``, 1 when above, 2 on bad usage or
bad data, 3 on an internal error.  Writes ``reports/check.csv`` (the selected ε only) and the run log
``reports/check_run.json``.
"""

from __future__ import annotations

import argparse

import numpy as np

from snapcheck.base.errors import EXIT_CHECK_FAILED, EXIT_OK
from snapcheck.base.files import write_csv
from snapcheck.data.datasets import load_configurations
from snapcheck.gradients.epsilon import EPSILON_GRID
from snapcheck.models.registry import ModelRequest, load_model
from snapcheck.runtime.cli import (
    add_configs_argument,
    add_model_arguments,
    common_parser,
    execution_options,
    positive_float,
    run,
)
from snapcheck.studies.sweep import ROUNDOFF_FORCE_ERROR, SweepSpec, best_epsilons, error_table, measurable, run_sweep


def epsilon_or_auto(text: str) -> float | str:
    if text == "auto":
        return "auto"
    try:
        return positive_float(text)
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(f"expected a positive number or auto, got {text!r}") from None


def main(argv: list[str] | None = None) -> int:
    parser = common_parser("python -m snapcheck.check", __doc__)
    add_model_arguments(parser, several=False, default="trained")
    parser.add_argument(
        "--epsilon",
        type=epsilon_or_auto,
        default="auto",
        help="ε, or auto to select it by the proxy Err[L̃] (default: auto)",
    )
    parser.add_argument(
        "--max-error", type=positive_float, default=1e-7, help="largest acceptable Err[∇̃L] (default: 1e-7)"
    )
    add_configs_argument(parser, 24)
    args = parser.parse_args(argv)

    model = load_model(args.model, ModelRequest(args.seed, args.data, args.fit_input), args.snapparam).model
    configurations = load_configurations(args.data, count=args.configs)
    spec = SweepSpec(models=(model,), epsilons=EPSILON_GRID if args.epsilon == "auto" else (args.epsilon,))
    results = run_sweep(configurations, spec, **execution_options(args, "check"))
    keep = measurable(results)
    print(f"model {model.name}, {len(configurations)} configurations")
    report_not_measurable(
        [c for c, k in zip(configurations, keep) if not k], [r for r, k in zip(results, keep) if not k]
    )
    if not keep.any():
        print(
            "PASS (nothing to check): no configuration has a force-loss gradient measurable at float64 precision;"
            " give configurations with nonzero force errors"
        )
        return EXIT_OK
    configurations = [c for c, k in zip(configurations, keep) if k]
    table = error_table(configurations, [r for r, k in zip(results, keep) if k], spec)
    epsilon = best_epsilons(table).iloc[0]["selected_epsilon"] if args.epsilon == "auto" else args.epsilon
    table = table[table["epsilon"] == epsilon].reset_index(drop=True)
    table["passed"] = table["err_grad"] <= args.max_error
    write_csv(table, args.out_dir / "reports" / "check.csv")

    whole = table[table["group"] == "all"].iloc[0]
    print(
        f"{len(configurations)} measurable configurations, ε = {epsilon:.3g}{' (selected by the proxy)' if args.epsilon == 'auto' else ''}"
    )
    print("  group          Err[∇̃L]    Err[L̃]     |∇θL| (eV/Å²)")
    for row in table.itertuples():
        print(f"  {row.group:<14} {row.err_grad:<10.3g} {row.err_loss:<10.3g} {row.grad_norm:.3g}")
    if whole["passed"]:
        print(f"PASS: Err[∇̃L] = {whole['err_grad']:.3g} ≤ {args.max_error:.3g}")
        return EXIT_OK
    print(f"FAIL: Err[∇̃L] = {whole['err_grad']:.3g} > {args.max_error:.3g}")
    return EXIT_CHECK_FAILED


def report_not_measurable(configurations: list, results: list) -> None:
    """Print the configurations whose ∇θL is round-off, with their absolute figures, and say they are left out."""
    if not configurations:
        return
    print(
        f"  not measurable at this precision (maxᵢ|gᵢ| < {ROUNDOFF_FORCE_ERROR:g} eV/Å, so ∇θL = A_fᵀg is round-off);"
        f" left out of the relative errors: {len(configurations)} configurations"
    )
    for configuration, result in zip(configurations, results):
        print(
            f"    {configuration.label:<28} max|g| {result.max_force_error[0]:.2g} eV/Å, L {result.exact_loss[0]:.2g} eV²/Å²,"
            f" |∇θL| {np.linalg.norm(result.exact_gradient[0]):.2g} eV/Å²"
        )


if __name__ == "__main__":
    run(main)
