"""Eqs. 11 and 14 over the results of an ε sweep (:mod:`snapcheck.studies.sweep`): error tables and best ε.

Err[∇̃L] (Eq. 11) is the L2 norm of ∇̃θL − ∇θL over all θ components and all configurations together,
divided by that of ∇θL; Err[L̃] (Eq. 14) the same for the proxy's estimate (L̃ for the paper's loss, D̃ for
a training loss).  :func:`error_table` forms them for the whole dataset and per group from the stacked
per-configuration values; :func:`best_epsilons` reads off each curve's minimum and the ε each rule of
:mod:`snapcheck.gradients.epsilon` selects from the proxy alone.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from snapcheck.data.configuration import Configuration
from snapcheck.data.selection import group_indices
from snapcheck.gradients.epsilon import DEFAULT_RULE, RULES, choose_epsilon
from snapcheck.studies.sweep import ConfigurationSweep, SweepSpec


def measurable(results: list[ConfigurationSweep], m: int = 0) -> np.ndarray:
    """True for configurations whose ∇θL is measurable at float64 precision
    (:func:`snapcheck.studies.sweep.roundoff_gradient`).

    For the paper's force loss: maxᵢ|gᵢ| ≥ :data:`snapcheck.studies.sweep.ROUNDOFF_FORCE_ERROR`.  Where g is
    round-off, so is the exact ∇θL = A_fᵀg (|∇θL| ≈ 1e-26 eV/Å², L ≈ 1e-20 eV²/Å² for the Volume groups):
    its relative error compares round-off with round-off and can read 1e5.  A training loss with a stress or
    energy term makes those configurations measurable.
    """
    return np.array([not r.roundoff[m] for r in results], dtype=bool)


def relative_errors(
    exact_gradient: np.ndarray, gradient_estimates: np.ndarray, proxy_exact: np.ndarray, proxy_estimates: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Err[∇̃L] (Eq. 11) and the proxy's error (Eq. 14's Err[L̃], or Err[D̃]) over the configurations of axis 0.

    ``exact_gradient`` (M, P) and ``gradient_estimates`` (M, …, P); ``proxy_exact`` (M,) and ``proxy_estimates``
    (M, …): the errors are shaped (…), one per g₀ rule, precision, ε, whatever the middle axes are."""
    middle = (1,) * (gradient_estimates.ndim - 2)
    difference = gradient_estimates - exact_gradient.reshape(exact_gradient.shape[0], *middle, -1)
    err_grad = np.sqrt(np.sum(difference**2, axis=(0, -1))) / np.linalg.norm(exact_gradient)
    proxy_difference = proxy_estimates - proxy_exact.reshape(-1, *middle)
    err_loss = np.sqrt(np.sum(proxy_difference**2, axis=0)) / np.linalg.norm(proxy_exact)
    return err_grad, err_loss


def _errors(results: list[ConfigurationSweep], m: int) -> tuple[np.ndarray, np.ndarray]:
    """Eqs. 11 and 14 over the given configurations, shaped (n_g0, n_precisions, n_ε)."""
    return relative_errors(
        np.stack([r.exact_gradient[m] for r in results]),  # (M, P)
        np.stack([r.gradient_estimates[m] for r in results]),  # (M, G, Q, E, P)
        np.array([r.proxy_exact[m] for r in results]),  # (M,)
        np.stack([r.loss_estimates[m] for r in results]),  # (M, G, Q, E)
    )


def g0_label(rule: str | float) -> tuple[str, float]:
    """(g0_mode, g0 in the path speed's unit or NaN) for a table row."""
    return ("max", float("nan")) if rule == "max" else ("fixed", float(rule))


def g0_column(spec: SweepSpec) -> str:
    """The column of a fixed g₀, named by its unit, the path speed's: eV/Å, or Å/eV for a training loss."""
    return "g0_eV_per_A" if spec.paper else "g0_A_per_eV"


