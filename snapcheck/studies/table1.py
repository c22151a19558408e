"""The paper's Table I on Ta: neural SNAP networks trained to energies, and to energies and forces by Eq. 7.

The paper (Sec. IV, Table I) trains ensembles of ANI networks to energies
only, and to energies and forces with its force-loss gradient (Eq. 7), and
reports held-out RMSEs: for bulk aluminium, force training cuts the force error
almost ninefold.  :func:`run_table1` does the same with snapcheck's numpy
network on per-atom SNAP descriptors (:mod:`snapcheck.models.neural_snap`) and
the dataset: a train/test split stratified by group
(:mod:`snapcheck.studies.split`), an ensemble of networks per setting
(:mod:`snapcheck.studies.ensemble`), Adam on mini-batches with the force term
of Eq. 1 by the paper's method (:mod:`snapcheck.studies.training`).

Settings: ``energy`` (c₂ = 0, :data:`ENERGY_EPOCHS` epochs: no LAMMPS work per
step, so it trains until its force RMSE levels off) and ``energy+force``
(:data:`FULL`).  Both start every member from the same θ.  ``quick`` is a small
setting for CI (:data:`QUICK`, :data:`QUICK_CONFIGURATIONS` configurations, or all of a smaller dataset).

Outputs under ``out_dir``: ``reports/table1_data.csv`` (the DFT forces per
group, :mod:`snapcheck.studies.dft_forces`, written before training starts),
``reports/table1.csv`` (per setting and quantity: mean, sample standard
deviation, ensemble-averaged RMSE), ``reports/table1.md``
(:mod:`snapcheck.studies.table1_markdown`), ``reports/table1_members.csv``,
``reports/table1_groups.csv``, ``reports/table1_split.csv`` and
``figures/table1_parity.png`` (:mod:`snapcheck.studies.table1_parity`).
Checkpoints go to ``<out_dir>/checkpoints/table1/``; a run started again with
the same settings resumes there (``restart`` deletes them first).
"""

from __future__ import annotations

import shutil
import time
from dataclasses import replace
from pathlib import Path

from snapcheck.base.files import atomic_path, write_csv
from snapcheck.base.report import Summary
from snapcheck.data.datasets import load_configurations
from snapcheck.data.selection import AtMost, stratified_subset
from snapcheck.models.linear_snap import LinearSnap
from snapcheck.studies.dft_forces import dft_force_summary
from snapcheck.studies.ensemble import EnsembleData, MemberTask, train_ensemble
from snapcheck.studies.split import split_by_group
from snapcheck.studies.table1_markdown import RunFacts, table1_markdown
from snapcheck.studies.table1_tables import ENERGY, FORCE, group_table, member_table, summary_table
from snapcheck.studies.training import TrainingSpec

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
#: Energy-only epochs cost no LAMMPS evaluation, so that setting trains to convergence
#: (its force RMSE has levelled off).
ENERGY_EPOCHS = {"full": 1500, "quick": 200}
QUICK_CONFIGURATIONS = 60


def table1_specs(
    *,
    quick: bool,
    epochs: int | None = None,
    energy_epochs: int | None = None,
    widths: tuple[int, ...] | None = None,
    activation: str = FULL.activation,
    energy_weight: float = FULL.energy_weight,
    force_weight: float = FULL.force_weight,
    epsilon: float = FULL.epsilon,
) -> dict[str, TrainingSpec]:
    """The spec of each setting: :data:`FULL` or :data:`QUICK` with the given changes (None keeps the default)."""
    base = QUICK if quick else FULL
    spec = replace(
        base,
        widths=widths or base.widths,
        epochs=epochs or base.epochs,
        activation=activation,
        energy_weight=energy_weight,
        force_weight=force_weight,
        epsilon=epsilon,
    )
    energy_epochs = energy_epochs or ENERGY_EPOCHS["quick" if quick else "full"]
    return {ENERGY: replace(spec, force_weight=0.0, epochs=energy_epochs), FORCE: spec}


def run_table1(
    settings: dict[str, TrainingSpec],
    *,
    data: str | Path | None,
    quick: bool,
    members: int,
    test_fraction: float,
    seed: int,
    restart: bool,
    out_dir: Path,
    execution: dict,
) -> Summary:
    """Train ``members`` networks per setting and write Table I (module docstring).

    ``execution``: the keyword arguments of
    :func:`snapcheck.runtime.executors.run_chunks` (``jobs``, ``scheduler``,
    ``partials``, ``run_log``); the progress bar counts the epochs of finished
    networks.
    """
    from snapcheck.studies.table1_parity import write_parity_figure  # matplotlib: imported only to draw

    configurations = load_configurations(data)
    forces = dft_force_summary(configurations)
    reports, figures = out_dir / "reports", out_dir / "figures"
    write_csv(forces, reports / "table1_data.csv")
    if quick:
        configurations = stratified_subset(configurations, AtMost(QUICK_CONFIGURATIONS))
    split = split_by_group(configurations, test_fraction, seed)
    checkpoints = out_dir / "checkpoints" / "table1"
    if restart and checkpoints.exists():
        shutil.rmtree(checkpoints)
    ensemble = EnsembleData(tuple(configurations), split, LinearSnap.ta06a().parameters)
    tasks = [
        MemberTask(setting, member, spec, seed, ensemble, checkpoints)
        for member in range(members)
        for setting, spec in settings.items()
    ]
    start = time.perf_counter()
    results = train_ensemble(tasks, **execution)
    seconds = time.perf_counter() - start

    test = [configurations[i] for i in split.test]
    summary = summary_table(results)
    split_table = split.table(configurations)
    groups = group_table(results, [c.group for c in test], [c.n_atoms for c in test])
    write_csv(summary, reports / "table1.csv")
    write_csv(member_table(results), reports / "table1_members.csv")
    write_csv(groups, reports / "table1_groups.csv")
    write_csv(split_table, reports / "table1_split.csv")
    facts = RunFacts(seed, test_fraction, quick, execution["jobs"], seconds)
    with atomic_path(reports / "table1.md") as temporary:
        temporary.write_text(table1_markdown(summary, groups, split_table, results, forces, facts))
    write_parity_figure(results, figures / "table1_parity.png")

    errors = [r.gradient_error for r in results]
    return Summary(
        (
            f"Table I on Ta: {len(split.train)} training, {len(split.test)} test configurations;"
            f" {members} networks per setting; {seconds:.0f} s",
            *(
                f"  {row.setting:<13} {row.quantity:<12} {row.mean:9.4g} ± {row.std:<8.2g} {row.unit}"
                f"  (ensemble average {row.ensemble_average_rmse:.4g})"
                for row in summary.itertuples()
            ),
            f"  paper's gradient vs exact R-op at ε = {settings[FORCE].epsilon:g}:"
            f" Err[∇̃L] {min(errors):.2g} … {max(errors):.2g}",
            f"wrote {reports}/table1.csv, table1.md and {figures}/table1_parity.png",
        )
    )
