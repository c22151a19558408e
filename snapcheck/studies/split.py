"""The train/test split of Table I: stratified by group, seeded.

Within every group a fixed fraction (rounded, at least one configuration for
groups of two or more) goes to the test set, chosen by
``numpy.random.default_rng(seed)``; a group of one configuration trains.  So
every kind of structure is tested, and the split is the same for the same seed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from snapcheck.base.errors import InputError
from snapcheck.data.configuration import Configuration
from snapcheck.data.selection import group_indices


@dataclass(frozen=True)
class Split:
    """Indices into the dataset's configuration list."""

    train: tuple[int, ...]
    test: tuple[int, ...]

    def table(self, configurations: Sequence[Configuration]) -> pd.DataFrame:
        """Configurations and atoms per group in each set.

        Columns ``group``, ``train``, ``test``, ``train_atoms``, ``test_atoms``.
        """
        rows = {}
        for name, indices in (("train", self.train), ("test", self.test)):
            for index in indices:
                row = rows.setdefault(
                    configurations[index].group, dict.fromkeys(("train", "test", "train_atoms", "test_atoms"), 0)
                )
                row[name] += 1
                row[f"{name}_atoms"] += configurations[index].n_atoms
        return pd.DataFrame([{"group": group, **counts} for group, counts in rows.items()])


def split_by_group(configurations: Sequence[Configuration], test_fraction: float, seed: int) -> Split:
    """A train/test split stratified by group (module docstring); ``test_fraction`` in (0, 1)."""
    if not 0 < test_fraction < 1:
        raise InputError(f"--test-fraction {test_fraction}: the held-out fraction must be between 0 and 1 (exclusive)")
    rng = np.random.default_rng(seed)
    train, test = [], []
    for members in group_indices(configurations).values():
        n_test = max(1, round(test_fraction * len(members))) if len(members) > 1 else 0
        shuffled = rng.permutation(members)
        test += shuffled[:n_test].tolist()
        train += shuffled[n_test:].tolist()
    return Split(tuple(sorted(train)), tuple(sorted(test)))
