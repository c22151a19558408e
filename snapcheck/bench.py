"""``python -m snapcheck.bench``: benchmarks, timed side by side in one run (never tests).

``startup``
    ``python -m snapcheck.fig1`` followed by ``python -m snapcheck.fig2`` on the
    dataset, as a user runs them (fresh processes, ``--jobs`` workers), against
    the same LAMMPS evaluations as a plain serial loop in one process
    (:mod:`snapcheck.studies.serial_baseline`).  Each is run as a child process
    and timed by its wall time and its CPU time (user + system of the process
    and every worker it waited for).  Prints both and the ratios, figures over
    loop, and writes ``reports/bench_startup.csv``.  The goal: CPU ≤ 1.0× and
    wall time ≤ 0.5× the loop's on 2 cores.

``descriptors``
    The LAMMPS engine on every configuration: the wall time to set up an
    instance and run the full evaluation (ΣB, A_f, ZBL) for the whole dataset,
    then the median time of one full and of one fast (ΣB and ZBL energy only)
    evaluation on an instance that is already set up, with their ratio.

``figures``
    The sweep behind Figs. 1 and 2 (both models, g₀ = max and fixed, float64,
    the default ε grid) on the whole dataset, run twice: over ``--jobs``
    worker processes, and as a plain serial loop in this process doing the
    same LAMMPS evaluations.  Prints both wall times and their ratio and
    writes them to ``reports/bench_figures.csv``.  The numbers of the two runs
    are also compared: they must agree bit for bit (exit 1 otherwise).

``dask``
    The same sweep on a subset (``--configs``, default 48) on a local Dask
    cluster (``distributed.LocalCluster``: worker processes of one thread on
    127.0.0.1) of 1 and then of 2 workers, through ``--scheduler``'s code path
    (:mod:`snapcheck.runtime.executors`), measured in one run.  Each cluster is started
    and warmed up (every worker imports snapcheck and LAMMPS) before its clock
    starts.  Prints both wall times and their ratio, writes
    ``reports/bench_dask.csv``, and compares the numbers bit for bit (exit 1
    otherwise).  Needs ``snapcheck[dask]``.

``torch``
    :mod:`snapcheck.torch` on PyTorch networks of 10³ to 10⁶ parameters and 2
    to 200 atoms: the paper's first-order training step against double
    backpropagation (time and autograd memory), and snapcheck's check against
    ``torch.autograd.gradgradcheck`` (time); ratios measured side by side in
    one run, written to ``reports/torch_benchmark.csv``
    (:mod:`snapcheck.torch.benchmark`).  Needs ``snapcheck[torch]``.

``cost``
    The cost of the force-loss gradient over a force prediction, in time and
    peak memory, for a neural network on SNAP descriptors as the number of
    atoms N and of parameters P grow: the paper's gradient, the exact
    forward-over-reverse product and double backpropagation in PyTorch, and
    the paper's gradient for the linear SNAP model with its LAMMPS
    evaluations (:mod:`snapcheck.studies.cost` says what each time
    includes).  Writes ``reports/cost.csv`` and ``figures/cost_scaling.png``.
    Every gradient is checked against the exact product (exit 1 if one
    disagrees); the paper's targets are reported, not checked.  The systems
    are generated and the timings run on one thread, so ``--data`` and
    ``--jobs`` are not used.
"""

from __future__ import annotations

import argparse
import importlib
import os
import resource
import subprocess
import sys
import tempfile
import time

import numpy as np
import pandas as pd

from snapcheck.base.errors import EXIT_CHECK_FAILED, EXIT_OK, MissingDependency
from snapcheck.base.files import write_csv
from snapcheck.base.progress import progress_bar
from snapcheck.data.datasets import load_configurations
from snapcheck.descriptors.engine import SnapEngine
from snapcheck.models.registry import ModelRequest, load_model
from snapcheck.runtime.cli import Parser, add_configs_argument, common_parser, positive_int, run
from snapcheck.runtime.executors import require_distributed
from snapcheck.studies import cost
from snapcheck.studies.sweep import SweepSpec, run_sweep


def paper_models(seed: int) -> tuple:
    """The paper's two models, trained and untrained (from ``seed``)."""
    request = ModelRequest(seed=seed)
    return load_model("trained", request).model, load_model("untrained", request).model


