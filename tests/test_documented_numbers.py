"""Every figure the README and docs/ quote comes from a report a named command writes.

Commands write ``reports/`` (not tracked); ``tests/references/`` holds copies of those
reports from full runs (its README names the command of each).  Each claim below is a
sentence fragment of a document, and the same fragment formatted from a reference file:
the test fails when the document no longer holds the fragment (a figure was edited, or
the sentence reworded without updating the claim) and when the fragment no longer
follows from the report.  The documented figures are redrawn from the reference tables
with the commands' own plotting code and compared pixel for pixel with ``docs/img/``.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
REFERENCES = Path(__file__).resolve().parent / "references"


def sci(value: float, digits: int = 2) -> str:
    """1.5e-9 style: ``digits`` significant digits, no zero padding in the exponent."""
    mantissa, exponent = f"{value:.{digits - 1}e}".split("e")
    mantissa = mantissa.rstrip("0").rstrip(".") if "." in mantissa else mantissa
    return f"{mantissa}e{int(exponent)}"


def reference(name: str) -> pd.DataFrame:
    return pd.read_csv(REFERENCES / name)


def best(table: pd.DataFrame, model: str, precision: str = "float64") -> pd.Series:
    curve = table[(table["model"] == model) & (table["precision"] == precision)]
    return curve.loc[curve["err_grad"].idxmin()]


def figure_row(figure: str, label: str, model: str, description: str) -> str:
    row = best(reference(f"{figure}.csv"), model)
    return f"| {label} | {description} | {sci(row['epsilon'])} | {sci(row['err_grad'])} | {sci(row['err_loss'])} |"


def digits() -> str:
    worst = max(best(reference("fig1.csv"), model)["err_grad"] for model in ("trained", "untrained"))
    return f"{-np.log10(worst):.1f} correct digits or better"


def float32_move() -> str:
    fig1 = reference("fig1.csv")
    return (
        f"The measured best ε moves from {sci(best(fig1, 'trained')['epsilon'])} to "
        f"{sci(best(fig1, 'trained', 'float32')['epsilon'])}"
    )


def table1_forces() -> str:
    summary = reference("table1.csv").set_index(["setting", "quantity"])
    energy, force = summary.loc[("energy", "Force RMSE")], summary.loc[("energy+force", "Force RMSE")]
    return (
        f"held-out force RMSE {energy['mean'] / force['mean']:.1f}-fold (ensemble-averaged\n"
        f"  predictions: {energy['ensemble_average_rmse']:.3f} → {force['ensemble_average_rmse']:.3f} eV/Å"
    )


def table1_data() -> str:
    data = reference("table1_data.csv").set_index("group")
    return (
        f"only {data.loc['all', 'with_force_above_2_meV_per_A']} of the {data.loc['all', 'configurations']} "
        "have a force above 2 meV/Å"
    )


def table1_times() -> str:
    text = (REFERENCES / "table1.md").read_text()
    energy, force = re.search(r"energy (\d+) s, energy\+force (\d+) s", text).groups()
    epochs_energy, epochs_force = re.search(
        r"c₂ = 0 for (\d+) epochs .* for (\d+) epochs \(energy and force\)", text
    ).groups()
    n_train = re.search(r"Data: (\d+) training", text).group(1)
    return (
        f"a force-trained network took {force} s ({epochs_force} epochs, about {int(force) / int(epochs_force):.1f} "
        "s each, "
        f"most of it the 2 × {n_train} LAMMPS evaluations at r±), an energy-only one {energy} s ({epochs_energy} "
        "epochs)"
    )


def fitsnap_table() -> str:
    """docs/fitsnap.md's table from ``crosscheck_fitsnap.csv``: each figure is the one the command judges."""
    table = reference("crosscheck_fitsnap.csv")
    table["kind"] = table["quantity"].where(~table["quantity"].str.startswith("metrics"), "metrics")
    lines = [
        "| quantity | criterion | against the FitSNAP run | against the stored fit | tolerance |",
        "| --- | --- | --- | --- | --- |",
    ]
    for kind, rows in table.groupby("kind", sort=False):
        figures = []
        for against in ("run", "stored"):
            part = rows[rows["against"].str.contains(against)]
            column = "max_rel_diff" if (part["criterion"] == "relative").all() else "max_abs_diff"
            value = part[column].max()
            figures.append("identical" if value == 0 else sci(value))
        criterion = "max \\|Δ\\| / max \\|x\\|" if (rows["criterion"] == "relative").all() else "max \\|Δ\\|"
        tolerances = " / ".join(
            sci(t) if t else "exact" for t in rows.groupby("against", sort=False)["tolerance"].max().unique()
        )
        criterion = "max over lines of \\|Δ\\| / \\|x\\|" if kind == "metrics" else criterion
        lines.append(f"| {kind} | {criterion} | {figures[0]} | {figures[1]} | {tolerances} |")
    return "\n".join(lines)


def fitsnap_left_out() -> str:
    table = reference("crosscheck_fitsnap.csv")
    lines = table.loc[table["quantity"] == "metrics, mae", "left_out_lines"].unique()
    assert len(lines) == 1
    return f"The metrics comparison leaves out {lines[0].count(';') + 1} lines: {lines[0]}."


def fitsnap_times() -> str:
    times = reference("crosscheck_fitsnap_time.csv").set_index("fit")["seconds"]
    ours, theirs = times["snapcheck"], times.drop("snapcheck").iloc[0]
    return f"is {ours:.2f} s for snapcheck and {theirs:.2f} s for FitSNAP (ratio {theirs / ours:.2f})"


def cost_rows() -> pd.DataFrame:
    return reference("cost.csv").set_index(["model", "n_atoms", "widths", "method"])


COST_POINTS = [
    (16, "64x64"),
    (128, "64x64"),
    (1024, "64x64"),
    (2000, "64x64"),
    (250, "20x20"),
    (250, "128x128"),
    (250, "300x300"),
]


