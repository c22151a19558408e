"""The benchmarks of snapcheck.torch that ``python -m snapcheck.bench`` runs; each needs snapcheck[torch].

torch: time the paper's first-order step against double backpropagation, and
snapcheck's check against gradgradcheck.  Networks of 1e3 … 1e6 parameters on
bcc Ta cells of 2 … 200 atoms, one thread, the force loss and a whole loss
(energy, forces, stress), graph memory; writes reports/torch_benchmark.csv;
exit 1 unless the check passes the correct model and both steps give one
gradient on every row (snapcheck.torch.benchmark).

torch-checks: snapcheck's check on three real, correct PyTorch trainers.  The
RadialPotential, hippynn and FitSNAP, per parameter tensor; writes
reports/torch_checks.csv; exit 1 if a correct trainer fails
(snapcheck.torch.trainer_checks).

torch-training: train a Ta potential with the paper's step and with double
backpropagation.  Adam on six Ta configurations from the same θ; writes
reports/torch_training.csv and figures/torch_training.png; exit 1 unless the
two loss curves agree at every step (snapcheck.torch.example).

zoo: the field's real force- and stress-training bugs through snapcheck and
today's tools.  Each entry's buggy and fixed variant in float64 and float32;
writes reports/zoo.csv, zoo.md and zoo_run.json; exit 1 if snapcheck flags a
fixed variant (snapcheck.torch.zoo).

This module imports no torch: each study checks that torch is installed
(else :class:`~snapcheck.base.errors.MissingDependency`, exit 2) and imports
what it runs when it runs, so ``python -m snapcheck.bench --help`` stays light.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from pathlib import Path

from snapcheck.base.errors import InputError, MissingDependency
from snapcheck.base.files import save_figure, write_csv
from snapcheck.base.report import Summary, Verdict

#: The trainers of ``bench torch-checks`` (:mod:`snapcheck.torch.trainer_checks`), in the order they run.
TRAINERS = ("radial", "hippynn", "fitsnap")
#: The largest relative difference of the paper's step from double backprop that counts as one gradient
#: (Eq. 7 at ε = 1e-5 is ~1e-9 off on these networks).
SAME_GRADIENT = 1e-6
#: The largest relative difference of the two training loss curves at any step (~1e-10 measured).
SAME_CURVE = 1e-8


def require_torch(subcommand: str) -> None:
    """Raise :class:`~snapcheck.base.errors.MissingDependency` (exit 2, one line) unless torch can be imported."""
    if importlib.util.find_spec("torch") is None:
        raise MissingDependency(
            f"bench {subcommand} needs PyTorch, which is not installed: pip install 'snapcheck[torch]'"
        )


def spread(values) -> str:
    return f"{values.min():.2f}–{values.max():.2f}×"


def bench_torch(out_dir: Path, seed: int) -> Summary:
    """Time the default grid of :func:`snapcheck.torch.benchmark.run_benchmark`; ``reports/torch_benchmark.csv``."""
    require_torch("torch")
    from snapcheck.torch.benchmark import run_benchmark

    table = run_benchmark(seed=seed)
    return benchmark_summary(table, write_csv(table, out_dir / "reports" / "torch_benchmark.csv"))


def benchmark_summary(table, path: Path) -> Summary:
    """The ratios of :func:`snapcheck.torch.benchmark.run_benchmark`'s ``table`` (written to ``path``), and the
    verdict: snapcheck's check passed the correct model, and the two steps gave one gradient, on every row."""
    lines = [
        f"{len(table)} rows: P = {table.parameters.min()} … {table.parameters.max()} parameters, "
        f"N = {table.atoms.min()} … {table.atoms.max()} atoms, one thread; double backprop / paper's step:"
    ]
    for name, suffix in (("force loss", ""), ("whole loss", "_whole")):
        times, memory = table[f"time_ratio_double_over_paper{suffix}"], table[f"memory_ratio_double_over_paper{suffix}"]
        lines.append(f"  {name:<10}  time {spread(times)}, graph memory {spread(memory)}")
    for _, row in table.dropna(subset=["seconds_gradgradcheck"]).iterrows():
        lines.append(
            f"gradgradcheck / check at P = {row.parameters:.0f}, N = {row.atoms:.0f}: "
            f"{row.speedup_check_vs_gradgradcheck:.0f}× "
            f"({row.seconds_gradgradcheck:.3g} s against {row.seconds_check:.2g} s)"
        )
    lines += [f"gradgradcheck fast mode / check: {spread(table.speedup_check_vs_gradgradcheck_fast.dropna())}"]
    failed = table[~table.check_passed.astype(bool)]
    apart = table[(table.gradient_difference > SAME_GRADIENT) | (table.gradient_difference_whole > SAME_GRADIENT)]
    differences = table[["gradient_difference", "gradient_difference_whole"]].max()
    if len(failed) or len(apart):
        rows = ", ".join(
            f"P = {r.parameters:.0f}, N = {r.atoms:.0f}" for _, r in (failed if len(failed) else apart).iterrows()
        )
        what = "snapcheck's check failed the correct model" if len(failed) else "the two steps' gradients differ"
        verdict = Verdict(False, f"{what} at {rows} (gradient differences up to {differences.max():.1e})")
    else:
        verdict = Verdict(
            True,
            f"snapcheck's check passed the correct model on all {len(table)} rows (largest relative error "
            f"{table.check_max_relative_error.max():.1e}); the paper's step and double backprop give one gradient "
            f"(force loss {differences.iloc[0]:.1e}, whole loss {differences.iloc[1]:.1e} ≤ {SAME_GRADIENT:g})",
        )
    return Summary((*lines, f"wrote {path}"), verdict)


