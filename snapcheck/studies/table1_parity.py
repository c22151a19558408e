"""Table I's parity plot: predicted against DFT force components on the test set, ensemble-averaged, per setting."""

from __future__ import annotations

from pathlib import Path

import matplotlib
import numpy as np

from snapcheck.base.files import save_figure
from snapcheck.studies.ensemble import MemberResult
from snapcheck.studies.plots import in_default_style
from snapcheck.studies.table1_tables import ENERGY, SETTING_TITLES, by_setting, ensemble_predictions

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


@in_default_style
def parity_figure(results: list[MemberResult]):
    """One panel per setting, both axes in eV/Å and equal, the diagonal drawn; the caller closes the figure."""
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


def write_parity_figure(results: list[MemberResult], path: str | Path) -> Path:
    """:func:`parity_figure`, saved atomically and closed."""
    figure = parity_figure(results)
    try:
        return save_figure(figure, path)
    finally:
        plt.close(figure)
