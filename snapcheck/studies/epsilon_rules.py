"""Which ε rule picks the better ε: each rule against the true optimum, on the whole set and on small subsets.

The paper chooses ε by the proxy Err[L̃] (Eq. 14), which needs no exact gradient (for a training
loss the proxy is Err[D̃], the derivative of Ê along the path, :mod:`snapcheck.studies.sweep`).
:func:`snapcheck.gradients.epsilon.choose_epsilon` reads ε off the proxy's curve
by one of :data:`~snapcheck.gradients.epsilon.RULES`.  On a sweep, where the
exact ∇θL of every configuration is known, the quality of a rule is measurable:
the true error Err[∇̃L] (Eq. 11) at the ε it picks, divided by the smallest
Err[∇̃L] over the grid (1 is the best a rule can do).

A check rarely sees a whole dataset: ``check`` takes 24 configurations by
default, a trainer's test a handful.  On a few configurations the proxy curve
is noisier than on hundreds, so :func:`rule_table` also draws seeded random
subsets of the measurable configurations (sizes ``subset_sizes``, ``draws`` of
each) and reports, per rule, the median and 90th percentile of the ratio and
the fraction of subsets where it stays within 2× of the optimum.

A model with no measurable configuration (every force error round-off, as on perfect crystals alone) has no
rows: no ε rule can be judged against an exact ∇θL that is itself round-off (:func:`unjudged_models`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from snapcheck.gradients.epsilon import RULES, choose_epsilon
from snapcheck.studies.sweep import ConfigurationSweep, SweepSpec
from snapcheck.studies.sweep_errors import g0_column, g0_label, measurable, relative_errors


def _ratios(exact_g, estimates, exact_l, loss_estimates, epsilons, rule) -> float:
    """Err[∇̃L] at the ε ``rule`` picks from the proxy's error, over the smallest Err[∇̃L] on the grid."""
    err_grad, err_loss = relative_errors(exact_g, estimates, exact_l, loss_estimates)
    chosen, _ = choose_epsilon(dict(zip(epsilons, err_loss)), rule)
    return float(err_grad[list(epsilons).index(chosen)] / np.nanmin(err_grad))  # NaN: a step not taken


def rule_table(
    results: list[ConfigurationSweep],
    spec: SweepSpec,
    *,
    subset_sizes: tuple[int, ...] = (3, 24),
    draws: int = 200,
    seed: int = 0,
) -> pd.DataFrame:
    """One row per model, g₀ rule, precision, subset size (``all``, or n) and ε rule (module docstring); none for
    the :func:`unjudged_models`."""
    columns = ["model", "g0_mode", g0_column(spec), "precision", "subset_size", "rule", "n_subsets"]
    columns += ["median_ratio", "p90_ratio", "within_2x"]
    rows = []
    for m, model in enumerate(spec.models):
        keep = np.flatnonzero(measurable(results, m))
        if not len(keep):
            continue
        exact_g = np.stack([results[k].exact_gradient[m] for k in keep])
        exact_l = np.array([results[k].proxy_exact[m] for k in keep])
        for r, g0_rule in enumerate(spec.g0_rules):
            for p, precision in enumerate(spec.precisions):
                estimates = np.stack([results[k].gradient_estimates[m, r, p] for k in keep])  # (M, E, P)
                losses = np.stack([results[k].loss_estimates[m, r, p] for k in keep])  # (M, E)
                rng = np.random.default_rng(seed)
                subsets = {"all": [np.arange(len(keep))]}
                for size in subset_sizes:
                    if size < len(keep):
                        subsets[str(size)] = [rng.choice(len(keep), size, replace=False) for _ in range(draws)]
                mode, g0_value = g0_label(g0_rule)
                for label, chosen in subsets.items():
                    for rule in RULES:
                        ratios = np.array(
                            [
                                _ratios(exact_g[s], estimates[s], exact_l[s], losses[s], spec.epsilons, rule)
                                for s in chosen
                            ]
                        )
                        rows.append(
                            {
                                "model": model.name,
                                "g0_mode": mode,
                                g0_column(spec): g0_value,
                                "precision": precision,
                                "subset_size": label,
                                "rule": rule,
                                "n_subsets": len(chosen),
                                "median_ratio": float(np.median(ratios)),
                                "p90_ratio": float(np.quantile(ratios, 0.9)),
                                "within_2x": float(np.mean(ratios <= 2.0)),
                            }
                        )
    return pd.DataFrame(rows, columns=columns)


def unjudged_models(results: list[ConfigurationSweep], spec: SweepSpec) -> list[str]:
    """The models of ``spec`` with no measurable configuration in ``results``: :func:`rule_table` has no row of them."""
    return [model.name for m, model in enumerate(spec.models) if not measurable(results, m).any()]
