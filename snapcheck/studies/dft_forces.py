"""How large the DFT forces of a dataset are, per group: what a force RMSE on it can be compared with.

Many of the Ta configurations are perfect or uniformly strained crystals
(the Elastic and Volume groups), whose forces vanish by symmetry: their DFT
forces are numerical noise.  :func:`dft_force_summary` gives, per group and
for ``all``, the largest |fᵢ| (meV/Å) and how many configurations have a force
above :data:`FORCE_THRESHOLD_MEV`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from snapcheck.data.configuration import Configuration

#: meV/Å: a DFT force below this is taken as zero in :func:`dft_force_summary`.
FORCE_THRESHOLD_MEV = 2.0


def dft_force_summary(configurations: Sequence[Configuration]) -> pd.DataFrame:
    """Per group and for ``all``: configurations, largest DFT force |fᵢ| (meV/Å), how many have one above 2 meV/Å."""
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
