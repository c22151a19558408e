"""A CI regression check of the paper's gradient estimate against the exact one, on a linear SNAP model.

Estimates ∇θL by the central difference (Eq. 7, η = ε·a₀/g₀ with
g₀ = maxᵢ|gᵢ|) on a subset of the dataset, compares it with the exact gradient
from LAMMPS's closed forms, and reports Err[∇̃L] (Eq. 11) and the proxy for the
whole subset and per group.  With ``epsilon="auto"`` one sweep over
:data:`snapcheck.gradients.epsilon.EPSILON_GRID` gives both errors at every ε;
ε is the one the proxy selects (``selected_epsilon`` of
:func:`snapcheck.studies.sweep_errors.best_epsilons`, the paper's Sec. III C) and
Err[∇̃L] is reported there.

**Which loss.**  ``loss`` is what ``--loss`` parsed
(:func:`snapcheck.studies.loss_choice.choose_loss`).  By default (``dataset``) it is the dataset's
training loss: FitSNAP's L = ½ Σ w²(Aθ − b)² over the energy, force and stress rows that the
dataset's FitSNAP input weighs and its configurations hold (energy, forces and stress for the Ta and
InP data), under that input's group weights (or ``--fit-input``).  Each weight carries the inverse
unit of its row (1/(eV/atom), Å/eV, 1/bar), so L is dimensionless and ∇θL is in 1/eV (θ in eV).
Its exact gradient is Aᵀ W²(Aθ − b); the estimate is docs/theory.md's generalised Eq. 7, the energy
term first order and exact, the force and stress terms one central difference along the strained path,
g₀ the path's largest speed (Å/eV); the proxy is Err[D̃], the derivative of Ê along the path from
energies against D = Σ g·f̂ + (∂L/∂σ̂):σ̂, where Eq. 14's L̃ needs the paper's loss.  Data without a
FitSNAP input (a plain folder or extxyz file) falls back to the paper's force loss
L = ½ Σᵢ |f̂ᵢ − fᵢ|² (Eq. 2, eV²/Å², ∇θL = A_fᵀg in eV/Å², proxy Err[L̃] of Eq. 14), which
``--loss forces`` always checks.

**Which error decides.**  By default the whole subset's Err[∇̃L] (Eq. 11)
must be at most ``max_error`` (``verdict_on="all"``): it is the paper's
measure, and it weighs every group by its share of the gradient a trainer
follows.  A group's own relative error does not decide by default, because
groups near equilibrium have gradients 10⁷ to 10¹⁰ times smaller than the
subset's (the Ta Elastic crystals, InP's Strain group): their estimate is
resolved to only a few digits by float64 round-off, so their relative error
exceeds any bound that a correct model meets elsewhere, although its absolute
size is negligible for training.  A worst-group verdict would fail every
correct model on those datasets.  The summary marks every group above the
bound and the verdict line names them; ``verdict_on="worst-group"`` makes the
worst group decide (never more lenient: the whole-set error is at most the
worst group's, being a sum of squares over groups divided by another).  The
bugs a check is for (a wrong sign, a constant factor, forces without
``create_graph``) give errors of order 1 either way; under a training loss,
times the share of ∇θL that the term they touch carries (the energy term is
exact, and a term of small weight is a small share: docs/stress.md).  So a
training loss of more than one term also sweeps each of its force and stress
terms alone (:func:`term_errors`, ``reports/check_terms.csv``), and each must
be within ``max_error`` too.

**Round-off configurations.**  Under the paper's loss, configurations whose
force errors are round-off (maxᵢ|gᵢ| below
:data:`snapcheck.studies.sweep.ROUNDOFF_FORCE_ERROR`, the perfect crystals of
the Volume groups) have a round-off ∇θL = A_fᵀg: they are listed with their
absolute figures as "not measurable at this precision" and left out of the
relative errors; a subset of only such configurations passes with a note.
Under a training loss the same crystals are measurable when the loss has a
stress term (their pressure errors are real, so the path strains the cell) or
an energy term (exact); only a configuration whose path moves by round-off
force residuals alone, and which no energy term reaches, is left out
(:func:`snapcheck.studies.sweep.roundoff_gradient`).

Writes ``reports/check.csv`` (the chosen ε only; one row for the subset and
one per group, ``within_max_error`` marking each against the bound, ``loss``
the terms as ``--loss`` spells them and ``loss_weights`` the FitSNAP input
that weighs them, empty for the paper's loss) and the run log
``reports/check_run.json``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from snapcheck.base.files import write_csv
from snapcheck.base.report import Summary, Verdict
from snapcheck.data.datasets import load_configurations
from snapcheck.data.selection import AtMost
from snapcheck.gradients.epsilon import EPSILON_GRID
from snapcheck.models.registry import ModelRequest, load_model
from snapcheck.studies.loss_choice import LossChoice, choose_loss
from snapcheck.studies.sweep import ROUNDOFF_FORCE_ERROR, SweepSpec, run_sweep
from snapcheck.studies.sweep_errors import best_epsilons, error_table, measurable

#: The largest acceptable Err[∇̃L] by default.
DEFAULT_MAX_ERROR = 1e-7
#: What decides the verdict: the whole subset's error (the default, module docstring) or the worst group's.
VERDICT_RULES = ("all", "worst-group")


def check_paper_gradient(
    *,
    data: str | Path | None,
    model: str,
    seed: int,
    fit_input: Path | None,
    snapparam: Path | None,
    loss: tuple[str, ...] | str,
    epsilon: float | str,
    max_error: float,
    verdict_on: str,
    configs: int | AtMost | None,
    out_dir: Path,
    execution: dict,
) -> Summary:
    """Run the check (module docstring); ``epsilon`` a number or ``"auto"``, ``loss`` what ``--loss`` parsed."""
    named = load_model(model, ModelRequest(seed, data, fit_input), snapparam)
    configurations = load_configurations(data, count=configs)
    choice = choose_loss(loss, data=data, fit_input=fit_input, configurations=configurations)
    checked = sweep_at_epsilon(configurations, named.model, choice.terms, choice.fit_input, epsilon, execution)
    units = LossUnits(choice.paper)
    lines = [f"model {named.model.name}, {len(configurations)} configurations", f"loss: {units.describe(choice)}"]
    lines += not_measurable_lines(checked.left_out, checked.left_out_results, units)
    if checked.table is None:
        reason = (
            "nothing to check: no configuration has a gradient measurable at float64 precision;"
            " give configurations with nonzero force errors (or a loss with a stress or energy term)"
        )
        return Summary(tuple(lines), Verdict(True, reason))
    table = checked.table
    table["within_max_error"] = table["err_grad"] <= max_error
    table["loss"] = ",".join(choice.terms)
    terms = term_errors(configurations, named.model, choice, epsilon, max_error, execution)
    weights = "" if choice.fit_input is None else choice.fit_input.path.name
    write_csv(table.assign(loss_weights=weights), out_dir / "reports" / "check.csv")
    if len(terms):
        write_csv(terms.assign(loss_weights=weights), out_dir / "reports" / "check_terms.csv")

    selected = " (selected by the proxy)" if epsilon == "auto" else ""
    lines.append(f"{len(checked.results)} measurable configurations, ε = {checked.epsilon:.3g}{selected}")
    gradient = f"|∇θL| ({units.gradient})"
    lines.append(f"  {'group':<14} {'Err[∇̃L]':<10} {units.proxy:<10} {gradient:<14} ≤ {max_error:.3g}")
    for row in table.itertuples():
        mark = "yes" if row.within_max_error else "NO"
        lines.append(f"  {row.group:<14} {row.err_grad:<10.3g} {row.err_loss:<10.3g} {row.grad_norm:<14.3g} {mark}")
    if len(terms):
        lines.append("  each term swept alone, all its measurable configurations, ε selected by its own proxy:")
        for row in terms.itertuples():
            mark = "yes" if row.within_max_error else "NO"
            lines.append(
                f"  {row.loss:<14} {row.err_grad:<10.3g} {row.err_loss:<10.3g} {row.grad_norm:<14.3g} {mark}"
                f"  (ε = {row.epsilon:.3g}, {row.n_configurations} configurations)"
            )
    return Summary(tuple(lines), verdict(table, max_error, verdict_on, terms))


#: The terms of a training loss that the central difference estimates (the energy term is first order: exact).
SECOND_ORDER_TERMS = ("forces", "stress")


@dataclass
class CheckedSweep:
    """A sweep's error table at the chosen ε (None when no configuration is measurable), and what it left out."""

    table: pd.DataFrame | None
    epsilon: float
    results: list
    left_out: list
    left_out_results: list