def bench_torch_checks(out_dir: Path, trainers: Sequence[str] | None) -> Summary:
    """Run :func:`.trainer_checks.trainer_checks` on ``trainers`` (None: all); writes ``reports/torch_checks.csv``."""
    require_torch("torch-checks")
    from snapcheck.torch.trainer_checks import trainer_checks

    table = trainer_checks(trainers or TRAINERS)
    path = write_csv(table, out_dir / "reports" / "torch_checks.csv")
    lines, failures = [], []
    for (trainer, dtype), rows in table.groupby(["trainer", "dtype"], sort=False):
        worst = rows.loc[rows.relative_error.idxmax()]
        passed = bool(rows.passed.all())
        lines.append(
            f"{trainer} {dtype}: largest relative error {worst.relative_error:.2e} ({worst.tensor}), "
            f"ε = {worst.epsilon:.1e}, bound {worst.error_bound:.1e}: {'passed' if passed else 'FAILED'}"
        )
        if not passed:
            failures.append(f"{trainer} {dtype}: {rows.problem.iloc[0]}")
    checked = ", ".join(dict.fromkeys(table.trainer))
    verdict = (
        Verdict(False, "a correct trainer fails snapcheck's check: " + "; ".join(failures))
        if failures
        else Verdict(True, f"every correct trainer passes snapcheck's check ({checked})")
    )
    return Summary((*lines, f"wrote {path}"), verdict)


def bench_torch_training(out_dir: Path, steps: int, seed: int) -> Summary:
    """Run :func:`snapcheck.torch.example.compare_training`; ``reports/torch_training.csv`` and its figure."""
    require_torch("torch-training")
    from snapcheck.torch.example import TRAINING_SET, compare_training, training_figure

    table = compare_training(steps, seed)
    path = write_csv(table, out_dir / "reports" / "torch_training.csv")
    figure = save_figure(training_figure(table), out_dir / "figures" / "torch_training.png", dpi=120)
    worst = table.relative_difference.max()
    lines = [
        f"{steps} Adam steps on {sum(count for _, count in TRAINING_SET)} Ta configurations: the force loss falls from "
        f"{table.loss_double.iloc[0]:.4g} to {table.loss_double.iloc[-1]:.4g} eV²/Å² (double backprop)",
        f"seconds per step (median): paper's step {table.seconds_paper.median():.3g}, "
        f"double backprop {table.seconds_double.median():.3g}",
        f"wrote {path} and {figure}",
    ]
    agree = bool(worst <= SAME_CURVE)
    verdict = Verdict(
        agree,
        f"the loss curves of the paper's step and double backprop {'agree' if agree else 'DIFFER'}: largest "
        f"relative difference {worst:.1e} (step {table.relative_difference.idxmax()}) against {SAME_CURVE:g}",
    )
    return Summary(tuple(lines), verdict)


def bench_zoo(out_dir: Path, entries: Sequence[str] | None) -> Summary:
    """Run :func:`snapcheck.torch.zoo.run_zoo` on ``entries`` (None: all); ``reports/zoo.csv``, ``zoo.md``,
    ``zoo_run.json``."""
    require_torch("zoo")
    from snapcheck.torch.zoo import false_positives, run_zoo, summary
    from snapcheck.torch.zoo.runner import chosen_entries
    from snapcheck.torch.zoo.tools import TOOLS

    try:
        chosen_entries(entries)  # before anything runs
    except InputError as error:
        raise InputError(f"--entries: {error}") from None
    table = run_zoo(out_dir, entries=entries)
    fixed = table[(table.variant == "fixed") & (table.tool.map(lambda tool: TOOLS[tool][0]) == "snapcheck")]
    lines = [summary(table), f"wrote {out_dir / 'reports'}/zoo.csv, zoo.md and zoo_run.json"]
    if count := false_positives(table):
        flagged = fixed[fixed.detected.astype(bool)]
        cases = ", ".join(f"{r.entry} {r.dtype} ({TOOLS[r.tool][1]} check)" for _, r in flagged.iterrows())
        verdict = Verdict(False, f"snapcheck flags {count} run(s) of a fixed variant: {cases}")
    else:
        verdict = Verdict(
            True,
            f"snapcheck flags no fixed variant ({len(fixed)} runs of its checks on {fixed.entry.nunique()} "
            f"entr{'y' if fixed.entry.nunique() == 1 else 'ies'}, float64 and float32)",
        )
    return Summary(tuple(lines), verdict)
