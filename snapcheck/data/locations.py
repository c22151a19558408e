"""Where a dataset's files are: what ``--data`` names, found, verified and described.

Where a dataset named NAME comes from, in this order (each copy verified
against the manifest on every load):

1. ``$SNAPCHECK_DATASETS/<folder>/``, a folder of local copies (``ta_jcp2014``,
   ``ta_xyz``, ``inp_jpca2020``, ``ta_quadratic_jcp2018``), if it holds one;
2. the cache ``$SNAPCHECK_CACHE/<NAME>`` (default ``~/.cache/snapcheck/<NAME>``),
   filled by :func:`snapcheck.data.downloads.fetch` with pooch from
   ``$SNAPCHECK_DOWNLOAD_URL/<commit>/examples/<folder>/…`` (default
   ``https://raw.githubusercontent.com/FitSNAP/FitSNAP``); pooch hashes every
   cached file on every load and downloads the ones missing or wrong.

The names ``ta-jcp2014`` and ``ta-jcp2014-362`` (and no ``--data`` at all)
first look at ``$SNAPCHECK_DATA``, a folder holding the Ta data (what CI
sets).  ``--data DIR`` takes a folder instead: a copy of one of the datasets
(recognised by the SHA-256 of its FitSNAP input, so its settings and stored
fit are used), any folder with a FitSNAP input, or a plain folder of
``<group>/*.json`` or ``*.xyz`` files (then the models are Ta06A's); ``--data
FILE.xyz`` takes one extended XYZ file (one group, the file's stem).  A name
that is neither gets the closest registered name suggested (``ta_xyz``, the
local folder's name, suggests ``ta-xyz``).

:func:`dataset_source` says where a registered dataset would be read from now,
without reading anything (``datasets list``); :func:`make_available` verifies
a local copy or downloads into the cache (``datasets fetch``).
"""

from __future__ import annotations

import difflib
import os
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from snapcheck.base.errors import InputError
from snapcheck.base.report import Summary
from snapcheck.data.checksums import read_manifest, sha256_of, verify
from snapcheck.data.dataset_registry import (
    DATASET_NAME,
    DATASETS,
    FITSNAP_COMMIT,
    PAPER_SET_NAME,
    DatasetSpec,
    spec_of,
)
from snapcheck.data.downloads import DOWNLOAD_BASE, cache_dir, fetch
from snapcheck.data.extxyz import EXTXYZ_SUFFIXES, extxyz_files
from snapcheck.data.fitsnap_input import FitInput, read_fitsnap_input


@dataclass(frozen=True)
class Dataset:
    """A resolved dataset: where its files are and what it is.

    Attributes:
        root: the folder holding the dataset's own files.
        spec: the registered dataset it is a copy of, or None for an unregistered folder.
        fit_input: its FitSNAP input, or None (a plain folder of configurations).
        configurations: the folder of ``<group>/*.json`` or of ``*.xyz`` files, or one extxyz file.
        scraper: ``json`` or ``xyz``.
        verified: its files were checked against the manifest in this process (a registered name).
    """

    root: Path
    spec: DatasetSpec | None
    fit_input: Path | None
    configurations: Path
    scraper: str
    verified: bool = False

    @property
    def name(self) -> str:
        return self.spec.name if self.spec else str(self.root)

    @property
    def reference_fit(self) -> Path | None:
        """The stored fit's folder, if the dataset has one."""
        if self.spec is None:
            return None
        folder = self.root / self.spec.reference_fit[0]
        return folder if folder.is_dir() else None

    def stored_potential(self) -> tuple[Path, Path]:
        """The stored fit's ``.snapcoeff`` and ``.snapparam``."""
        if self.spec is None:
            raise InputError(f"{self.root}: a folder that is not a registered dataset has no stored fit")
        folder = self.reference_fit
        if folder is None:
            raise InputError(f"{self.root}: no stored fit; this dataset has no {self.spec.reference_fit[0]}/")
        return folder / f"{self.spec.potential}.snapcoeff", folder / f"{self.spec.potential}.snapparam"

    def read_fit_input(self) -> FitInput:
        if self.fit_input is None:
            raise InputError(f"{self.root}: no FitSNAP input (*.in) in the dataset folder; pass --fit-input FILE.in")
        return read_fitsnap_input(self.fit_input)


def _local_copy(spec: DatasetSpec) -> Path | None:
    folder = os.environ.get("SNAPCHECK_DATASETS")
    if folder and (Path(folder) / spec.local_folder).is_dir():
        return Path(folder) / spec.local_folder
    return None


def _named_root(name: str) -> Path:
    """The verified root of a registered dataset (local copy or cache), once per process and setting."""
    variables = ("SNAPCHECK_DATASETS", "SNAPCHECK_CACHE", "SNAPCHECK_DOWNLOAD_URL")
    return _verified_root(name, *(os.environ.get(v) for v in variables))


@cache
def _verified_root(name: str, *environment: str | None) -> Path:
    """:func:`make_available`'s root, cached by the environment that decides where it is."""
    return make_available(name)[0]


def dataset_source(name: str) -> str:
    """Where ``--data NAME`` would be read from now (module docstring), found without reading or verifying anything."""
    spec = spec_of(name)
    from_environment = os.environ.get("SNAPCHECK_DATA")
    if from_environment and name in (DATASET_NAME, PAPER_SET_NAME):
        return f"$SNAPCHECK_DATA = {from_environment}"
    local = _local_copy(spec)
    if local is not None:
        return f"a local copy under $SNAPCHECK_DATASETS, {local}"
    root = cache_dir(name)
    entries = read_manifest(spec.manifest_path)
    present = sum((root / entry.path).is_file() for entry in entries)
    if present == len(entries):
        return f"the cache {root}"
    base = os.environ.get("SNAPCHECK_DOWNLOAD_URL") or DOWNLOAD_BASE
    return f"download from {base} into the cache {root} ({present} of {len(entries)} files there)"


