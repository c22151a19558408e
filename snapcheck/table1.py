"""``python -m snapcheck.table1``: the paper's Table I on Ta, a neural SNAP network trained to energies, and to energies and forces.

The paper (Sec. IV, Table I) trains ensembles of ANI networks to energies
only, and to energies and forces with its force-loss gradient (Eq. 7), and
reports held-out RMSEs: for bulk aluminium, force training cuts the force error
almost ninefold.  This command does the same with snapcheck's numpy network on
per-atom SNAP descriptors (:mod:`snapcheck.models.neural_snap`) and the Ta
dataset: a train/test split stratified by group (``--test-fraction``, seed
``--seed``), ``--members`` networks per setting from seeds (``--seed``, k),
Adam on mini-batches, the force term of Eq. 1 by the paper's method with Bᵢ(r±)
from LAMMPS (:mod:`snapcheck.studies.training`).

Settings: ``energy`` (c₂ = 0) and ``energy+force`` (c₁ = ``--energy-weight``,
c₂ = ``--force-weight``); both start every member from the same θ.

Outputs under ``--out-dir``:

* ``reports/table1.csv``: per setting and quantity, the mean and the sample
  standard deviation over the members, and the RMSE of the ensemble-averaged
  prediction;
* ``reports/table1.md``: the same in the paper's layout beside its ANI-Al
  column, with the split, the hyperparameters, the wall time and the error of
  the paper's gradient against the exact R-op gradient;
* ``reports/table1_members.csv`` (every network), ``reports/table1_groups.csv``
  (RMSEs per group of the test set), ``reports/table1_split.csv``;
* ``figures/table1_parity.png``: predicted against DFT force components on the
  test set, ensemble-averaged, for both settings.

``--seed`` seeds the split and the networks.  Training runs on ``--jobs``
local processes or the Dask cluster of ``--scheduler``, one network per task
(:mod:`snapcheck.runtime.executors`).  Checkpoints go to
``<out-dir>/checkpoints/table1/``; an interrupted run started
again with the same flags resumes there (``--restart`` ignores them).
``--quick`` is a small setting for CI (a 60-configuration subset, small
networks, few epochs: about a minute on 2 cores).
"""

from __future__ import annotations

import argparse
import shutil
import time
from dataclasses import replace

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from snapcheck.base.errors import EXIT_OK  # noqa: E402
from snapcheck.base.files import atomic_path, save_figure, write_csv  # noqa: E402
from snapcheck.data.datasets import load_configurations  # noqa: E402
from snapcheck.data.selection import stratified_subset  # noqa: E402
from snapcheck.models.linear_snap import LinearSnap  # noqa: E402
from snapcheck.runtime.cli import common_parser, execution_options, positive_float, positive_int, run  # noqa: E402
from snapcheck.studies.training import (  # noqa: E402
    EnsembleData,
    MemberResult,
    MemberTask,
    Predictions,
    TrainingSpec,
    split_by_group,
    train_ensemble,
)

ENERGY, FORCE = "energy", "energy+force"
SETTING_TITLES = {ENERGY: "Training on energy data only", FORCE: "Training on energy and force data"}
#: The paper's Table I, ANI-Al (bulk aluminium): mean ± std over eight networks.
PAPER_ANI_AL = {
    (ENERGY, "energy"): "4.38 ± 0.45",
    (ENERGY, "force"): "0.39 ± 0.05",
    (FORCE, "energy"): "1.88 ± 0.2",
    (FORCE, "force"): "0.045 ± 0.001",
}
QUANTITIES = {"energy": ("Energy RMSE", "meV/atom"), "force": ("Force RMSE", "eV/Å")}

#: The energy+force setting; the energy-only networks train for ENERGY_EPOCHS epochs of the same spec with c₂ = 0.
FULL = TrainingSpec(
    widths=(32, 32),
    activation="silu",
    epochs=200,
    batch_size=16,
    learning_rate=1e-2,
    final_learning_rate=1e-4,
    energy_weight=1.0,
    force_weight=3.0,
)
QUICK = replace(FULL, widths=(16, 16), epochs=40, batch_size=8)
#: Energy-only epochs cost no LAMMPS evaluation, so that setting trains to convergence (its force RMSE has levelled off).
ENERGY_EPOCHS = {"full": 1500, "quick": 200}
QUICK_CONFIGURATIONS = 60


