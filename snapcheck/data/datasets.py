"""Reading a dataset's configurations, chosen before they are read where they can be.

:func:`load_configurations` resolves ``--data`` (:mod:`snapcheck.data.locations`:
a registered name, a folder or one extxyz file), lists the configuration files
in load order (group, then name; extxyz frames in file order) and reads them:
FitSNAP JSON (:mod:`snapcheck.data.fitsnap_json`) or extended XYZ
(:mod:`snapcheck.data.extxyz`).  A subset of ``count`` configurations,
stratified by group, is chosen from the files before any is read where every
file holds one configuration; a verified dataset's files are parsed once per
process.  The registry, the manifests, the downloads and the resolution live in
:mod:`snapcheck.data.dataset_registry`, :mod:`snapcheck.data.checksums`,
:mod:`snapcheck.data.downloads` and :mod:`snapcheck.data.locations`; the names
callers use most are importable from here too.
"""

from __future__ import annotations

from collections.abc import Collection
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

from snapcheck.base.errors import InputError
from snapcheck.data.configuration import Configuration
from snapcheck.data.dataset_registry import DATASETS
from snapcheck.data.extxyz import EXTXYZ_SUFFIXES, extxyz_files, read_extxyz
from snapcheck.data.fitsnap_json import read_fitsnap_json
from snapcheck.data.locations import Dataset, resolve_dataset
from snapcheck.data.locations import resolve_dataset_root as resolve_dataset_root
from snapcheck.data.selection import AtMost, stratified_subset


def json_files(root: Path) -> list[Path]:
    """All ``*.json`` files of a dataset, sorted by group and then by name."""
    folder = root / "JSON" if (root / "JSON").is_dir() else root
    files = sorted(folder.glob("*/*.json"))
    if not files:
        raise InputError(f"{folder}: no FitSNAP JSON files found under <group>/*.json")
    return files


class _File(NamedTuple):
    """One configuration file before it is read: what :func:`stratified_subset` needs to choose it."""

    group: str
    path: Path


def _configuration_files(dataset: Dataset, leave_out: frozenset[str], groups: Collection[str] | None) -> list[_File]:
    """The dataset's files in load order (group, then name), with their groups, before any is parsed."""
    if dataset.scraper == "xyz":
        folder = dataset.configurations
        paths = [folder] if folder.is_file() else extxyz_files(folder)
        if not paths:
            raise InputError(f"{dataset.configurations}: no extended XYZ files (*.xyz, *.extxyz)")
        files = [_File(path.stem, path) for path in paths]
    else:
        files = [
            _File(path.parent.name, path)
            for path in json_files(dataset.configurations)
            if f"JSON/{path.parent.name}/{path.name}" not in leave_out
        ]
    if groups is not None:
        unknown = sorted(set(groups) - {f.group for f in files})
        if unknown:
            raise InputError(f"{dataset.configurations}: no group {', '.join(unknown)} in the dataset")
        files = [f for f in files if f.group in groups]
    return files


def _read(file: _File, verified: bool) -> list[Configuration]:
    """One file's configurations; a verified dataset's files are parsed once per process (they are pinned)."""
    if verified:
        stat = file.path.stat()
        return list(_read_pinned(file.path, stat.st_mtime_ns, stat.st_size))
    return _parse(file.path)


def _parse(path: Path) -> list[Configuration]:
    return read_extxyz(path) if path.suffix in EXTXYZ_SUFFIXES else read_fitsnap_json(path)


@lru_cache(maxsize=8192)
def _read_pinned(path: Path, mtime_ns: int, size: int) -> tuple[Configuration, ...]:
    """The configurations of a file checked against its manifest (immutable: read-only arrays)."""
    return tuple(_parse(path))


def read_configurations(
    dataset: Dataset,
    leave_out: frozenset[str] = frozenset(),
    *,
    groups: Collection[str] | None = None,
    count: int | AtMost | None = None,
) -> list[Configuration]:
    """The configurations of a resolved dataset, by group and then file name (JSON) or frame (extxyz).

    ``groups`` keeps only those groups; ``count`` keeps that many, stratified
    by group (:func:`~snapcheck.data.selection.stratified_subset`), and gives
    exactly ``stratified_subset(read_configurations(dataset), count)``.  Where
    every file holds one configuration (FitSNAP JSON as distributed), the files
    are chosen before any is read, so a subset of InP's 1894 costs only its own
    files; otherwise everything is read and then chosen.
    """
    files = _configuration_files(dataset, leave_out, groups)
    if count is not None and dataset.scraper == "json" and (isinstance(count, AtMost) or count <= len(files)):
        chosen = [_read(file, dataset.verified) for file in stratified_subset(files, count)]
        if all(len(read) == 1 for read in chosen):
            return [read[0] for read in chosen]
    configurations = [configuration for file in files for configuration in _read(file, dataset.verified)]
    return configurations if count is None else stratified_subset(configurations, count)


def load_configurations(
    data: str | Path | None = None,
    subset: str | None = None,
    *,
    groups: Collection[str] | None = None,
    count: int | AtMost | None = None,
) -> list[Configuration]:
    """Load a dataset: every configuration, sorted by group and file name.

    ``subset`` ``ta-jcp2014-362`` leaves out the one file the paper does not
    count; by default it follows ``data`` when that is that name.  ``groups``
    and ``count`` choose before reading where they can (:func:`read_configurations`):
    ``load_configurations(data, count=N)`` equals
    ``stratified_subset(load_configurations(data), N)``.
    """
    if subset is not None and subset not in DATASETS:
        raise InputError(f"unknown dataset {subset!r}; choose one of {', '.join(DATASETS)}")
    name = subset or (str(data) if str(data) in DATASETS else None)
    leave_out = DATASETS[name].leave_out if name else frozenset()
    return read_configurations(resolve_dataset(data), leave_out, groups=groups, count=count)