def timed_child(command: list[str]) -> tuple[float, float]:
    """(wall s, CPU s) of a child process and every process it waited for."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def bench_startup(args: argparse.Namespace) -> int:
    data = ["--data", str(args.data)] if args.data else []
    python = sys.executable
    loop = [python, "-c", f"from snapcheck.studies.serial_baseline import run; run({args.data!r}, {args.seed})"]
    rows = []
    with tempfile.TemporaryDirectory(prefix="snapcheck-bench-") as scratch:
        for repeat in range(args.repeats):
            wall, cpu = timed_child(loop)
            rows.append({"repeat": repeat, "run": "serial loop (1 process)", "wall_time_s": wall, "cpu_time_s": cpu})
            walls, cpus = [], []
            for figure in ("fig1", "fig2"):
                out_dir = os.path.join(scratch, f"{figure}-{repeat}")
                command = [
                    python,
                    "-m",
                    f"snapcheck.{figure}",
                    *data,
                    "--seed",
                    str(args.seed),
                    "--jobs",
                    str(args.jobs),
                    "--out-dir",
                    out_dir,
                ]
                wall, cpu = timed_child(command)
                walls.append(wall)
                cpus.append(cpu)
            rows.append(
                {
                    "repeat": repeat,
                    "run": f"fig1 + fig2 (--jobs {args.jobs})",
                    "wall_time_s": sum(walls),
                    "cpu_time_s": sum(cpus),
                }
            )
    table = pd.DataFrame(rows)
    medians = table.groupby("run", sort=False)[["wall_time_s", "cpu_time_s"]].median()
    loop_row, figures_row = medians.iloc[0], medians.iloc[1]
    ratios = figures_row / loop_row
    table = pd.concat(
        [
            table,
            pd.DataFrame(
                [
                    {
                        "repeat": "median ratio, figures / loop",
                        "run": "",
                        "wall_time_s": ratios["wall_time_s"],
                        "cpu_time_s": ratios["cpu_time_s"],
                    }
                ]
            ),
        ],
        ignore_index=True,
    )
    write_csv(table, args.out_dir / "reports" / "bench_startup.csv")
    print(
        f"Figs. 1 and 2 as commands against a serial loop over the same LAMMPS evaluations ({args.repeats} runs each, medians):"
    )
    for name, row in medians.iterrows():
        print(f"  {name:<28} wall {row['wall_time_s']:7.1f} s   CPU {row['cpu_time_s']:7.1f} s")
    print(
        f"  figures / loop               wall {ratios['wall_time_s']:7.2f}×   CPU {ratios['cpu_time_s']:7.2f}×   (goal: wall ≤ 0.5×, CPU ≤ 1.0×)"
    )
    met = ratios["wall_time_s"] <= 0.5 and ratios["cpu_time_s"] <= 1.0
    print("goal met" if met else "goal NOT met")
    return EXIT_OK


def bench_torch(args: argparse.Namespace) -> int:
    try:
        from snapcheck.torch.benchmark import bench_torch as run_torch_benchmark
    except ImportError as missing:
        raise MissingDependency(f"bench torch needs PyTorch ({missing}); pip install -e '.[torch]'") from None
    return run_torch_benchmark(args)


def bench_descriptors(args: argparse.Namespace) -> int:
    configurations = load_configurations(args.data, count=args.configs)
    trained = paper_models(args.seed)[0]
    parameters, reference = trained.parameters, trained.reference
    full_times, fast_times = [], []
    start = time.perf_counter()
    for configuration in progress_bar(configurations, desc="descriptors", unit="config"):
        with SnapEngine(configuration, parameters, reference) as engine:
            engine.evaluate()
    setup_and_full = time.perf_counter() - start
    for configuration in progress_bar(configurations, desc="per-evaluation timing", unit="config"):
        with SnapEngine(configuration, parameters, reference) as engine:
            engine.evaluate()
            for _ in range(args.repeats):
                tick = time.perf_counter()
                engine.evaluate()
                full_times.append(time.perf_counter() - tick)
                tick = time.perf_counter()
                engine.evaluate_values(configuration.positions)
                fast_times.append(time.perf_counter() - tick)
    full_median, fast_median = float(np.median(full_times)) * 1e3, float(np.median(fast_times)) * 1e3
    table = pd.DataFrame(
        [
            {"measure": "set-up and full evaluation, whole dataset", "value": setup_and_full, "unit": "s"},
            {"measure": "one full evaluation, median", "value": full_median, "unit": "ms"},
            {"measure": "one fast evaluation, median", "value": fast_median, "unit": "ms"},
        ]
    )
    write_csv(table, args.out_dir / "reports" / "bench_descriptors.csv")
    print(
        f"descriptors: {len(configurations)} configurations, {sum(c.n_atoms for c in configurations)} atoms, {args.repeats} repeats each"
    )
    print(f"  set-up and full evaluation, whole dataset  {setup_and_full:8.2f} s")
    print(f"  one full evaluation (median)               {full_median:8.3f} ms")
    print(f"  one fast evaluation (median)               {fast_median:8.3f} ms")
    print(f"  full / fast                                {full_median / fast_median:8.2f}×")
    return EXIT_OK


def lammps_evaluations(configurations: list, spec: SweepSpec) -> int:
    """One full evaluation per configuration, and two fast ones per model, g₀ and ε."""
    return len(configurations) * (1 + len(spec.models) * len(spec.g0_rules) * len(spec.epsilons) * 2)


def identical_sweeps(first: list, second: list) -> bool:
    return all(
        np.array_equal(a.gradient_estimates, b.gradient_estimates)
        and np.array_equal(a.loss_estimates, b.loss_estimates)
        for a, b in zip(first, second, strict=True)
    )


def bench_figures(args: argparse.Namespace) -> int:
    configurations = load_configurations(args.data, count=args.configs)
    spec = SweepSpec(models=paper_models(args.seed), g0_rules=("max", 1.0))
    n_evaluations = lammps_evaluations(configurations, spec)
    timings, results = {}, {}
    for label, jobs in ((f"parallel ({args.jobs} processes)", args.jobs), ("serial loop (1 process)", 1)):
        start = time.perf_counter()
        results[label] = run_sweep(configurations, spec, jobs=jobs)
        timings[label] = time.perf_counter() - start
    (parallel, parallel_time), (serial, serial_time) = ((results[k], timings[k]) for k in timings)
    identical = identical_sweeps(parallel, serial)
    table = pd.DataFrame(
        {
            "run": list(timings),
            "jobs": [args.jobs, 1],
            "configurations": len(configurations),
            "lammps_evaluations": n_evaluations,
            "wall_time_s": list(timings.values()),
            "ms_per_evaluation_per_process": [
                t / n_evaluations * 1e3 * j for t, j in zip(timings.values(), (args.jobs, 1))
            ],
        }
    )
    write_csv(table, args.out_dir / "reports" / "bench_figures.csv")
    print(f"Figs. 1 and 2: {len(configurations)} configurations, {n_evaluations} LAMMPS evaluations")
    for label, seconds in timings.items():
        print(f"  {label:<26} {seconds:7.1f} s")
    print(f"  serial / parallel          {serial_time / parallel_time:7.2f}×")
    print(f"  results identical bit for bit: {'yes' if identical else 'NO'}")
    return EXIT_OK if identical else EXIT_CHECK_FAILED


def bench_dask(args: argparse.Namespace) -> int:
    distributed = require_distributed("bench dask")
    configurations = load_configurations(args.data, count=args.configs)
    spec = SweepSpec(models=paper_models(args.seed), g0_rules=("max", 1.0))
    n_evaluations = lammps_evaluations(configurations, spec)
    timings, results = {}, {}
    for workers in (1, 2):
        with distributed.LocalCluster(
            n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
        ) as cluster:
            with distributed.Client(cluster) as client:
                client.run(importlib.import_module, "snapcheck.studies.sweep")  # warm-up: imports, LAMMPS
            start = time.perf_counter()
            results[workers] = run_sweep(configurations, spec, scheduler=cluster.scheduler_address)
            timings[workers] = time.perf_counter() - start
    identical = identical_sweeps(results[1], results[2])
    table = pd.DataFrame(
        {
            "run": [f"Dask, {workers} worker{'s' * (workers > 1)}" for workers in timings],
            "workers": list(timings),
            "configurations": len(configurations),
            "lammps_evaluations": n_evaluations,
            "wall_time_s": list(timings.values()),
        }
    )
    write_csv(table, args.out_dir / "reports" / "bench_dask.csv")
    print(
        f"Figs. 1 and 2 on a local Dask cluster: {len(configurations)} configurations, {n_evaluations} LAMMPS evaluations"
    )
    for row in table.itertuples():
        print(f"  {row.run:<26} {row.wall_time_s:7.1f} s")
    print(f"  1 worker / 2 workers       {timings[1] / timings[2]:7.2f}×")
    print(f"  results identical bit for bit: {'yes' if identical else 'NO'}")
    return EXIT_OK if identical else EXIT_CHECK_FAILED


def positive_ints(text: str) -> tuple[int, ...]:
    """``2,3,4`` → (2, 3, 4), every value a positive integer."""
    try:
        return tuple(positive_int(value) for value in text.split(","))
    except (ValueError, argparse.ArgumentTypeError):
        raise argparse.ArgumentTypeError(f"expected comma-separated positive integers, got {text!r}") from None


def bench_cost(args: argparse.Namespace) -> int:
    with_torch = cost.torch_available()
    if not with_torch:
        print(
            "PyTorch is not installed: double backpropagation is not measured (pip install -e '.[torch]', the CPU wheel torch==2.13.0)"
        )
    spec = cost.CostSpec(
        cells=args.cells,
        widths=args.widths,
        n_width=args.n_width,
        p_cells=args.p_cells,
        repeats=args.repeats,
        seed=args.seed,
    )
    table = cost.run_cost_study(spec, with_torch)
    write_csv(table, args.out_dir / "reports" / "cost.csv")
    cost.write_cost_figure(table, spec, args.out_dir / "figures" / "cost_scaling.png")
    neural, linear = table[table["model"] == cost.NEURAL], table[table["model"] == cost.LINEAR]
    print(
        "cost over a force prediction, LAMMPS descriptor evaluations included "
        f"(the headline; median of {args.repeats}, 1 thread):"
    )
    print(
        neural.pivot_table(index=["n_atoms", "n_parameters"], columns="method", values="full_time_ratio")
        .round(2)
        .to_string()
    )
    print("network arithmetic only (descriptors precomputed):")
    print(
        neural.pivot_table(index=["n_atoms", "n_parameters"], columns="method", values="time_ratio")
        .round(2)
        .to_string()
    )
    print("peak memory over a force prediction:")
    print(
        neural.pivot_table(index=["n_atoms", "n_parameters"], columns="method", values="memory_ratio")
        .round(2)
        .to_string()
    )
    if with_torch:
        largest = neural[
            (neural["n_atoms"] == neural["n_atoms"].max()) & (neural["widths"] == f"{args.n_width}x{args.n_width}")
        ].set_index("method")
        memory = largest.loc[cost.PAPER, "peak_memory_mb"] / largest.loc[cost.DOUBLE_BACKPROP, "peak_memory_mb"]
        print(
            f"paper gradient / double backprop at N = {largest['n_atoms'].iloc[0]}: time {largest.loc[cost.PAPER, 'time_s'] / largest.loc[cost.DOUBLE_BACKPROP, 'time_s']:.2f}x, peak memory {memory:.2f}x"
        )
        in_torch = (
            largest.loc[cost.DOUBLE_BACKPROP, ["time_s", "peak_memory_mb"]]
            / largest.loc[cost.TORCH_FORCES, ["time_s", "peak_memory_mb"]]
        )
        print(
            f"double backprop / torch force prediction there: time {in_torch['time_s']:.2f}x, peak memory {in_torch['peak_memory_mb']:.2f}x"
        )
    print(
        "linear SNAP, LAMMPS evaluations timed, (full + 2 fast) / full:",
        ", ".join(
            f"N = {n}: {r:.2f}x"
            for n, r in linear[linear["method"] == cost.PAPER][["n_atoms", "time_ratio"]].itertuples(index=False)
        ),
    )
    worst = table.groupby("method")["relative_error_vs_exact"].max()
    print(
        "largest relative error against the exact gradient:",
        ", ".join(f"{method} {error:.1e}" for method, error in worst.dropna().items()),
    )
    agrees = worst.get(cost.PAPER, 0.0) <= 1e-5 and worst.get(cost.DOUBLE_BACKPROP, 0.0) <= 1e-8
    return EXIT_OK if agrees else EXIT_CHECK_FAILED


def main(argv: list[str] | None = None) -> int:
    parser = Parser(
        prog="python -m snapcheck.bench", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="benchmark", required=True)
    torch_benchmark = common_parser(
        "python -m snapcheck.bench torch",
        "snapcheck.torch: first-order step vs double backprop; check vs gradgradcheck.",
    )
    commands.add_parser("torch", parents=[torch_benchmark], add_help=False, help="snapcheck.torch against autograd")
    startup = common_parser(
        "python -m snapcheck.bench startup",
        "Time fig1 + fig2 as commands against a serial loop of the same LAMMPS evaluations.",
    )
    startup.add_argument(
        "--repeats", type=positive_int, default=1, help="runs of each, interleaved; medians compared (default: 1)"
    )
    commands.add_parser("startup", parents=[startup], add_help=False, help="fig1 + fig2 against a serial loop")
    descriptors = common_parser(
        "python -m snapcheck.bench descriptors", "Time the LAMMPS engine: set-up, full and fast evaluations."
    )
    add_configs_argument(descriptors, None)
    descriptors.add_argument(
        "--repeats", type=positive_int, default=5, help="timed evaluations per configuration (default: 5)"
    )
    commands.add_parser("descriptors", parents=[descriptors], add_help=False, help="time the descriptor engine")
    figures = common_parser(
        "python -m snapcheck.bench figures", "Time the Fig. 1 and 2 sweep: parallel against a serial loop."
    )
    add_configs_argument(figures, None)
    commands.add_parser("figures", parents=[figures], add_help=False, help="time the sweep of Figs. 1 and 2")
    dask = common_parser(
        "python -m snapcheck.bench dask",
        "Time the Fig. 1 and 2 sweep on a subset with 1 and with 2 local Dask workers.",
    )
    add_configs_argument(dask, 48)
    commands.add_parser("dask", parents=[dask], add_help=False, help="time the sweep on 1 and 2 local Dask workers")
    costs = common_parser(
        "python -m snapcheck.bench cost",
        "The force-loss gradient's cost over a force prediction, in time and memory, against N and P.",
    )
    costs.add_argument(
        "--cells",
        type=positive_ints,
        default=cost.DEFAULT_CELLS,
        metavar="M,M,...",
        help=f"bcc supercells of M×M×M cubic cells, N = 2M³ (default: {','.join(map(str, cost.DEFAULT_CELLS))})",
    )
    costs.add_argument(
        "--widths",
        type=positive_ints,
        default=cost.DEFAULT_WIDTHS,
        metavar="W,W,...",
        help=f"two hidden layers of width W, P = W² + 33W + 1 (default: {','.join(map(str, cost.DEFAULT_WIDTHS))})",
    )
    costs.add_argument(
        "--n-width",
        type=positive_int,
        default=cost.DEFAULT_N_WIDTH,
        metavar="W",
        help=f"the width of the sweep over N (default: {cost.DEFAULT_N_WIDTH})",
    )
    costs.add_argument(
        "--p-cells",
        type=positive_int,
        default=cost.DEFAULT_P_CELLS,
        metavar="M",
        help=f"the supercell of the sweep over P (default: {cost.DEFAULT_P_CELLS})",
    )
    costs.add_argument(
        "--repeats",
        type=positive_int,
        default=cost.CostSpec.repeats,
        help=f"timed calls per method and point, after one warm-up (default: {cost.CostSpec.repeats})",
    )
    commands.add_parser(
        "cost", parents=[costs], add_help=False, help="time and memory of the force-loss gradient against N and P"
    )
    args = parser.parse_args(argv)
    return {
        "startup": bench_startup,
        "torch": bench_torch,
        "descriptors": bench_descriptors,
        "figures": bench_figures,
        "dask": bench_dask,
        "cost": bench_cost,
    }[args.benchmark](args)


if __name__ == "__main__":
    run(main)