def error_table(
    configurations: list[Configuration], results: list[ConfigurationSweep], spec: SweepSpec
) -> pd.DataFrame:
    """A tidy table: one row per model, g₀ rule, precision, ε and group.

    ``group`` is ``all`` for the whole dataset (the paper's numbers) or a group
    name.  Columns ``err_grad`` (Eq. 11) and ``err_loss`` (the proxy's error: Err[L̃] of Eq. 14 for the
    paper's loss, Err[D̃] for a training loss) are dimensionless; ``grad_norm`` is |∇θL| over the rows'
    configurations in eV/Å² (1/eV for a training loss; where it is at round-off level, as for perfect
    crystals with zero DFT forces under the paper's loss, a relative error means nothing); ``n_zero_g``
    counts configurations whose path is zero exactly; the fixed g₀ is in :func:`g0_column`.
    """
    groups = {"all": list(range(len(configurations))), **group_indices(configurations)}
    rows = []
    for group, indices in groups.items():
        subset = [results[i] for i in indices]
        for m, model in enumerate(spec.models):
            err_grad, err_loss = _errors(subset, m)
            n_zero = int(sum(r.zero_errors[m] for r in subset))
            grad_norm = float(np.linalg.norm([r.exact_gradient[m] for r in subset]))
            for r, rule in enumerate(spec.g0_rules):
                mode, g0_value = g0_label(rule)
                for p, precision in enumerate(spec.precisions):
                    for e, epsilon in enumerate(spec.epsilons):
                        rows.append(
                            {
                                "model": model.name,
                                "g0_mode": mode,
                                g0_column(spec): g0_value,
                                "precision": precision,
                                "epsilon": epsilon,
                                "group": group,
                                "err_grad": err_grad[r, p, e],
                                "err_loss": err_loss[r, p, e],
                                "grad_norm": grad_norm,
                                "n_configurations": len(indices),
                                "n_zero_g": n_zero,
                            }
                        )
    return pd.DataFrame(rows)


def best_epsilons(table: pd.DataFrame, rule: str = DEFAULT_RULE) -> pd.DataFrame:
    """Per model, g₀ rule and precision (whole dataset): the ε of each minimum, and the ε each rule reads off the proxy.

    Columns: ``best_epsilon_grad``/``min_err_grad`` (the true optimum, from the exact gradient),
    ``best_epsilon_loss``/``min_err_loss`` (the smallest proxy Err[L̃]); for every rule of
    :data:`~snapcheck.gradients.epsilon.RULES` the ε it picks from the Err[L̃] curve, ``epsilon_<rule>``, and
    the true error there, ``err_grad_<rule>``; and ``selected_epsilon``/``err_grad_selected``, those of ``rule``
    (what ``check`` uses).  A curve with no step taken at any ε (NaN,
    :func:`snapcheck.studies.sweep.sweep_configuration`) gets NaN."""
    whole = table[table["group"] == "all"]
    columns = ["best_epsilon_grad", "min_err_grad", "best_epsilon_loss", "min_err_loss", "selected_epsilon"]
    columns += ["err_grad_selected", *(f"{prefix}_{name}" for name in RULES for prefix in ("epsilon", "err_grad"))]
    rows = []
    for key, curve in whole.groupby(["model", "g0_mode", "precision"], sort=False):
        curve = curve.dropna(subset=["err_grad"])
        if curve.empty:
            rows.append(dict(zip(["model", "g0_mode", "precision"], key), **dict.fromkeys(columns, np.nan)))
            continue
        by_grad = curve.loc[curve["err_grad"].idxmin()]
        by_loss = curve.loc[curve["err_loss"].idxmin()]
        row = dict(
            zip(["model", "g0_mode", "precision"], key),
            best_epsilon_grad=by_grad["epsilon"],
            min_err_grad=by_grad["err_grad"],
            best_epsilon_loss=by_loss["epsilon"],
            min_err_loss=by_loss["err_loss"],
        )
        err_grad = dict(zip(curve["epsilon"], curve["err_grad"]))
        for name in RULES:
            chosen, _ = choose_epsilon(dict(zip(curve["epsilon"], curve["err_loss"])), name)
            row[f"epsilon_{name}"], row[f"err_grad_{name}"] = chosen, err_grad[chosen]
        row["selected_epsilon"], row["err_grad_selected"] = row[f"epsilon_{rule}"], row[f"err_grad_{rule}"]
        rows.append(row)
    return pd.DataFrame(rows)
