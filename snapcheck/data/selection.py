"""Subsets of a dataset that keep every group represented.

A check on a few configurations must still see every kind of structure the
dataset holds (crystals, surfaces, liquids …), so subsets are stratified by
group: the groups take turns, and within a group the picks are evenly spaced.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar

import numpy as np

from snapcheck.base.errors import InputError


class Grouped(Protocol):
    """Anything that belongs to a group: a :class:`~snapcheck.data.configuration.Configuration`, or a file of one."""

    @property
    def group(self) -> str: ...


Item = TypeVar("Item", bound=Grouped)


def group_indices(configurations: Sequence[Grouped]) -> dict[str, list[int]]:
    """Group name → indices of its configurations, groups in order of first appearance."""
    groups: dict[str, list[int]] = {}
    for index, configuration in enumerate(configurations):
        groups.setdefault(configuration.group, []).append(index)
    return groups


@dataclass(frozen=True)
class AtMost:
    """A subset size that is a default, not a demand: ``count`` configurations, or all of a smaller dataset."""

    count: int

    def __str__(self) -> str:
        return f"{self.count} (or all, if fewer)"


def subset_size(count: int | AtMost | None, available: int, flag: str = "--configs") -> int:
    """How many of ``available`` configurations ``count`` asks for; too many is an InputError naming ``flag``."""
    if count is None:
        return available
    if isinstance(count, AtMost):
        return min(count.count, available)
    if count > available:
        raise InputError(f"{flag} {count}: the dataset holds only {available} configurations")
    return count


def stratified_subset(configurations: list[Item], count: int | AtMost | None, *, flag: str = "--configs") -> list[Item]:
    """``count`` configurations stratified by group, in dataset order; all of them if ``count`` is None.

    Every group is represented once ``count`` reaches the number of groups.
    Asking for more configurations than the dataset holds is an
    :class:`~snapcheck.base.errors.InputError` that names ``flag``, unless
    ``count`` is :class:`AtMost` (a default), which then takes them all.
    """
    count = subset_size(count, len(configurations), flag)
    if count == len(configurations):
        return configurations
    groups = group_indices(configurations)
    quota = dict.fromkeys(groups, 0)
    while sum(quota.values()) < count:
        for group, members in groups.items():
            if quota[group] < len(members) and sum(quota.values()) < count:
                quota[group] += 1
    chosen: list[int] = []
    for group, members in groups.items():
        positions = np.linspace(0, len(members) - 1, quota[group]).round().astype(int)
        chosen.extend(members[p] for p in positions)
    return [configurations[i] for i in sorted(chosen)]
