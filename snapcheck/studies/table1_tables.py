"""Table I's tables: per network, per setting (mean ± sample standard deviation, and the ensemble average), per group.

The paper (Sec. IV, Table I) reports, for networks trained to energies only
and to energies and forces, the held-out energy RMSE (meV/atom) and force
RMSE (eV/Å) as mean ± standard deviation over an ensemble.  Here each
setting's members are the :class:`~snapcheck.studies.ensemble.MemberResult`
of one setting; the ensemble-averaged prediction (the members' energies and
forces averaged) has its own RMSE beside the mean.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from snapcheck.studies.ensemble import MemberResult
from snapcheck.studies.training_metrics import Predictions

ENERGY, FORCE = "energy", "energy+force"
SETTING_TITLES = {ENERGY: "Training on energy data only", FORCE: "Training on energy and force data"}
QUANTITIES = {"energy": ("Energy RMSE", "meV/atom"), "force": ("Force RMSE", "eV/Å")}


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
    """One row per network: its test RMSEs, last loss, gradient check, epochs and training time."""
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
            parts = [m.predictions.part(groups == group, atoms == group) for m in members]
            energy, force = [p.energy_rmse for p in parts], [p.force_rmse for p in parts]
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