def parser() -> argparse.ArgumentParser:
    parser = common_parser("python -m snapcheck.table1", __doc__)
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"CI setting: {QUICK_CONFIGURATIONS} configurations, widths {QUICK.widths}, {QUICK.epochs} epochs",
    )
    parser.add_argument("--members", type=positive_int, default=4, help="networks per setting (default: 4)")
    parser.add_argument(
        "--epochs",
        type=positive_int,
        default=None,
        help=f"epochs of the energy+force setting (default: {FULL.epochs}, quick {QUICK.epochs})",
    )
    parser.add_argument(
        "--energy-epochs",
        type=positive_int,
        default=None,
        help=f"epochs of the energy-only setting (default: {ENERGY_EPOCHS['full']}, quick {ENERGY_EPOCHS['quick']})",
    )
    parser.add_argument(
        "--widths",
        type=lambda text: tuple(positive_int(w) for w in text.split(",")),
        default=None,
        metavar="W1,W2,…",
        help=f"hidden widths (default: {','.join(map(str, FULL.widths))})",
    )
    parser.add_argument(
        "--activation",
        choices=("tanh", "softplus", "silu"),
        default=FULL.activation,
        help=f"activation (default: {FULL.activation})",
    )
    parser.add_argument(
        "--energy-weight",
        type=positive_float,
        default=FULL.energy_weight,
        metavar="C1",
        help=f"c₁ of Eq. 1 in 1/eV² (default: {FULL.energy_weight})",
    )
    parser.add_argument(
        "--force-weight",
        type=positive_float,
        default=FULL.force_weight,
        metavar="C2",
        help=f"c₂ of Eq. 1 in Å²/eV², energy+force setting (default: {FULL.force_weight})",
    )
    parser.add_argument(
        "--epsilon", type=positive_float, default=FULL.epsilon, help=f"ε of Eq. 9 (default: {FULL.epsilon})"
    )
    parser.add_argument(
        "--test-fraction", type=positive_float, default=0.2, help="held-out fraction of every group (default: 0.2)"
    )
    parser.add_argument("--restart", action="store_true", help="ignore and replace existing checkpoints")
    return parser


def specs(args: argparse.Namespace) -> dict[str, TrainingSpec]:
    base = QUICK if args.quick else FULL
    spec = replace(
        base,
        widths=args.widths or base.widths,
        epochs=args.epochs or base.epochs,
        activation=args.activation,
        energy_weight=args.energy_weight,
        force_weight=args.force_weight,
        epsilon=args.epsilon,
    )
    energy_epochs = args.energy_epochs or ENERGY_EPOCHS["quick" if args.quick else "full"]
    return {ENERGY: replace(spec, force_weight=0.0, epochs=energy_epochs), FORCE: spec}


# -- tables -----------------------------------------------------------------
def ensemble_predictions(results: list[MemberResult]) -> Predictions:
    """The members' predictions averaged (energies and forces)."""
    first = results[0].predictions
    return Predictions(
        energy_errors=np.mean([r.predictions.energy_errors for r in results], axis=0),
        forces=np.mean([r.predictions.forces for r in results], axis=0),
        reference_forces=first.reference_forces,
    )


def by_setting(results: list[MemberResult]) -> dict[str, list[MemberResult]]:
    grouped: dict[str, list[MemberResult]] = {}
    for result in results:
        grouped.setdefault(result.setting, []).append(result)
    return grouped


def member_table(results: list[MemberResult]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "setting": r.setting,
                "member": r.member,
                "energy_rmse_meV_per_atom": r.predictions.energy_rmse,
                "force_rmse_eV_per_A": r.predictions.force_rmse,
                "final_loss": r.history[-1],
                "gradient_error": r.gradient_error,
                "epsilon": r.spec.epsilon,
                "epochs": r.spec.epochs,
                "epochs_this_run": r.epochs_run,
                "train_seconds": r.seconds,
            }
            for r in results
        ]
    )


