"""``python -m snapcheck.table1``: the paper's Table I on Ta, networks trained to energies, and to energies and forces.

As the paper's Sec. IV: ensembles of networks (snapcheck's numpy network on
per-atom SNAP descriptors) trained to energies only, and to energies and
forces with the force term of Eq. 1 by the paper's gradient (Eq. 7, Bᵢ(r±) from
LAMMPS at every step); held-out RMSEs on a split stratified by group
(snapcheck.studies.table1).  Writes reports/table1.csv, table1.md (the paper's
layout beside its ANI-Al column), table1_members.csv, table1_groups.csv,
table1_split.csv, table1_data.csv and figures/table1_parity.png.  One network
per task on --jobs processes or --scheduler; an interrupted run started again
with the same flags resumes from OUT_DIR/checkpoints/table1/.
"""

from __future__ import annotations

from snapcheck.runtime import cli
from snapcheck.runtime.cli import run
from snapcheck.runtime.flag_types import fraction, positive_float, positive_int, positive_ints
from snapcheck.studies import table1 as study


def parser():
    parser = cli.command_parser("table1", __doc__, cli.add_data, cli.add_out_dir, cli.add_seed, cli.add_execution)
    full, quick, energy = study.FULL, study.QUICK, study.ENERGY_EPOCHS
    add, number, whole = parser.add_argument, positive_float, positive_int
    add("--quick", action="store_true", help=f"CI: {study.QUICK_CONFIGURATIONS} configurations, small networks")
    add("--members", type=whole, default=4, help="networks per setting (default: %(default)s)")
    add("--epochs", type=whole, help=f"energy+force epochs (default: {full.epochs}, quick {quick.epochs})")
    add("--energy-epochs", type=whole, help=f"energy-only epochs (default: {energy['full']}, quick {energy['quick']})")
    add("--widths", type=positive_ints, metavar="W1,W2", help=f"(default: {full.widths}, quick {quick.widths})")
    add("--activation", choices=("tanh", "softplus", "silu"), default=full.activation, help="(default: %(default)s)")
    add("--energy-weight", type=number, default=full.energy_weight, help="c₁ of Eq. 1, 1/eV² (default: %(default)g)")
    add("--force-weight", type=number, default=full.force_weight, help="c₂ of Eq. 1, Å²/eV² (default: %(default)g)")
    add("--epsilon", type=number, default=full.epsilon, help="ε of Eq. 9 (default: %(default)g)")
    add("--test-fraction", type=fraction, default=0.2, help="held-out part of each group (default: %(default)s)")
    add("--restart", action="store_true", help="delete the checkpoints of an earlier run first")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    settings = study.table1_specs(
        quick=args.quick,
        epochs=args.epochs,
        energy_epochs=args.energy_epochs,
        widths=args.widths,
        activation=args.activation,
        energy_weight=args.energy_weight,
        force_weight=args.force_weight,
        epsilon=args.epsilon,
    )
    return cli.report(
        study.run_table1(
            settings,
            data=args.data,
            quick=args.quick,
            members=args.members,
            test_fraction=args.test_fraction,
            seed=args.seed,
            restart=args.restart,
            out_dir=args.out_dir,
            execution=cli.execution_options(args, "table1"),
        )
    )


if __name__ == "__main__":
    run(main)
