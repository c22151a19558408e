"""Writing a golden reference file from a dataset and a named model, and the summary of a comparison with one.

What ``oracle export`` and ``oracle compare`` run: :func:`export_golden` loads
the model by registry name and the configurations, builds the exact answers
(:func:`snapcheck.studies.golden.build_reference`) and writes the ``.npz``;
:func:`compare_golden` compares a candidate with a reference
(:func:`snapcheck.studies.golden_compare.compare`), writes the table and states the
verdict: the candidate passes when Eq. 11's error of ∇θL and Eq. 14's of L,
over every configuration it covers, are both at most ``rtol``.
"""

from __future__ import annotations

from pathlib import Path

from snapcheck.base.files import write_csv
from snapcheck.base.report import Summary, Verdict
from snapcheck.data.datasets import load_configurations
from snapcheck.data.selection import AtMost
from snapcheck.models.registry import ModelRequest, load_model
from snapcheck.runtime.flag_types import DATASET_LOSS
from snapcheck.studies.golden import build_reference, write_npz
from snapcheck.studies.golden_compare import compare
from snapcheck.studies.loss_choice import choose_loss
from snapcheck.studies.sweep import PAPER_LOSS, ROUNDOFF_FORCE_ERROR


def export_golden(
    *,
    data: str | Path | None,
    model: str,
    seed: int,
    fit_input: Path | None,
    snapparam: Path | None,
    configs: int | AtMost | None,
    out: Path,
    execution: dict,
) -> Summary:
    """Write the exact answers of ``model`` on the dataset to ``out`` (the format of :mod:`snapcheck.studies.golden`):
    the paper's force loss and, when the data has a FitSNAP input (``fit_input``, else the dataset's), every term
    of its training loss under its weights."""
    named = load_model(model, ModelRequest(seed, data, fit_input), snapparam)
    configurations = load_configurations(data, count=configs)
    loss = choose_loss(DATASET_LOSS, data=data, fit_input=fit_input, configurations=configurations)
    arrays = build_reference(named.model, configurations, named.files, loss=loss, **execution)
    path = write_npz(arrays, out)
    training = "no FitSNAP input, so no training loss" if loss.paper else f"and each term of {loss.describe()}"
    return Summary(
        (
            f"wrote {path}: model {named.model.name}, {len(configurations)} configurations,"
            f" {arrays['theta'].size} parameters",
            f"  P̂ (bar), the exact L and ∇θL of the paper's force loss, {training}",
        )
    )


def compare_golden(
    reference: Path, candidate: Path, *, loss: tuple[str, ...] | str, rtol: float, out_dir: Path
) -> Summary:
    """Compare ``candidate``, of the loss ``loss`` names, with ``reference``: errors overall, by group, the worst
    configurations, the likely bug."""
    comparison = compare(reference, candidate, loss)
    table, likely = comparison.table, comparison.likely
    write_csv(table, out_dir / "reports" / "oracle_compare.csv")
    overall = table.iloc[0]
    configurations = table[table["level"] == "configuration"]
    lines = [
        f"{candidate} against {reference}: {len(configurations)} configurations, {comparison.loss}",
        f"  all: Err[∇θL] = {overall['gradient_error']:.3g}, Err[L] = {overall['loss_error']:.3g} "
        f"(tolerance {rtol:.3g})",
    ]
    if comparison.term_shares:
        shares = ", ".join(f"{term} {share:.3g}" for term, share in comparison.term_shares.items())
        lines.append(
            f"  each term's share of the exact ∇θL, |∇θL_term|/|∇θL|: {shares} (an error in one term shows in"
            " Err[∇θL] as its share times the term's own error: compare a small term on its own with --loss TERM)"
        )
    lines.append("  share of the error by group:")
    for row in table[table["level"] == "group"].itertuples():
        lines.append(f"    {row.group:<14} ∇θL {row.gradient_error:<10.3g} L {row.loss_error:.3g}")
    worst = configurations[configurations["measurable"].astype(bool)].nlargest(5, "gradient_relative_error")
    lines.append("  worst configurations, by their own relative error |Δ|/|exact|:")
    for row in worst.itertuples():
        lines.append(f"    {row.name:<40} ∇θL {row.gradient_relative_error:<10.3g} L {row.loss_relative_error:.3g}")
    unmeasurable = configurations[~configurations["measurable"].astype(bool)]
    if len(unmeasurable):
        others = "" if comparison.terms == PAPER_LOSS else " and no other term of nonzero loss"
        lines.append(
            f"  {len(unmeasurable)} configurations have round-off force errors "
            f"(maxᵢ|gᵢ| < {ROUNDOFF_FORCE_ERROR:g} eV/Å)"
            f"{others}: their exact L and ∇θL are round-off, so no relative error of their own is shown"
        )
    if likely:
        lines.append(f"  likely bug: {likely}")
    passed = bool(overall["gradient_error"] <= rtol and overall["loss_error"] <= rtol)
    reason = (
        f"Err[∇θL] = {overall['gradient_error']:.3g} and Err[L] = {overall['loss_error']:.3g}"
        f" {'both ≤' if passed else 'not both ≤'} {rtol:.3g} (--rtol)"
    )
    if len(worst):
        top = worst.iloc[0]
        reason += f"; worst configuration {top['name']} (∇θL {top['gradient_relative_error']:.3g})"
    return Summary(tuple(lines), Verdict(passed, reason))