def cost_table() -> str:
    """docs/cost.md's table: the headline (LAMMPS included) beside the network-only ratios."""
    rows = cost_rows().loc["neural-snap"]
    lines = [
        "| N | P | (b) paper, LAMMPS included (headline) | (b) paper, network only | (c) exact, network only "
        "| (d) double backprop, network only | (b) / (d), peak memory |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for n_atoms, widths in COST_POINTS:
        paper, exact = rows.loc[(n_atoms, widths, "paper gradient")], rows.loc[(n_atoms, widths, "exact product")]
        double = rows.loc[(n_atoms, widths, "double backprop")]
        lines.append(
            f"| {n_atoms} | {int(paper['n_parameters'])} | {paper['full_time_ratio']:.2f}× | "
            f"{paper['time_ratio']:.2f}× "
            f"| {exact['time_ratio']:.2f}× | {double['time_ratio']:.2f}× "
            f"| {paper['peak_memory_mb'] / double['peak_memory_mb']:.2f}× |"
        )
    return "\n".join(lines)


def ratio_range(column: str, points) -> str:
    rows = cost_rows().loc["neural-snap"]
    values = [rows.loc[(n, w, "paper gradient"), column] for n, w in points]
    return f"{min(values):.2f}× to {max(values):.2f}×"


N_SWEEP = [(n, "64x64") for n in (16, 54, 128, 250, 432, 1024, 2000)]
P_SWEEP = [(250, w) for w in ("20x20", "64x64", "128x128", "300x300")]


def cost_headline() -> str:
    return (
        f"With LAMMPS included, the paper's gradient costs {ratio_range('full_time_ratio', N_SWEEP)} a force "
        "prediction "
        f"from N = 16 to 2000 and {ratio_range('full_time_ratio', P_SWEEP)} from P = 10³ to 10⁵"
    )


def cost_network_only() -> str:
    return (
        f"The network arithmetic alone costs {ratio_range('time_ratio', N_SWEEP)} over N and "
        f"{ratio_range('time_ratio', P_SWEEP)} over P"
    )


def cost_linear() -> str:
    rows = cost_rows().loc["linear-snap"]
    ratios = rows.xs("paper gradient", level="method")["time_ratio"]
    paper, forces = (
        rows.loc[(2000, np.nan, "paper gradient"), "time_s"],
        rows.loc[(2000, np.nan, "force prediction"), "time_s"],
    )
    return (
        f"the ratio is {ratios.min():.2f}× to {ratios.max():.2f}× from N = 16 to 2000 "
        f"({1e3 * paper:.0f} ms against {1e3 * forces:.0f} ms at N = 2000)"
    )


def cost_memory() -> str:
    rows = cost_rows().loc["neural-snap"]
    paper, double = rows.loc[(2000, "64x64", "paper gradient")], rows.loc[(2000, "64x64", "double backprop")]
    torch_forces, forces = (
        rows.loc[(2000, "64x64", "force prediction (torch)")],
        rows.loc[(2000, "64x64", "force prediction")],
    )
    return (
        f"At N = 2000 it uses {paper['peak_memory_mb'] / double['peak_memory_mb']:.2f}× the memory of double "
        f"backpropagation ({paper['peak_memory_mb']:.1f} MB against {double['peak_memory_mb']:.1f} MB). "
        f"Most of the difference is PyTorch's force prediction itself ({torch_forces['peak_memory_mb']:.0f} MB, "
        f"{torch_forces['peak_memory_mb'] / forces['peak_memory_mb']:.1f}× numpy's)"
    )


def cost_accuracy() -> str:
    errors = reference("cost.csv").groupby("method")["relative_error_vs_exact"].max()
    paper, double = sci(errors["paper gradient"]), sci(errors["double backprop"])
    return f"(b) is within {paper} of it (ε = 1e-5), and (d) within {double}"


def proxy_tracks() -> str:
    """The proxy's factor to the true error over ε = 1e-8 … 1e-2 (float64, both models), rounded up to a power of 10."""
    fig1 = reference("fig1.csv")
    part = fig1[(fig1["precision"] == "float64") & fig1["epsilon"].between(0.999e-8, 1.001e-2)]
    ratio = part["err_loss"] / part["err_grad"]
    factor = 10 ** int(np.ceil(np.log10(max(ratio.max(), (1 / ratio).max()))))
    return f"the proxy tracks the true error within a factor of {factor} everywhere from ε = 1e-8 to 1e-2"


def fig2_shift() -> str:
    fig2 = reference("fig2.csv")
    shift = best(fig2, "trained")["epsilon"] / best(fig2, "untrained")["epsilon"]
    return f"its best ε moves {shift:.0f}× lower"


def figures_time() -> str:
    import json

    seconds = json.loads((REFERENCES / "figures_run.json").read_text())["wall_time_s"]
    return f"took {seconds:.0f} s with `--jobs 2`"


def dask_times() -> str:
    times = reference("bench_dask.csv").set_index("workers")["wall_time_s"]
    return (
        f"it took {times[1]:.1f} s on 1 worker and {times[2]:.1f} s on 2 workers, a ratio of {times[1] / times[2]:.2f}"
    )


def startup_ratios() -> str:
    ratio = reference("bench_startup.csv").set_index("repeat").loc["median ratio, figures / loop"]
    return (
        f"the two commands took {float(ratio['wall_time_s']):.2f}× the loop's wall time "
        f"and {float(ratio['cpu_time_s']):.2f}× its CPU time"
    )


def table1_rows() -> str:
    """The four data rows of Table I, as ``python -m snapcheck.table1`` wrote them in table1.md."""
    rows = [
        line
        for line in (REFERENCES / "table1.md").read_text().splitlines()
        if line.startswith("| Energy RMSE") or line.startswith("| Force RMSE")
    ]
    assert len(rows) == 4
    return "\n".join(rows[:2]) + "\n| **Training on energy and force data** | | |\n" + "\n".join(rows[2:])


def table1_gradient() -> str:
    text = (REFERENCES / "table1.md").read_text()
    low, high = re.search(r"Err\[∇̃L\] \(Eq. 11\) from (\S+) to (\S+)\.", text).groups()
    return f"differs from the exact R-op gradient by {sci(float(low))} to {sci(float(high))} (Eq. 11)"


def table1_volume() -> str:
    line = next(
        line for line in (REFERENCES / "table1.md").read_text().splitlines() if line.startswith("| Volume_BCC |")
    )
    cells = [cell.strip() for cell in line.strip("|").split("|")]
    return f"Volume BCC goes from {float(cells[2]):.0f} to {float(cells[4]):.0f} meV/atom"


def table1_epochs() -> str:
    text = (REFERENCES / "table1.md").read_text()
    energy, force = re.search(r"c₂ = 0 for (\d+) epochs .* for (\d+) epochs \(energy and force\)", text).groups()
    return f"The energy-only networks also trained {int(energy) / int(force):.1f} times more epochs"


def table1_report() -> str:
    return (REFERENCES / "table1.md").read_text()


def table1_split() -> str:
    """The split as table1.md's Data line states it."""
    train, test, train_atoms, test_atoms, fraction = re.search(
        r"Data: (\d+) training and (\d+) test configurations \((\d+) and (\d+) atoms\), .* \(test fraction ([\d.]+)\)",
        table1_report(),
    ).groups()
    return (
        f"{float(fraction) * 100:.0f} % of every group, drawn with `--seed`, is held out ({test} test and {train} "
        f"training configurations; {test_atoms} and {train_atoms} atoms"
    )


def table1_training() -> str:
    """Batch, learning rates, c₁, c₂ and ε as table1.md's Training line states them."""
    batch, first, last, c1, c2, epsilon = re.search(
        r"Training: Adam, (\d+) configurations per step, learning rate (\S+) → (\S+) \(exponential decay\); "
        r"Eq. 1 with c₁ = (\S+) eV⁻² .* or c₂ = (\S+) Å²/eV² .* ε = (\S+), Bᵢ",
        table1_report(),
    ).groups()
    return (
        f"Adam runs on mini-batches of {batch} configurations, with the learning rate decaying from "
        f"{sci(float(first), 1)} to {sci(float(last), 1)}. The loss is Eq. 1 on total energies, with c₁ = {c1} eV⁻² "
        "and "
        f"c₂ = 0 (energy only) or {c2} Å²/eV² (energy and force). The force term's gradient is the paper's Eq. 7 at "
        f"ε = {sci(float(epsilon), 1)}"
    )


def table1_network() -> str:
    """The ensemble and the network as table1.md states them."""
    text = table1_report()
    members = re.search(r"over (\d+) networks per setting", text).group(1)
    widths, activation, parameters = re.search(r"hidden widths \(([\d, ]+)\), (\w+), (\d+) parameters", text).groups()
    sizes = [int(w) for w in widths.split(",")]
    assert len(set(sizes)) == 1, "the sentence below describes layers of one width"
    layers = {2: "two", 3: "three"}[len(sizes)]
    return (
        f"Every setting is an ensemble of {members} networks ({layers} {activation.replace('silu', 'SiLU')} layers "
        f"of {sizes[0]}, {parameters} parameters)"
    )


def table1_setting_epochs() -> str:
    energy, force = re.search(
        r"c₂ = 0 for (\d+) epochs .* for (\d+) epochs \(energy and force\)", table1_report()
    ).groups()
    return (
        f"so that setting runs {energy} epochs, until its force RMSE has levelled off; the force setting runs {force}."
    )


def table1_energy_factor() -> str:
    factor = re.search(r"it multiplies the energy RMSE by (\S+)\.", table1_report()).group(1)
    return f"**Energies** get worse, {factor}-fold."


def table1_other_groups() -> str:
    """The energy RMSEs of every group but the Volume ones, both settings, as table1.md's group table lists them."""
    values = []
    for line in table1_report().splitlines():
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        if len(cells) == 6 and cells[1].isdigit() and not cells[0].startswith("Volume"):
            values += [float(cells[2]), float(cells[4])]
    return f"Elsewhere both settings are at {min(values):.2g} to {max(values):.2g} meV/atom per group."


def table1_paper() -> str:
    """The paper's ANI-Al ratios from the paper column table1.md prints beside the run."""
    rows = {}
    for line in table1_report().splitlines():
        if line.startswith(("| Energy RMSE", "| Force RMSE")):
            rows.setdefault(line.split("|")[1].strip(), []).append(float(line.split("|")[3].split("±")[0]))
    (energy_only, energy_force), (force_only, force_force) = rows["Energy RMSE"], rows["Force RMSE"]
    return (
        f"The paper found {force_only / force_force:.1f}-fold for bulk aluminium"
        f" … The paper found the energy error fell by {100 * (1 - energy_force / energy_only):.0f} % for aluminium"
    )


def table1_descriptors() -> str:
    k = re.search(r"K = (\d+) Ta06A descriptors", table1_report()).group(1)
    return f"every atom gets an energy from its own K = {k} bispectrum components"


def table1_member_times() -> str:
    """The spread of the force-trained networks' training times, from table1_members.csv."""
    members = reference("table1_members.csv")
    seconds = members.loc[members["setting"] == "energy+force", "train_seconds"]
    return f"the {len(seconds)} force-trained networks took {seconds.min():.0f} to {seconds.max():.0f} s each"


def table1_invocation() -> str:
    """The full run's own wall time and processes, as table1.md's Wall time line states them."""
    seconds, jobs = re.search(r"this invocation (\d+) s on (\d+) process", table1_report()).groups()
    return f"The reference run took {seconds} s from start to end with `--jobs {jobs}`"


# -- docs/datasets.md: Figs. 1 and 2 on the other datasets (tests/references/datasets/NAME/) ------------------
#: (--data NAME, the N column's note), in the table's order.
DATASET_RUNS = [("inp-jpca2020", " (1 per group)"), ("ta-quadratic-jcp2018", ""), ("ta-xyz", "")]


def dataset_reference(name: str, figure: str) -> pd.DataFrame:
    return reference(f"datasets/{name}/{figure}.csv")


def dataset_row(name: str, note: str) -> str:
    """One row of docs/datasets.md's table: best ε and min Err[∇̃L] per figure and model, the sweep's wall time."""
    import json

    cells = []
    for figure in ("fig1", "fig2"):
        table = dataset_reference(name, figure)
        for model in ("trained", "untrained"):
            row = best(table, model)
            cells.append(f"{sci(row['epsilon'], 3)}, {sci(row['err_grad'], 3)}")
    (configurations,) = dataset_reference(name, "fig1")["n_configurations"].unique()
    seconds = json.loads((REFERENCES / "datasets" / name / "figures_run.json").read_text())["wall_time_s"]
    return f"| `{name}` | {configurations}{note} | {' | '.join(cells)} | {seconds:.0f} s |"


def dataset_fig1_range() -> str:
    epsilons = [
        best(dataset_reference(name, "fig1"), m)["epsilon"]
        for name, _ in DATASET_RUNS
        for m in ("trained", "untrained")
    ]
    return f"the best ε stays within {sci(min(epsilons), 3)} … {sci(max(epsilons), 3)} for every model"


def dataset_quadratic_fig2() -> str:
    fig1, fig2 = dataset_reference("ta-quadratic-jcp2018", "fig1"), dataset_reference("ta-quadratic-jcp2018", "fig2")
    norm = {m: best(fig1, m)["grad_norm"] for m in ("trained", "untrained")}
    epsilon = {m: best(fig2, m)["epsilon"] for m in ("trained", "untrained")}
    orders = round(np.log10(epsilon["trained"] / epsilon["untrained"]))
    return (
        f"|∇θL| = {sci(norm['untrained'])} eV/Å² against the trained {sci(norm['trained'])}) needs "
        f"ε = {sci(epsilon['untrained'], 3)}, {orders} orders of magnitude below its trained model"
    )


# -- docs/torch.md (tests/references/torch/) ---------------------------------------------------------------
def torch_training() -> str:
    table = reference("torch/torch_training.csv")
    return (
        f"Over {len(table)} steps the loss falls from {table['loss_double'].iloc[0]:.2f} to "
        f"{table['loss_double'].iloc[-1]:.2f} eV²/Å², and the two curves agree to ≤ "
        f"{sci(table['relative_difference'].max(), 1)} relative at every step"
    )


def torch_checks(trainer: str, dtype: str | None = None) -> pd.DataFrame:
    table = reference("torch/torch_checks.csv")
    table = table[table["trainer"] == trainer]
    return table if dtype is None else table[table["dtype"] == dtype]


def fitsnap_torch_summary() -> str:
    row = torch_checks("fitsnap").iloc[0]
    return (
        f"Measured: automatic ε = {sci(row['epsilon'])}, proxy bound {sci(row['error_bound'])}. FitSNAP's forces are "
        "float32, "
        "so D has a floor of about the bound. The descriptors "
        f"reproduce FitSNAP's to {sci(row['descriptor_mismatch'])}. FitSNAP's forces match central differences "
        f"along random directions to {sci(row['forces_directional_error'])}."
    )


def fitsnap_torch_table() -> str:
    lines = ["| tensor | total ∇θL | force term only |", "| --- | --- | --- |"]
    for _, row in torch_checks("fitsnap").iterrows():
        force = "energy only" if row["energy_only"] else f"{row['force_term_relative_error']:.2e}"
        lines.append(f"| {row['tensor']} | {row['relative_error']:.2e} | {force} |")
    return "\n".join(lines)


def hippynn_float64() -> str:
    table = torch_checks("hippynn", "float64")
    moving = table[~table["energy_only"]]
    worst = moving.loc[moving["fd_vs_exact"].idxmax()]
    return (
        f"float64: ε = {sci(table['epsilon'].iloc[0])}, bound {sci(table['error_bound'].iloc[0])}. The trainer "
        f"agrees with the exact product to ≤ {sci(table['relative_error'].max())} in every tensor (both come from "
        f"autograd, so this is not independent). Eq. 7 agrees with the exact product to "
        f"{sci(moving['fd_vs_exact'].min())} … {sci(moving['fd_vs_exact'].max())} per tensor; "
        f"`{worst['tensor']}` is worst at {sci(worst['fd_vs_exact'])}."
    )


def hippynn_float32() -> str:
    moving = torch_checks("hippynn", "float32")
    moving = moving[~moving["energy_only"]]
    worst = moving.loc[moving["relative_error"].idxmax()]
    return (
        f"float32 trainer against the float64 reference: {sci(moving['relative_error'].min())} … "
        f"{sci(moving['relative_error'].max())} per tensor; `{worst['tensor']}` is worst at "
        f"{sci(worst['relative_error'], 3)}."
    )


def hippynn_energy_only() -> str:
    names = torch_checks("hippynn", "float64").query("energy_only")["tensor"]
    return "Energy only (correctly zero): " + ", ".join(f"`{name}`" for name in names) + "."


def radial_table() -> str:
    f64, f32 = (torch_checks("radial", d).set_index("tensor") for d in ("float64", "float32"))
    lines = [
        f"Automatic ε = {sci(f64['epsilon'].iloc[0])}, bound {sci(f64['error_bound'].iloc[0])}:",
        "",
        "| tensor | float64: trainer vs exact | Eq. 7 vs exact | float32 trainer vs float64 exact |",
        "| --- | --- | --- | --- |",
    ]
    for name, row in f64[~f64["energy_only"]].iterrows():
        trainer = "0" if row["relative_error"] == 0 else sci(row["relative_error"])
        lines.append(f"| {name} | {trainer} | {sci(row['fd_vs_exact'])} | {sci(f32.loc[name, 'relative_error'])} |")
    energy_only = ", ".join(f64.index[f64["energy_only"]])
    lines.append(f"| {energy_only} | energy only | — | energy only |")
    return "\n".join(lines)


def ratio(value: float) -> str:
    return f"{value:.2g}" if value < 10 else f"{value:.0f}"


def torch_benchmark_table() -> str:
    """docs/torch.md's benchmark table, row by row from ``torch_benchmark.csv``."""
    table = reference("torch/torch_benchmark.csv")
    lines = [
        "| P | N | paper step (s) | double backprop (s) | time double/paper | graph MB paper | graph MB double "
        "| memory double/paper | check (s) | gradgradcheck (s) | gradgradcheck / check | gradgradcheck fast (s) "
        "| fast / check |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]

    def cell(value, form=lambda v: f"{v:.3g}"):
        return "—" if pd.isna(value) else form(value)

    for _, r in table.iterrows():
        cells = [
            f"{r['parameters']:.0f}",
            f"{r['atoms']:.0f}",
            cell(r["seconds_paper_step"]),
            cell(r["seconds_double_step"]),
            cell(r["time_ratio_double_over_paper"], ratio),
            cell(r["graph_bytes_paper"] / 1e6),
            cell(r["graph_bytes_double"] / 1e6),
            cell(r["memory_ratio_double_over_paper"]),
            cell(r["seconds_check"]),
            cell(r["seconds_gradgradcheck"]),
            cell(r["speedup_check_vs_gradgradcheck"], ratio),
            cell(r["seconds_gradgradcheck_fast"]),
            cell(r["speedup_check_vs_gradgradcheck_fast"], ratio),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def torch_benchmark_gradgradcheck() -> str:
    table = reference("torch/torch_benchmark.csv").dropna(subset=["seconds_gradgradcheck"])
    small, large = table.iloc[0], table.iloc[-1]
    return (
        f"At 1e4 parameters the check is {sci(large['speedup_check_vs_gradgradcheck'])}× faster "
        f"({large['seconds_check']:.2g} s against {large['seconds_gradgradcheck']:.3g} s). At 1e3 parameters it is "
        f"{small['speedup_check_vs_gradgradcheck']:.0f}× faster."
    )


def torch_benchmark_fast() -> str:
    fast = reference("torch/torch_benchmark.csv")["speedup_check_vs_gradgradcheck_fast"].dropna()
    return (
        f"gradgradcheck's `fast_mode=True` (random projections) costs about as much as the check: it takes "
        f"{fast.min():.1f}–{fast.max():.1f}× the check's time"
    )


def torch_benchmark_exact() -> str:
    errors = reference("torch/torch_benchmark.csv")["check_max_relative_error"]
    return f"On every row it found the trainer exact to ≤ {sci(errors.max())}."


def torch_benchmark_memory() -> str:
    table = reference("torch/torch_benchmark.csv")
    memory = table["memory_ratio_double_over_paper"]
    corner = table[(table["parameters"] == table["parameters"].max()) & (table["atoms"] == table["atoms"].min())]
    return (
        f"Double backprop keeps {memory.min():.2f}–{memory.max():.2f}× more, and the ratio grows with N. At 1e6 "
        f"parameters and 2 atoms the parameter-sized tensors dominate, so the ratio is only "
        f"{corner['memory_ratio_double_over_paper'].iloc[0]:.2f}."
    )


def torch_benchmark_time() -> str:
    ratios = reference("torch/torch_benchmark.csv")["time_ratio_double_over_paper"]
    return f"double backprop takes {ratios.min():.2f}–{ratios.max():.2f}× its time"


EPSILON_RULE_FILES = {"Ta": "fig1_epsilon_rules.csv", "InP": "datasets/inp-jpca2020/fig1_epsilon_rules.csv"}


def epsilon_rule_rows() -> list[tuple[str, pd.Series, pd.Series]]:
    """(dataset, smoothed row, argmin row) for every model, precision and subset size of Fig. 1's rule study."""
    rows = []
    for dataset, name in EPSILON_RULE_FILES.items():
        table = reference(name)
        table = table[table["subset_size"] != "all"]
        for _, pair in table.groupby(["model", "precision", "subset_size"], sort=False):
            by_rule = pair.set_index("rule")
            rows.append((dataset, by_rule.loc["smoothed"], by_rule.loc["argmin"]))
    return rows


def epsilon_rules_table() -> str:
    lines = [
        "| data | model | precision | subset | within 2× of the optimum: smoothed / argmin | 90th percentile ratio: "
        "smoothed / argmin |",
        "| --- | --- | --- | ---: | --- | --- |",
    ]
    for dataset, smoothed, argmin in epsilon_rule_rows():
        lines.append(
            f"| {dataset} | {smoothed['model']} | {smoothed['precision']} | {smoothed['subset_size']} | "
            f"{smoothed['within_2x']:.0%} / {argmin['within_2x']:.0%} | "
            f"{smoothed['p90_ratio']:.2f} / {argmin['p90_ratio']:.2f} |"
        )
    return "\n".join(lines)


def epsilon_rules_summary() -> str:
    rows = epsilon_rule_rows()
    within = [np.mean([r[k]["within_2x"] for r in rows]) for k in (1, 2)]
    milder = sum(s["p90_ratio"] < a["p90_ratio"] for _, s, a in rows)
    return (
        f"Over these {len(rows)} rows the two rules land within 2× of the optimum about equally often "
        f"({within[0]:.0%} and {within[1]:.0%} of the subsets on average), and the smoothed rule's bad cases are "
        f"milder: its 90th percentile is the lower one in {milder} of {len(rows)} rows. So `smoothed` is the "
        'default; `rule="argmin"` chooses the other.'
    )


#: (document, fragment function): the function formats the fragment from the reference reports.
CLAIMS = [
    ("docs/figures.md", lambda: figure_row("fig1", "Fig. 1, g₀ = max\\|g\\|", "trained", "trained (Ta06A)")),
    ("docs/figures.md", lambda: figure_row("fig1", "Fig. 1, g₀ = max\\|g\\|", "untrained", "untrained (Kaiming)")),
    ("docs/figures.md", lambda: figure_row("fig2", "Fig. 2, g₀ = 1 eV/Å", "trained", "trained (Ta06A)")),
    ("docs/figures.md", lambda: figure_row("fig2", "Fig. 2, g₀ = 1 eV/Å", "untrained", "untrained (Kaiming)")),
    ("docs/figures.md", digits),
    ("docs/figures.md", float32_move),
    ("docs/figures.md", proxy_tracks),
    ("docs/figures.md", fig2_shift),
    ("docs/figures.md", figures_time),
    ("docs/figures.md", epsilon_rules_table),
    ("docs/figures.md", epsilon_rules_summary),
    ("docs/table1.md", table1_forces),
    ("docs/table1.md", table1_data),
    ("docs/table1.md", table1_times),
    ("docs/table1.md", table1_rows),
    ("docs/table1.md", table1_gradient),
    ("docs/table1.md", table1_volume),
    ("docs/table1.md", table1_epochs),
    ("docs/table1.md", table1_split),
    ("docs/table1.md", table1_training),
    ("docs/table1.md", table1_network),
    ("docs/table1.md", table1_setting_epochs),
    ("docs/table1.md", table1_energy_factor),
    ("docs/table1.md", table1_other_groups),
    *[("docs/table1.md", lambda part=part: table1_paper().split(" … ")[part]) for part in (0, 1)],
    ("docs/table1.md", table1_invocation),
    ("docs/table1.md", table1_member_times),
    ("docs/table1.md", table1_descriptors),
    ("docs/fitsnap.md", fitsnap_table),
    ("docs/fitsnap.md", fitsnap_left_out),
    ("docs/fitsnap.md", fitsnap_times),
    ("docs/scaling.md", dask_times),
    ("docs/scaling.md", startup_ratios),
    ("docs/cost.md", cost_table),
    ("docs/cost.md", cost_headline),
    ("docs/cost.md", cost_network_only),
    ("docs/cost.md", cost_linear),
    ("docs/cost.md", cost_memory),
    ("docs/cost.md", cost_accuracy),
    *[("docs/datasets.md", lambda name=name, note=note: dataset_row(name, note)) for name, note in DATASET_RUNS],
    ("docs/datasets.md", dataset_fig1_range),
    ("docs/datasets.md", dataset_quadratic_fig2),
    ("docs/torch.md", torch_training),
    ("docs/torch.md", fitsnap_torch_summary),
    ("docs/torch.md", fitsnap_torch_table),
    ("docs/torch.md", hippynn_float64),
    ("docs/torch.md", hippynn_float32),
    ("docs/torch.md", hippynn_energy_only),
    ("docs/torch.md", radial_table),
    ("docs/torch.md", torch_benchmark_table),
    ("docs/torch.md", torch_benchmark_gradgradcheck),
    ("docs/torch.md", torch_benchmark_fast),
    ("docs/torch.md", torch_benchmark_exact),
    ("docs/torch.md", torch_benchmark_memory),
    ("docs/torch.md", torch_benchmark_time),
]


# -- docs/stress.md: the whole training loss against ε (tests/references/fig1_stress.csv, fig1_all.csv, …) ---------
#: (data label, the folder under tests/references/, the figure's run log): Ta's full run and InP's 19 configurations.
WHOLE_LOSS_RUNS = [
    ("Ta (363)", "", "figures_{loss}_run.json"),
    ("InP (19)", "datasets/inp-jpca2020/", "fig1_{loss}_run.json"),
]
WHOLE_LOSSES = {"stress": "stress", "all": "energy, forces, stress"}


def whole_loss_best(folder: str, figure: str, loss: str, precision: str = "float64") -> pd.DataFrame:
    """best_epsilons of a whole-loss reference table, by model: the true optimum and the ε the proxy D̃ picks."""
    from snapcheck.studies.sweep_errors import best_epsilons

    table = reference(f"{folder}{figure}_{loss}.csv").assign(group="all")
    return best_epsilons(table[table["precision"] == precision]).set_index("model")


def whole_loss_table() -> str:
    """docs/stress.md's table: Fig. 1 of the stress loss and of the whole loss, float64, both datasets and models."""
    lines = [
        "| data | loss | model | best ε | min Err[∇̃L] | Err[D̃] there | ε the proxy picks | Err[∇̃L] there |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for data, folder, _ in WHOLE_LOSS_RUNS:
        for loss, terms in WHOLE_LOSSES.items():
            rows = whole_loss_best(folder, "fig1", loss)
            table = reference(f"{folder}fig1_{loss}.csv").set_index(["model", "precision", "epsilon"])
            for model in ("trained", "untrained"):
                row = rows.loc[model]
                there = table.loc[(model, "float64", row["best_epsilon_grad"]), "err_loss"]
                lines.append(
                    f"| {data} | {terms} | {model} | {sci(row['best_epsilon_grad'])} | {sci(row['min_err_grad'])} "
                    f"| {sci(there)} | {sci(row['selected_epsilon'])} | {sci(row['err_grad_selected'])} |"
                )
    return "\n".join(lines)


def whole_loss_worst() -> str:
    worst = max(
        whole_loss_best(folder, "fig1", loss)["min_err_grad"].max()
        for _, folder, _ in WHOLE_LOSS_RUNS
        for loss in WHOLE_LOSSES
    )
    selected = max(
        whole_loss_best(folder, "fig1", loss)["err_grad_selected"].max()
        for _, folder, _ in WHOLE_LOSS_RUNS
        for loss in WHOLE_LOSSES
    )
    return (
        f"every row reaches {sci(worst)} or better at its best ε, "
        f"and {sci(selected)} or better at the ε the proxy picks"
    )


def whole_loss_float32() -> str:
    rows = whole_loss_best("", "fig1", "all", "float32")
    trained, untrained = rows.loc["trained"], rows.loc["untrained"]
    return (
        f"In emulated float32 (`--loss all`, Ta) the best Err[∇̃L] is {sci(trained['min_err_grad'])} for the trained "
        f"model at ε = {sci(trained['best_epsilon_grad'])} and {sci(untrained['min_err_grad'])} for the untrained "
        "one at "
        f"ε = {sci(untrained['best_epsilon_grad'])}"
    )


def whole_loss_fig2() -> str:
    """Fig. 2 of the stress loss on Ta: the best ε of each model, and the largest ε at which the untrained one steps."""
    rows = whole_loss_best("", "fig2", "stress")
    table = reference("fig2_stress.csv")
    untrained = table[(table["model"] == "untrained") & (table["precision"] == "float64")]
    taken = untrained.loc[untrained["err_grad"].notna(), "epsilon"].max()
    shift = rows.loc["trained", "best_epsilon_grad"] / rows.loc["untrained", "best_epsilon_grad"]
    return (
        f"the best ε is {sci(rows.loc['trained', 'best_epsilon_grad'])} for the trained model and "
        f"{sci(rows.loc['untrained', 'best_epsilon_grad'])} for the untrained one ({shift:.0f}× lower), whose steps "
        f"stop at ε = {sci(taken)}"
    )


def whole_loss_share() -> str:
    """|∇θL| of the stress term alone against that of the whole loss (trained model, Ta, the whole set)."""
    stress, whole = (reference(f"fig1_{loss}.csv") for loss in ("stress", "all"))
    norm = {name: t.loc[t["model"] == "trained", "grad_norm"].iloc[0] for name, t in (("s", stress), ("w", whole))}
    return (
        f"|∇θL| = {sci(norm['s'])} 1/eV for the stress term alone against {sci(norm['w'])} 1/eV for the whole loss "
        f"(trained model, all 363 configurations), a share of {sci(norm['s'] / norm['w'], 1)}"
    )


def whole_loss_times() -> str:
    import json

    seconds = {
        (data, loss): json.loads((REFERENCES / f"{folder}{log.format(loss=loss)}").read_text())["wall_time_s"]
        for data, folder, log in WHOLE_LOSS_RUNS
        for loss in WHOLE_LOSSES
    }
    ta, inp = WHOLE_LOSS_RUNS[0][0], WHOLE_LOSS_RUNS[1][0]
    return (
        f"took {seconds[ta, 'stress']:.0f} s and {seconds[ta, 'all']:.0f} s on Ta, {seconds[inp, 'stress']:.0f} s and "
        f"{seconds[inp, 'all']:.0f} s on InP"
    )


CLAIMS += [
    ("docs/stress.md", whole_loss_table),
    ("docs/stress.md", whole_loss_worst),
    ("docs/stress.md", whole_loss_float32),
    ("docs/stress.md", whole_loss_fig2),
    ("docs/stress.md", whole_loss_share),
    ("docs/stress.md", whole_loss_times),
]


@pytest.mark.parametrize(
    ("document", "fragment"), CLAIMS, ids=[f"{d}:{f.__name__}-{i}" for i, (d, f) in enumerate(CLAIMS)]
)
def test_the_document_quotes_the_report(document, fragment):
    expected = fragment()
    text = " ".join((ROOT / document).read_text().split())
    assert " ".join(expected.split()) in text, f"{document} should say (from tests/references/): {expected!r}"


def test_every_reference_file_names_its_command():
    listed = (REFERENCES / "README.md").read_text()
    files = sorted(
        p.name for p in REFERENCES.iterdir() if p.suffix in {".csv", ".md", ".json"} and p.name != "README.md"
    )
    assert files, "no reference reports"
    missing = [name for name in files if f"`{name}`" not in listed]
    assert not missing, f"tests/references/README.md does not say which command wrote {missing}"


def test_no_document_embeds_a_command_output():
    """Docs show figures from docs/img/ (checked below), never from figures/, which git ignores."""
    for document in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        assert "](../figures/" not in document.read_text() and "](figures/" not in document.read_text(), document


def redrawn(name: str, tmp_path: Path) -> Path:
    """Draw a documented figure from the reference tables with the commands' own code (as ``figures`` does)."""
    import matplotlib.pyplot as plt

    from snapcheck.base.files import save_figure
    from snapcheck.studies.cost import CostSpec
    from snapcheck.studies.cost_figure import cost_figure
    from snapcheck.studies.epsilon_study import FIG1, fig2_spec
    from snapcheck.studies.plots import error_figure, precision_figure

    fig1, fig2 = (reference(f"{f}.csv").assign(group="all") for f in ("fig1", "fig2"))
    draw = {
        "fig1_stress": lambda: error_figure(
            reference("fig1_stress.csv").assign(group="all"), FIG1.heading(ta_stress_loss()), proxy="training"
        ),
        "fig1": lambda: error_figure(fig1, FIG1.title),
        "fig2": lambda: error_figure(fig2, fig2_spec(fig2["g0_eV_per_A"].iloc[0]).title),
        "fig1_precision": lambda: precision_figure(fig1, "Fig. 1 in float64 and emulated float32"),
        "cost_scaling": lambda: cost_figure(reference("cost.csv"), CostSpec()),
    }[name]
    figure = draw()
    try:
        return save_figure(figure, tmp_path / f"{name}.png")
    finally:
        plt.close(figure)


def ta_stress_loss():
    """The loss of ``fig1_stress.csv``: the stress term under Ta-example.in (the title names its file)."""
    from snapcheck.data.locations import resolve_dataset
    from snapcheck.studies.loss_choice import LossChoice

    return LossChoice(("stress",), resolve_dataset("ta-jcp2014").read_fit_input())


@pytest.mark.parametrize("name", ["fig1", "fig2", "fig1_precision", "cost_scaling", "fig1_stress"])
def test_the_documented_figure_is_what_the_command_draws_from_the_reference_table(name, tmp_path):
    from matplotlib.image import imread

    shown, drawn = imread(ROOT / "docs" / "img" / f"{name}.png"), imread(redrawn(name, tmp_path))
    assert shown.shape == drawn.shape and np.array_equal(shown, drawn), (
        f"docs/img/{name}.png is not what its command draws from tests/references/; copy the figure of the run"
    )


def test_the_outputs_of_fig1_are_ignored_by_git(tmp_path):
    """A clone stays clean after ``python -m snapcheck.fig1``: every file it writes is ignored by git."""
    import subprocess
    import sys

    arguments = ["--configs", "3", "--epsilons", "1e-5", "--jobs", "1", "--out-dir", str(tmp_path)]
    subprocess.run([sys.executable, "-m", "snapcheck.fig1", *arguments], check=True, capture_output=True, cwd=tmp_path)
    written = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file())
    assert {"reports/fig1.csv", "figures/fig1.png", "figures/fig1.pdf"} <= set(written)
    ignored = subprocess.run(
        ["git", "check-ignore", "--no-index", *written], capture_output=True, text=True, cwd=ROOT
    ).stdout.split()
    assert sorted(ignored) == written, f"written but not ignored: {sorted(set(written) - set(ignored))}"


def test_every_reference_file_in_a_subfolder_names_its_command():
    """Reference copies under tests/references/SUBFOLDER/ are listed in its README by their relative path."""
    listed = (REFERENCES / "README.md").read_text()
    files = sorted(
        str(p.relative_to(REFERENCES))
        for p in REFERENCES.rglob("*")
        if p.is_file() and p.parent != REFERENCES and p.suffix in {".csv", ".md", ".json"}
    )
    missing = [name for name in files if f"`{name}`" not in listed]
    assert not missing, f"tests/references/README.md does not say which command wrote {missing}"


# -- docs/torch.md: the whole-loss step of bench torch (tests/references/torch/torch_benchmark.csv) ---------------
def torch_benchmark_whole() -> str:
    table = reference("torch/torch_benchmark.csv")
    memory, time = table["memory_ratio_double_over_paper_whole"], table["time_ratio_double_over_paper_whole"]
    return (
        f"Double backprop keeps {memory.min():.2f}–{memory.max():.2f}× more graph memory and takes "
        f"{time.min():.2f}–{time.max():.2f}× the paper's step's time. On every row the two steps' gradients agree "
        f"to ≤ {sci(table['gradient_difference'].max())} relative for the force loss and ≤ "
        f"{sci(table['gradient_difference_whole'].max())} for the whole loss."
    )


def test_docs_torch_quotes_the_whole_loss_benchmark():
    test_the_document_quotes_the_report("docs/torch.md", torch_benchmark_whole)


# --- crosscheck fitsnap on every registered dataset (docs/fitsnap.md): one reference report per dataset ---

#: The datasets of docs/fitsnap.md's per-dataset tables, each a full run of ``crosscheck fitsnap --data NAME``.
CROSSCHECK_DATASETS = ("ta-jcp2014", "ta-xyz", "ta-quadratic-jcp2018", "inp-jpca2020")
#: The line of a crosscheck report that compares β with FitSNAP's own run.
BETA_AGAINST_RUN = ("coefficients β", "FitSNAP 3.1.0.4 run")
CROSSCHECK_COLUMNS = (
    ("A, energy rows", "A energy"),
    ("A, force rows", "A force"),
    ("A, stress rows", "A stress"),
    ("b, energy rows", "b energy (eV/atom)"),
    ("b, force rows", "b force (eV/Å)"),
    ("b, stress rows", "b stress"),
    ("w", "w (all rows)"),
    ("coefficients β", "β"),
)


def crosscheck_report(name: str, kind: str = "") -> pd.DataFrame:
    """The reference report of ``crosscheck fitsnap --data NAME`` (``kind`` ``_time`` for its wall times)."""
    return reference(
        f"crosscheck_fitsnap{kind}.csv" if name == "ta-jcp2014" else f"crosscheck_fitsnap{kind}_{name}.csv"
    )


def crosscheck_cell(lines: pd.DataFrame) -> str:
    """The figure some lines are judged by (the largest; stress rows also max |Δ| in bar), or why they were not
    compared."""
    if (lines["status"] == "not compared").any():
        return "not dumped" if lines["note"].str.contains("holds no Descriptors.npy").any() else "not compared"
    relative = (lines["criterion"] == "relative").all()
    value = lines["max_rel_diff" if relative else "max_abs_diff"].max()
    text = "identical" if value == 0 else sci(value)
    if lines.index[0] in ("A, stress rows", "b, stress rows"):
        text += f" ({sci(lines['max_abs_diff'].max())} bar)"
    return text


def crosscheck_datasets_table(against: str) -> str:
    """docs/fitsnap.md's table of every dataset against the FitSNAP run (``run``) or the stored fit (``stored``)."""
    header = [label for _, label in CROSSCHECK_COLUMNS]
    lines = [
        f"| `--data` | configurations, rows | {' | '.join(header)} | metrics |",
        "| --- | --- |" + " --- |" * (len(header) + 1),
    ]
    for name in CROSSCHECK_DATASETS:
        table = crosscheck_report(name)
        part = table[table["against"].str.contains(against)].set_index("quantity")
        sizes = table[table["against"].str.contains("run")].set_index("quantity")["size"]
        rows = sum(sizes[f"w, {kind} rows"] for kind in ("energy", "force", "stress"))
        cells = [crosscheck_cell(part[part.index.str.startswith(quantity)]) for quantity, _ in CROSSCHECK_COLUMNS]
        metrics = part[part.index.str.startswith("metrics")]
        compared = metrics[metrics["status"] != "not compared"]
        cells.append(sci(compared["max_rel_diff"].max()) if len(compared) else "not compared")
        lines.append(f"| `{name}` | {sizes['w, energy rows']}, {rows} | {' | '.join(cells)} |")
    return "\n".join(lines)


def crosscheck_solves() -> str:
    """What FitSNAP's SVD kept on each dataset (the note of the run's β line)."""
    notes = [
        f"`{name}`: {crosscheck_report(name).set_index(['quantity', 'against']).loc[BETA_AGAINST_RUN, 'note']}"
        for name in CROSSCHECK_DATASETS
    ]
    return "; ".join(notes) + "."


def crosscheck_left_out() -> str:
    """The metric lines each dataset's run leaves out as round-off."""
    parts = []
    for name in CROSSCHECK_DATASETS:
        table = crosscheck_report(name)
        line = table[(table["quantity"] == "metrics, mae") & table["against"].str.contains("run")].iloc[0]
        parts.append(f"`{name}`: {line['left_out_lines']}")
    return "; ".join(parts) + "."


def crosscheck_times() -> str:
    """Wall times of both fits on each dataset, one run each."""
    parts = []
    for name in CROSSCHECK_DATASETS:
        times = crosscheck_report(name, "_time").set_index("fit")["seconds"]
        parts.append(f"`{name}` {times['snapcheck']:.3g} s and {times.drop('snapcheck').iloc[0]:.3g} s")
    return "; ".join(parts)


CROSSCHECK_CLAIMS = [
    lambda: crosscheck_datasets_table("run"),
    lambda: crosscheck_datasets_table("stored"),
    crosscheck_solves,
    crosscheck_left_out,
    crosscheck_times,
]


@pytest.mark.parametrize("fragment", CROSSCHECK_CLAIMS, ids=[f"claim-{i}" for i in range(len(CROSSCHECK_CLAIMS))])
def test_docs_fitsnap_quotes_the_crosscheck_of_every_dataset(fragment):
    expected = fragment()
    text = " ".join((ROOT / "docs" / "fitsnap.md").read_text().split())
    assert " ".join(expected.split()) in text, f"docs/fitsnap.md should say (from tests/references/): {expected!r}"