def summary_table(results: list[MemberResult]) -> pd.DataFrame:
    """Table I: mean and sample standard deviation over members, and the ensemble-averaged prediction's RMSE."""
    rows = []
    for setting, members in by_setting(results).items():
        ensemble = ensemble_predictions(members)
        for quantity, (name, unit) in QUANTITIES.items():
            values = np.array([getattr(m.predictions, f"{quantity}_rmse") for m in members])
            rows.append(
                {
                    "setting": setting,
                    "quantity": name,
                    "unit": unit,
                    "mean": values.mean(),
                    "std": values.std(ddof=1) if len(values) > 1 else float("nan"),
                    "members": len(values),
                    "ensemble_average_rmse": getattr(ensemble, f"{quantity}_rmse"),
                }
            )
    return pd.DataFrame(rows)


def group_table(results: list[MemberResult], test_groups: list[str], test_atoms: list[int]) -> pd.DataFrame:
    """RMSEs per group of the test set, averaged over members."""
    groups, atoms = np.array(test_groups), np.repeat(test_groups, test_atoms)
    rows = []
    for setting, members in by_setting(results).items():
        for group in dict.fromkeys(test_groups):
            energy = [np.sqrt(np.mean(m.predictions.energy_errors[groups == group] ** 2)) * 1e3 for m in members]
            force = [
                np.sqrt(np.mean((m.predictions.forces - m.predictions.reference_forces)[atoms == group] ** 2))
                for m in members
            ]
            rows.append(
                {
                    "setting": setting,
                    "group": group,
                    "configurations": int(np.sum(groups == group)),
                    "energy_rmse_meV_per_atom": np.mean(energy),
                    "force_rmse_eV_per_A": np.mean(force),
                }
            )
    return pd.DataFrame(rows)