def sweep_at_epsilon(configurations, model, terms, fit_input, epsilon, execution: dict) -> CheckedSweep:
    """Sweep ``terms`` under ``fit_input`` (None: the paper's loss) and keep the rows of the ε checked: the one the
    proxy selects for ``epsilon="auto"``; the measurable configurations only."""
    spec = SweepSpec(
        models=(model,), epsilons=EPSILON_GRID if epsilon == "auto" else (epsilon,), loss=terms, fit_input=fit_input
    )
    results = run_sweep(configurations, spec, **execution)
    keep = measurable(results)
    kept = [r for r, k in zip(results, keep) if k]
    left_out = [c for c, k in zip(configurations, keep) if not k], [r for r, k in zip(results, keep) if not k]
    if not keep.any():
        return CheckedSweep(None, float("nan"), kept, *left_out)
    table = error_table([c for c, k in zip(configurations, keep) if k], kept, spec)
    chosen = best_epsilons(table).iloc[0]["selected_epsilon"] if epsilon == "auto" else epsilon
    return CheckedSweep(table[table["epsilon"] == chosen].reset_index(drop=True), chosen, kept, *left_out)


def term_errors(configurations, model, choice: LossChoice, epsilon, max_error: float, execution: dict) -> pd.DataFrame:
    """Err[∇̃L] of each second-order term of a training loss swept alone (its weights, all of the subset, the ε its
    own proxy selects), one row per term: a term of small share in ∇θL cannot hide its error in the whole loss's.
    Empty for the paper's loss and for a loss of one such term (the whole loss is then that term)."""
    alone = [term for term in choice.terms if term in SECOND_ORDER_TERMS]
    if choice.paper or choice.terms == tuple(alone[:1]):
        return pd.DataFrame()
    rows = []
    for term in alone:
        checked = sweep_at_epsilon(
            configurations, model, (term,), choice.fit_input, epsilon, {**execution, "run_log": None}
        )
        if checked.table is not None:
            rows.append(checked.table[checked.table["group"] == "all"].assign(loss=term))
    if not rows:
        return pd.DataFrame()
    return pd.concat(rows, ignore_index=True).assign(within_max_error=lambda t: t["err_grad"] <= max_error)


