"""Table I as Markdown, in the paper's layout beside its ANI-Al column, with everything needed to read it.

:func:`table1_markdown` renders ``reports/table1.md``: the four RMSEs (mean ±
sample standard deviation over the networks) beside the paper's ANI-Al
figures, the force and energy ratios between the settings, the data and split,
the network, the training settings, the paper's gradient against the exact
R-op gradient, the wall times, and the RMSEs per group of the test set with the
DFT noise of the symmetric crystals.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from snapcheck.studies.dft_forces import symmetric_noise
from snapcheck.studies.ensemble import MemberResult
from snapcheck.studies.table1_tables import ENERGY, FORCE, QUANTITIES, SETTING_TITLES

#: The paper's Table I, ANI-Al (bulk aluminium): mean ± std over eight networks.
PAPER_ANI_AL = {
    (ENERGY, "energy"): "4.38 ± 0.45",
    (ENERGY, "force"): "0.39 ± 0.05",
    (FORCE, "energy"): "1.88 ± 0.2",
    (FORCE, "force"): "0.045 ± 0.001",
}


@dataclass(frozen=True)
class RunFacts:
    """How the run was made: the split's seed and test fraction, the quick subset, the jobs and the wall time (s)."""

    seed: int
    test_fraction: float
    quick: bool
    jobs: int
    seconds: float


def table1_markdown(
    summary: pd.DataFrame,
    groups: pd.DataFrame,
    split: pd.DataFrame,
    results: list[MemberResult],
    forces: pd.DataFrame,
    run: RunFacts,
) -> str:
    """``reports/table1.md`` (module docstring) from the tables of :mod:`snapcheck.studies.table1_tables`."""
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
        f"Mean ± sample standard deviation over {len(results) // 2} networks per setting. "
        "Force training divides the force RMSE by "
        f"{means[ENERGY, 'Force RMSE'] / means[FORCE, 'Force RMSE']:.1f}; it multiplies the energy RMSE by "
        f"{means[FORCE, 'Energy RMSE'] / means[ENERGY, 'Energy RMSE']:.2g}.",
        "",
        f"* Data: {int(split['train'].sum())} training and {int(split['test'].sum())} test configurations "
        f"({int(split['train_atoms'].sum())} and {int(split['test_atoms'].sum())} atoms), "
        f"split within every group with seed {run.seed} "
        f"(test fraction {run.test_fraction}){'; --quick subset' if run.quick else ''}. "
        "Energy RMSE is √⟨((Ê − E)/N)²⟩ over test configurations, "
        "force RMSE the root mean square over every test force component.",
        f"* Network: Eᵢ = MLP((Bᵢ − μ)/σ), K = 30 Ta06A descriptors, hidden widths {spec.widths}, "
        f"{spec.activation}, {len(results[0].theta)} parameters, float64; Ê = Σ Eᵢ + E_ZBL.",
        f"* Training: Adam, {spec.batch_size} configurations per step, "
        f"learning rate {spec.learning_rate:g} → {spec.final_learning_rate:g} (exponential decay); "
        f"Eq. 1 with c₁ = {spec.energy_weight:g} eV⁻² and c₂ = 0 for {energy_spec.epochs} epochs "
        "(energy only: no LAMMPS work per step, trained until its force RMSE levels off) "
        f"or c₂ = {spec.force_weight:g} Å²/eV² for {spec.epochs} epochs (energy and force); "
        f"force term by Eq. 7 with ε = {spec.epsilon:g}, Bᵢ(r±) from LAMMPS at every step.",
        f"* The paper's gradient against the exact R-op gradient at ε = {spec.epsilon:g}, trained networks, test set: "
        f"Err[∇̃L] (Eq. 11) from {gradient_errors.min():.2g} to {gradient_errors.max():.2g}.",
        f"* Wall time: this invocation {run.seconds:.0f} s on {run.jobs} process(es), "
        f"training {len(trained)} of {len(results)} networks "
        f"({sum(r.epochs_run for r in trained)} epochs; the rest resumed complete from checkpoints); "
        "training time per network over all invocations: "
        + ", ".join(
            f"{setting} {np.mean([r.seconds for r in results if r.setting == setting]):.0f} s"
            for setting in SETTING_TITLES
        )
        + ".",
        "",
        "Per group of the test set (mean over the networks; "
        "the Volume groups are crystals compressed or expanded far beyond the others, "
        "where a network extrapolates; the Elastic and Volume crystals have zero forces by symmetry, "
        "up to DFT noise of at most "
        f"{symmetric_noise(forces):.2g} meV/Å, reports/table1_data.csv):",
        "",
        "| group | test configurations | energy only: meV/atom | eV/Å | energy and force: meV/atom | eV/Å |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    wide = groups.pivot(index="group", columns="setting", values=["energy_rmse_meV_per_atom", "force_rmse_eV_per_A"])
    counts = groups.drop_duplicates("group").set_index("group")["configurations"]
    for group in counts.index:
        lines.append(
            f"| {group} | {counts[group]} "
            f"| {wide.loc[group, ('energy_rmse_meV_per_atom', ENERGY)]:.3g} "
            f"| {wide.loc[group, ('force_rmse_eV_per_A', ENERGY)]:.3g} "
            f"| {wide.loc[group, ('energy_rmse_meV_per_atom', FORCE)]:.3g} "
            f"| {wide.loc[group, ('force_rmse_eV_per_A', FORCE)]:.3g} |"
        )
    lines += [
        "",
        "Every network: `reports/table1_members.csv`; per group: `reports/table1_groups.csv`; "
        "the split: `reports/table1_split.csv`.",
    ]
    return "\n".join(lines) + "\n"