def markdown(
    summary: pd.DataFrame,
    groups: pd.DataFrame,
    split: pd.DataFrame,
    results: list[MemberResult],
    n_parameters: int,
    seconds: float,
    args: argparse.Namespace,
    forces: pd.DataFrame,
) -> str:
    energy_spec = next(r.spec for r in results if r.setting == ENERGY)
    spec = next(r.spec for r in results if r.setting == FORCE)
    lines = [
        "# Table I on Ta: a neural SNAP network trained to energies, and to energies and forces",
        "",
        "| | Ta, this run (test set) | paper, ANI-Al |",
        "| --- | --- | --- |",
    ]
    for setting, title in SETTING_TITLES.items():
        lines.append(f"| **{title}** | | |")
        for quantity, (name, unit) in QUANTITIES.items():
            row = summary[(summary["setting"] == setting) & (summary["quantity"] == name)].iloc[0]
            lines.append(
                f"| {name} | {row['mean']:.3g} ± {row['std']:.2g} {unit} | {PAPER_ANI_AL[setting, quantity]} {unit} |"
            )
    means = summary.set_index(["setting", "quantity"])["mean"]
    gradient_errors = np.array([r.gradient_error for r in results])
    trained = [r for r in results if r.epochs_run]
    lines += [
        "",
        f"Mean ± sample standard deviation over {len(results) // 2} networks per setting. Force training divides the force RMSE by "
        f"{means[ENERGY, 'Force RMSE'] / means[FORCE, 'Force RMSE']:.1f}; it multiplies the energy RMSE by {means[FORCE, 'Energy RMSE'] / means[ENERGY, 'Energy RMSE']:.2g}.",
        "",
        f"* Data: {int(split['train'].sum())} training and {int(split['test'].sum())} test configurations "
        f"({int(split['train_atoms'].sum())} and {int(split['test_atoms'].sum())} atoms), split within every group with seed {args.seed} "
        f"(test fraction {args.test_fraction}){'; --quick subset' if args.quick else ''}. Energy RMSE is √⟨((Ê − E)/N)²⟩ over test configurations, "
        "force RMSE the root mean square over every test force component.",
        f"* Network: Eᵢ = MLP((Bᵢ − μ)/σ), K = 30 Ta06A descriptors, hidden widths {spec.widths}, {spec.activation}, {n_parameters} parameters, float64; Ê = Σ Eᵢ + E_ZBL.",
        f"* Training: Adam, {spec.batch_size} configurations per step, learning rate {spec.learning_rate:g} → {spec.final_learning_rate:g} (exponential decay); "
        f"Eq. 1 with c₁ = {spec.energy_weight:g} eV⁻² and c₂ = 0 for {energy_spec.epochs} epochs (energy only: no LAMMPS work per step, trained until its force RMSE levels off) "
        f"or c₂ = {spec.force_weight:g} Å²/eV² for {spec.epochs} epochs (energy and force); "
        f"force term by Eq. 7 with ε = {spec.epsilon:g}, Bᵢ(r±) from LAMMPS at every step.",
        f"* The paper's gradient against the exact R-op gradient at ε = {spec.epsilon:g}, trained networks, test set: "
        f"Err[∇̃L] (Eq. 11) from {gradient_errors.min():.2g} to {gradient_errors.max():.2g}.",
        f"* Wall time: this invocation {seconds:.0f} s on {args.jobs} process(es), training {len(trained)} of {len(results)} networks "
        f"({sum(r.epochs_run for r in trained)} epochs; the rest resumed complete from checkpoints); training time per network over all invocations: "
        + ", ".join(
            f"{setting} {np.mean([r.seconds for r in results if r.setting == setting]):.0f} s"
            for setting in SETTING_TITLES
        )
        + ".",
        "",
        "Per group of the test set (mean over the networks; the Volume groups are crystals compressed or expanded far beyond the others, "
        "where a network extrapolates; the Elastic and Volume crystals have zero forces by symmetry, up to DFT noise of at most "
        f"{symmetric_noise(forces):.2g} meV/Å, reports/table1_data.csv):",
        "",
        "| group | test configurations | energy only: meV/atom | eV/Å | energy and force: meV/atom | eV/Å |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    wide = groups.pivot(index="group", columns="setting", values=["energy_rmse_meV_per_atom", "force_rmse_eV_per_A"])
    counts = groups.drop_duplicates("group").set_index("group")["configurations"]
    for group in counts.index:
        lines.append(
            f"| {group} | {counts[group]} | {wide.loc[group, ('energy_rmse_meV_per_atom', ENERGY)]:.3g} | {wide.loc[group, ('force_rmse_eV_per_A', ENERGY)]:.3g} "
            f"| {wide.loc[group, ('energy_rmse_meV_per_atom', FORCE)]:.3g} | {wide.loc[group, ('force_rmse_eV_per_A', FORCE)]:.3g} |"
        )
    lines += [
        "",
        "Every network: `reports/table1_members.csv`; per group: `reports/table1_groups.csv`; the split: `reports/table1_split.csv`.",
    ]
    return "\n".join(lines) + "\n"


def parity_figure(results: list[MemberResult]):
    """Predicted against DFT force components on the test set, ensemble-averaged, one panel per setting."""
    grouped = by_setting(results)
    figure, axes = plt.subplots(1, len(grouped), figsize=(4.2 * len(grouped), 4.2), sharex=True, sharey=True)
    limit = max(np.abs(ensemble_predictions(m).forces).max() for m in grouped.values())
    limit = max(limit, max(np.abs(m[0].predictions.reference_forces).max() for m in grouped.values())) * 1.05
    for axis, (setting, members) in zip(np.atleast_1d(axes), grouped.items()):
        ensemble = ensemble_predictions(members)
        axis.plot([-limit, limit], [-limit, limit], color="0.6", linewidth=0.8)
        axis.plot(
            ensemble.reference_forces.ravel(),
            ensemble.forces.ravel(),
            ".",
            markersize=2,
            alpha=0.4,
            color="tab:blue" if setting == ENERGY else "tab:red",
        )
        axis.set_title(
            f"{SETTING_TITLES[setting]}\nRMSE {ensemble.force_rmse:.3g} eV/Å (ensemble of {len(members)})", fontsize=9
        )
        axis.set_xlabel("DFT force component (eV/Å)")
        axis.set_xlim(-limit, limit)
        axis.set_ylim(-limit, limit)
        axis.set_aspect("equal")
        axis.grid(True, alpha=0.3)
    np.atleast_1d(axes)[0].set_ylabel("predicted force component (eV/Å)")
    figure.tight_layout()
    return figure


# -- the data ---------------------------------------------------------------
#: meV/Å: a DFT force below this is taken as zero in :func:`dft_force_summary`.
FORCE_THRESHOLD_MEV = 2.0


def dft_force_summary(configurations) -> pd.DataFrame:
    """Per group and for ``all``: configurations, the largest DFT force |fᵢ| (meV/Å), and how many have one above 2 meV/Å."""
    largest = pd.DataFrame(
        {
            "group": [c.group for c in configurations],
            "max_force_meV_per_A": [1e3 * float(np.sqrt(np.max(np.sum(c.forces**2, axis=1)))) for c in configurations],
        }
    )
    largest["above_threshold"] = largest["max_force_meV_per_A"] > FORCE_THRESHOLD_MEV
    rows = [("all", largest)] + list(largest.groupby("group", sort=True))
    return pd.DataFrame(
        [
            {
                "group": name,
                "configurations": len(part),
                "max_force_meV_per_A": part["max_force_meV_per_A"].max(),
                f"with_force_above_{FORCE_THRESHOLD_MEV:g}_meV_per_A": int(part["above_threshold"].sum()),
            }
            for name, part in rows
        ]
    )


def symmetric_noise(forces: pd.DataFrame) -> float:
    """The largest DFT force (meV/Å) in the Elastic and Volume groups, whose forces are zero by symmetry."""
    symmetric = forces["group"].str.startswith(("Elastic", "Volume"))
    return float(forces.loc[symmetric, "max_force_meV_per_A"].max())


# -- the command ------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    configurations = load_configurations(args.data)
    forces = dft_force_summary(configurations)
    write_csv(forces, args.out_dir / "reports" / "table1_data.csv")
    if args.quick:
        configurations = stratified_subset(configurations, QUICK_CONFIGURATIONS)
    split = split_by_group(configurations, args.test_fraction, args.seed)
    settings = specs(args)
    checkpoints = args.out_dir / "checkpoints" / "table1"
    if args.restart and checkpoints.exists():
        shutil.rmtree(checkpoints)
    data = EnsembleData(tuple(configurations), split, LinearSnap.ta06a().parameters)
    tasks = [
        MemberTask(setting, member, spec, args.seed, data, checkpoints)
        for member in range(args.members)
        for setting, spec in settings.items()
    ]
    start = time.perf_counter()
    results = train_ensemble(tasks, **execution_options(args, "table1"))
    seconds = time.perf_counter() - start

    test = [configurations[i] for i in split.test]
    summary = summary_table(results)
    split_table = split.table(configurations)
    reports, figures = args.out_dir / "reports", args.out_dir / "figures"
    write_csv(summary, reports / "table1.csv")
    write_csv(member_table(results), reports / "table1_members.csv")
    groups = group_table(results, [c.group for c in test], [c.n_atoms for c in test])
    write_csv(groups, reports / "table1_groups.csv")
    write_csv(split_table, reports / "table1_split.csv")
    with atomic_path(reports / "table1.md") as temporary:
        temporary.write_text(
            markdown(summary, groups, split_table, results, len(results[0].theta), seconds, args, forces)
        )
    figure = parity_figure(results)
    save_figure(figure, figures / "table1_parity.png")
    plt.close(figure)

    print(
        f"Table I on Ta: {len(split.train)} training, {len(split.test)} test configurations; {args.members} networks per setting; {seconds:.0f} s"
    )
    for row in summary.itertuples():
        print(
            f"  {row.setting:<13} {row.quantity:<12} {row.mean:9.4g} ± {row.std:<8.2g} {row.unit}  (ensemble average {row.ensemble_average_rmse:.4g})"
        )
    errors = [r.gradient_error for r in results]
    print(
        f"  paper's gradient vs exact R-op at ε = {settings[FORCE].epsilon:g}: Err[∇̃L] {min(errors):.2g} … {max(errors):.2g}"
    )
    print(f"wrote {reports}/table1.csv, table1.md and {figures}/table1_parity.png")
    return EXIT_OK


if __name__ == "__main__":
    run(main)