@dataclass(frozen=True)
class LossUnits:
    """How the summary names a loss: the proxy, and the units of ∇θL and the path speed g₀ (module docstring)."""

    paper: bool

    @property
    def proxy(self) -> str:
        return "Err[L̃]" if self.paper else "Err[D̃]"

    @property
    def gradient(self) -> str:
        return "eV/Å²" if self.paper else "1/eV"

    @property
    def speed(self) -> str:
        return "eV/Å" if self.paper else "Å/eV"

    def describe(self, choice: LossChoice) -> str:
        proxy = (
            "Err[L̃] (Eq. 14)"
            if self.paper
            else "Err[D̃] (D̃ the derivative of Ê along the path, from energies, against D = Σ g·f̂ + (∂L/∂σ̂):σ̂;"
            " not Eq. 14's L̃)"
        )
        units = "L in eV²/Å², ∇θL in eV/Å²" if self.paper else "L dimensionless, ∇θL in 1/eV"
        return f"{choice.describe()}; {units}; proxy {proxy}"


def verdict(table: pd.DataFrame, max_error: float, verdict_on: str, terms: pd.DataFrame | None = None) -> Verdict:
    """The verdict from the error table at the chosen ε (module docstring), naming what decided it and the worst group;
    under a training loss each second-order term swept alone (``terms``, :func:`term_errors`) must pass as well."""
    whole = table[table["group"] == "all"].iloc[0]
    groups = table[table["group"] != "all"]
    worst = groups.loc[groups["err_grad"].idxmax()] if len(groups) else whole
    if verdict_on == "worst-group":
        value, what = worst["err_grad"], f"Err[∇̃L] of the worst group, {worst['group']},"
    else:
        value, what = whole["err_grad"], f"Err[∇̃L] of all {whole['n_configurations']} measurable configurations"
    passed = bool(value <= max_error)
    reason = f"{what} {value:.3g} {'≤' if passed else '>'} {max_error:.3g} (--max-error)"
    above = groups[groups["err_grad"] > max_error]
    if verdict_on == "worst-group":
        reason += f"; all configurations {whole['err_grad']:.3g}"
    elif len(above):
        listed = ", ".join(f"{row.group} {row.err_grad:.3g}" for row in above.itertuples())
        reason += f"; groups above the bound, not deciding: {listed}"
    else:
        reason += f"; worst group {worst['group']} {worst['err_grad']:.3g}"
    if terms is None or not len(terms):
        return Verdict(passed, reason)
    failing = terms[~terms["within_max_error"]]
    if passed and len(failing):
        term = failing.loc[failing["err_grad"].idxmax()]
        return Verdict(
            False,
            f"Err[∇̃L] of the {term['loss']} term swept alone, {term['err_grad']:.3g} > {max_error:.3g} (--max-error), "
            f"over its {term['n_configurations']} measurable configurations; the whole loss's {value:.3g} hides it, "
            "the term's share of ∇θL being small",
        )
    alone = ", ".join(
        f"{row.loss} {row.err_grad:.3g}{'' if row.within_max_error else ' (above the bound)'}"
        for row in terms.itertuples()
    )
    return Verdict(passed and not len(failing), f"{reason}; each term alone: {alone}")


def not_measurable_lines(configurations: list, results: list, units: LossUnits) -> list[str]:
    """The configurations whose ∇θL is round-off, with their absolute figures, said to be left out."""
    if not configurations:
        return []
    why = (
        f"maxᵢ|gᵢ| < {ROUNDOFF_FORCE_ERROR:g} eV/Å, so ∇θL = A_fᵀg is round-off"
        if units.paper
        else "the path is zero or moves only by round-off force residuals (maxᵢ|f̂ᵢ − fᵢ| <"
        f" {ROUNDOFF_FORCE_ERROR:g} eV/Å), with no strain and no energy term, so ∇θL is zero or round-off"
    )
    lines = [
        f"  not measurable at this precision ({why}); left out of the relative errors: "
        f"{len(configurations)} configurations"
    ]
    speed = "max|g|" if units.paper else "path speed"
    for configuration, result in zip(configurations, results):
        loss = f"L {result.exact_loss[0]:.2g}" + (" eV²/Å²" if units.paper else "")  # a training loss: dimensionless
        lines.append(
            f"    {configuration.label:<28} {speed} {result.path_speed[0]:.2g} {units.speed}, {loss},"
            f" |∇θL| {np.linalg.norm(result.exact_gradient[0]):.2g} {units.gradient}"
        )
    return lines
