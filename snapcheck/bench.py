"""``python -m snapcheck.bench``: benchmarks, timed side by side in one run (never tests).

startup: time fig1 + fig2 as commands against a serial loop of the same LAMMPS
evaluations.  Child processes, wall and CPU time; writes
reports/bench_startup.csv (snapcheck.studies.bench_startup).

descriptors: time the LAMMPS engine.  Set-up, full and fast evaluations;
writes reports/bench_descriptors.csv (snapcheck.studies.bench_descriptors).

figures: time the sweep of Figs. 1 and 2 on --jobs processes against a serial
loop.  Writes reports/bench_figures.csv; exit 1 unless both give the same
numbers bit for bit (snapcheck.studies.bench_sweep).

dask: time the sweep of Figs. 1 and 2 on a local Dask cluster of 1 and of 2
workers.  Writes reports/bench_dask.csv; exit 1 unless both give the same
numbers bit for bit; needs snapcheck[dask] (snapcheck.studies.bench_dask).

cost: time and memory of the force-loss gradient over a force prediction, as
N and P grow.  The paper's gradient, the exact product and double
backpropagation for a network on SNAP descriptors, and the linear model with
its LAMMPS evaluations; writes reports/cost.csv and figures/cost_scaling.png;
exit 1 if a gradient disagrees with the exact one (snapcheck.studies.cost).

torch, torch-checks, torch-training, zoo: the benchmarks of snapcheck.torch;
need snapcheck[torch] (snapcheck.torch.bench_studies).
"""

from __future__ import annotations

from snapcheck.runtime import cli
from snapcheck.runtime.cli import run
from snapcheck.runtime.flag_types import positive_int, positive_ints
from snapcheck.studies import cost
from snapcheck.studies.bench_dask import bench_dask
from snapcheck.studies.bench_descriptors import bench_descriptors
from snapcheck.studies.bench_startup import bench_startup
from snapcheck.studies.bench_sweep import bench_sweep
from snapcheck.studies.cost_report import bench_cost
from snapcheck.torch import bench_studies


def parser():
    parser = cli.command_parser("bench", __doc__)
    commands = parser.add_subparsers(dest="benchmark", required=True)
    add, data, out, seed, jobs = cli.add_subcommand, cli.add_data, cli.add_out_dir, cli.add_seed, cli.add_jobs
    repeats = "--repeats"
    add(commands, "startup", __doc__, data, out, seed, jobs, study=bench_startup).add_argument(
        repeats, type=positive_int, default=1, help="interleaved runs of each (default: %(default)s)"
    )
    add(commands, "descriptors", __doc__, data, out, cli.configs_flag(None), study=bench_descriptors).add_argument(
        repeats, type=positive_int, default=5, help="evaluations per configuration (default: %(default)s)"
    )
    add(commands, "figures", __doc__, data, out, seed, jobs, cli.configs_flag(None), study=bench_sweep)
    add(commands, "dask", __doc__, data, out, seed, cli.configs_flag(48), study=bench_dask)
    torch_doc, trainers = bench_studies.__doc__, cli.names_flag("--trainers", bench_studies.TRAINERS, "trainers")
    add(commands, "torch", torch_doc, out, seed, study=bench_studies.bench_torch)
    add(commands, "torch-checks", torch_doc, out, trainers, study=bench_studies.bench_torch_checks)
    add(commands, "torch-training", torch_doc, out, seed, study=bench_studies.bench_torch_training).add_argument(
        "--steps", type=positive_int, default=30, help="Adam steps of each trainer (default: %(default)s)"
    )
    entries = cli.names_flag("--entries", None, "zoo entries, e.g. descent-70 (docs/zoo.md lists them)")
    add(commands, "zoo", torch_doc, out, entries, study=bench_studies.bench_zoo)
    costs = add(commands, "cost", __doc__, out, seed, study=bench_cost).add_argument
    costs("--cells", type=positive_ints, default=cost.DEFAULT_CELLS, metavar="M,M", help="M³ bcc cells: N = 2M³")
    costs("--widths", type=positive_ints, default=cost.DEFAULT_WIDTHS, metavar="W,W", help="two hidden layers of W")
    costs("--n-width", type=positive_int, default=cost.DEFAULT_N_WIDTH, metavar="W", help="width of the N sweep")
    costs("--p-cells", type=positive_int, default=cost.DEFAULT_P_CELLS, metavar="M", help="cells of the P sweep")
    costs(repeats, type=positive_int, default=cost.CostSpec.repeats, help="timed calls per method and point")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    return cli.report(cli.call_with_flags(args.study, args))


if __name__ == "__main__":
    run(main)