def make_available(name: str) -> tuple[Path, str]:
    """The verified root of a registered dataset, downloaded into the cache unless a local copy exists; and which."""
    spec = spec_of(name)
    local = _local_copy(spec)
    if local is not None:
        verify(local, spec.manifest_path)
        return local, "the local copy in $SNAPCHECK_DATASETS"
    return fetch(name), "the cache"


def list_datasets() -> Summary:
    """Every registered dataset: name, FitSNAP folder, file count, what it is, and where it would be read from."""
    lines = [f"FitSNAP commit {FITSNAP_COMMIT}"]
    for spec in DATASETS.values():
        files = len(read_manifest(spec.manifest_path))
        lines.append(f"{spec.name:22s} {spec.folder:34s} {files:5d} files  {spec.description}")
        lines.append(f"{'':22s} source: {dataset_source(spec.name)}")
    return Summary(tuple(lines))


def fetch_dataset(name: str) -> Summary:
    """Make dataset ``name`` available (:func:`make_available`) and say where its verified files are."""
    root, where = make_available(name)
    files = len(read_manifest(spec_of(name).manifest_path))
    return Summary((f"{name}: {files} files verified in {root} ({where})",))


def _identify(folder: Path) -> tuple[DatasetSpec | None, Path | None]:
    """Which registered dataset a folder is a copy of, by the SHA-256 of its FitSNAP input."""
    inputs = sorted(folder.glob("*.in"))
    for path in inputs:
        digest = sha256_of(path)
        for spec in DATASETS.values():
            if spec.fit_input == path.name and spec.name != PAPER_SET_NAME:
                if any(e.path == path.name and e.sha256 == digest for e in read_manifest(spec.manifest_path)):
                    return spec, path
    return None, inputs[0] if len(inputs) == 1 else None


def _configurations_folder(root: Path, fit_input: FitInput | None) -> tuple[Path, str]:
    """Where a dataset's configurations are: its input's dataPath, else ``JSON/``, ``XYZ/`` or the folder itself."""
    if fit_input is not None and fit_input.data_path:
        relative = fit_input.data_path
        if relative.startswith("../"):  # another FitSNAP example, e.g. ../Ta_Linear_JCP2014/JSON
            sibling, _, rest = relative[3:].partition("/")
            others = [s for s in DATASETS.values() if s.folder == f"examples/{sibling}" and not s.leave_out]
            if not others:
                raise InputError(f"{fit_input.path}: [PATH] dataPath = {relative} names no registered dataset")
            return resolve_dataset(others[0].name).root / rest, fit_input.scraper
        if (root / relative).is_dir():
            return root / relative, fit_input.scraper
    for sub, scraper in (("JSON", "json"), ("XYZ", "xyz")):
        if (root / sub).is_dir():
            return root / sub, scraper
    if extxyz_files(root):
        return root, "xyz"
    return root, "json"


def resolve_dataset(data: str | Path | None = None) -> Dataset:
    """The dataset that ``--data`` names (module docstring)."""
    from_environment = os.environ.get("SNAPCHECK_DATA")
    if data is None or str(data) in (DATASET_NAME, PAPER_SET_NAME):
        if from_environment:
            root = Path(from_environment)
            if not root.is_dir():
                raise InputError(f"{root}: SNAPCHECK_DATA names a folder that does not exist")
            return _folder_dataset(root, default=DATASETS[DATASET_NAME])
        data = data or DATASET_NAME
    if str(data) in DATASETS:
        spec = DATASETS[str(data)]
        root = _named_root(spec.name)
        fit_input = root / spec.fit_input
        folder, scraper = _configurations_folder(root, read_fitsnap_input(fit_input))
        return Dataset(root, spec, fit_input, folder, scraper, verified=folder.is_relative_to(root))
    root = Path(data)
    if root.is_file() and root.suffix in EXTXYZ_SUFFIXES:
        return Dataset(root.parent, None, None, root, "xyz")
    if not root.is_dir():
        raise InputError(
            f"{root}: no such dataset folder or extxyz file, and not a dataset name; {_suggestion(str(data))}"
        )
    return _folder_dataset(root)


def _suggestion(text: str) -> str:
    """``did you mean NAME?`` for a typo of a dataset name or its local folder's name (``ta_xyz``), else the names."""
    names = {spec.name: spec.name for spec in DATASETS.values()}
    names.update({spec.local_folder: spec.name for spec in DATASETS.values() if not spec.leave_out})
    close = difflib.get_close_matches(Path(text).name, names, n=1, cutoff=0.6)
    if close:
        return f"did you mean {names[close[0]]}?"
    return f"the registered datasets are {', '.join(DATASETS)} (python -m snapcheck.datasets list)"


def _folder_dataset(root: Path, default: DatasetSpec | None = None) -> Dataset:
    spec, fit_input = _identify(root)
    if spec is None and default is not None and (root / default.fit_input).is_file():
        spec, fit_input = default, root / default.fit_input
    folder, scraper = _configurations_folder(root, read_fitsnap_input(fit_input) if fit_input else None)
    return Dataset(root, spec, fit_input, folder, scraper)


def resolve_dataset_root(data: str | Path | None = None) -> Path:
    """The dataset's folder (see :func:`resolve_dataset`)."""
    return resolve_dataset(data).root
