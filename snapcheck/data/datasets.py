"""The dataset registry: named FitSNAP examples, pinned by commit and SHA-256, fetched with pooch.

Each dataset is one of FitSNAP's examples at the pinned commit
:data:`FITSNAP_COMMIT`: its configurations (FitSNAP JSON or extended XYZ), its
FitSNAP input (the SNAP settings, the reference potential, ESHIFT and the group
weights, :mod:`snapcheck.data.fitsnap_input`) and its stored fit (the
``.snapcoeff``/``.snapparam`` the example produced, with its metrics).  The
data are distributed under the GNU GPL v2; snapcheck references them and never
vendors them: the manifest ``<name>.sha256``, shipped inside the package
(``snapcheck/data/manifests/``, read with :mod:`importlib.resources`), holds the
SHA-256 of every file.

=========================  ==============================  =============================================
name                       FitSNAP folder (examples/…)     what
=========================  ==============================  =============================================
``ta-jcp2014``             ``Ta_Linear_JCP2014``           Ta, 363 configurations in 12 groups (JSON);
                                                           the paper's Sec. III C (Thompson et al. 2015)
``ta-jcp2014-362``         (the same)                      the 362 the paper counts (one GSF_112 file out)
``ta-xyz``                 ``Ta_XYZ``                      the same 363 Ta configurations as extxyz files
``inp-jpca2020``           ``InP_JPCA2020``                InP, 1894 configurations in 19 groups, explicit
                                                           multi-element SNAP (Cusentino et al. 2020)
``ta-quadratic-jcp2018``   ``Ta_Quadratic_JCP2018``        quadratic SNAP on the ``ta-jcp2014`` data
                                                           (Wood & Thompson 2018)
=========================  ==============================  =============================================

Every setting of a model (twojmax, rcutfac, radelem, wj, chemflag, bnormflag,
wselfallflag, bzeroflag, quadraticflag, the ZBL pairs, ESHIFT, group weights)
comes from the dataset's FitSNAP input, never from code.

Where a dataset named NAME comes from, in this order (each copy verified
against the manifest on every load):

1. ``$SNAPCHECK_DATASETS/<folder>/``, a folder of local copies (``ta_jcp2014``,
   ``ta_xyz``, ``inp_jpca2020``, ``ta_quadratic_jcp2018``), if it holds one;
2. the cache ``$SNAPCHECK_CACHE/<NAME>`` (default ``~/.cache/snapcheck/<NAME>``),
   filled by :func:`fetch` with pooch from
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
"""

from __future__ import annotations

import difflib
import hashlib
import os
from collections.abc import Collection
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import NamedTuple

from snapcheck.base.errors import InputError
from snapcheck.base.progress import progress_bar
from snapcheck.base.report import Summary
from snapcheck.data.configuration import Configuration
from snapcheck.data.extxyz import EXTXYZ_SUFFIXES, extxyz_files, read_extxyz
from snapcheck.data.fitsnap_input import FitInput, read_fitsnap_input
from snapcheck.data.fitsnap_json import read_fitsnap_json
from snapcheck.data.selection import AtMost, stratified_subset

FITSNAP_REPOSITORY = "FitSNAP/FitSNAP"
FITSNAP_COMMIT = "1a9b0507fa2ba292a6497ec363707944c1cb89cd"
#: Where FitSNAP's files are downloaded from (``$SNAPCHECK_DOWNLOAD_URL`` replaces it).
DOWNLOAD_BASE = f"https://raw.githubusercontent.com/{FITSNAP_REPOSITORY}"
#: The manifests ship as package data, so an installed wheel finds them wherever it is run from.
MANIFESTS = files("snapcheck.data") / "manifests"

DATASET_NAME = "ta-jcp2014"
PAPER_SET_NAME = "ta-jcp2014-362"
NOT_IN_PAPER_SET = frozenset({"JSON/GSF_112/GSF_112_nonrelax_0.4.json"})

#: The Ta dataset's FitSNAP input and stored fit (other datasets: :class:`DatasetSpec`).
FIT_INPUT = "Ta-example.in"
REFERENCE_FIT = "fitsnap_20May21_Standard"


@dataclass(frozen=True)
class DatasetSpec:
    """A registered dataset.

    Attributes:
        name: its registry name.
        folder: its folder in FitSNAP's repository (``examples/…``).
        local_folder: the name of a local copy under ``$SNAPCHECK_DATASETS``.
        fit_input: the FitSNAP input, relative to the dataset root.
        reference_fit: the stored fit's folder (local name) and its remote name.
        potential: the stem of the stored fit's ``.snapcoeff``/``.snapparam``.
        trained: ``"stored"`` (``trained`` = the stored fit) or ``"ta06a"``.
        description: one line for ``datasets list``.
        leave_out: manifest paths of configurations this set omits.
        manifest: the manifest's name (a subset shares its parent's).
    """

    name: str
    folder: str
    local_folder: str
    fit_input: str
    reference_fit: tuple[str, str]
    potential: str
    trained: str
    description: str
    leave_out: frozenset[str] = frozenset()
    manifest: str = ""

    @property
    def manifest_path(self) -> Traversable:
        return MANIFESTS / f"{self.manifest or self.name}.sha256"

    def remote_path(self, local: str) -> str:
        """Where a manifest file lives in FitSNAP's repository folder (the fit folder is renamed)."""
        prefix = self.reference_fit[0] + "/"
        return self.reference_fit[1] + "/" + local[len(prefix) :] if local.startswith(prefix) else local


def _spec(name: str, folder: str, local: str, fit_input: str, fit: str, potential: str, trained: str, what: str, **kw):
    return DatasetSpec(
        name, f"examples/{folder}", local, fit_input, (f"fitsnap_{fit}", fit), potential, trained, what, **kw
    )


DATASETS: dict[str, DatasetSpec] = {
    spec.name: spec
    for spec in (
        _spec(
            DATASET_NAME,
            "Ta_Linear_JCP2014",
            "ta_jcp2014",
            FIT_INPUT,
            "20May21_Standard",
            "Ta_pot",
            "ta06a",
            "Ta, 363 configurations in 12 groups, FitSNAP JSON (Thompson et al., J. Comput. Phys. 2015)",
        ),
        _spec(
            PAPER_SET_NAME,
            "Ta_Linear_JCP2014",
            "ta_jcp2014",
            FIT_INPUT,
            "20May21_Standard",
            "Ta_pot",
            "ta06a",
            "the 362 Ta configurations the paper counts (ta-jcp2014 without GSF_112_nonrelax_0.4)",
            leave_out=NOT_IN_PAPER_SET,
            manifest=DATASET_NAME,
        ),
        _spec(
            "ta-xyz",
            "Ta_XYZ",
            "ta_xyz",
            "Ta-example.in",
            "19Nov19_Standard",
            "Ta_pot",
            "stored",
            "the same 363 Ta configurations as extended XYZ, one file per group",
        ),
        _spec(
            "inp-jpca2020",
            "InP_JPCA2020",
            "inp_jpca2020",
            "InP-example.in",
            "20May21_Standard",
            "InP_pot",
            "stored",
            "InP, 1894 configurations in 19 groups, explicit multi-element SNAP (Cusentino et al., JPCA 2020)",
        ),
        _spec(
            "ta-quadratic-jcp2018",
            "Ta_Quadratic_JCP2018",
            "ta_quadratic_jcp2018",
            "Ta-example.in",
            "20May21_Standard",
            "Ta_pot",
            "stored",
            "quadratic SNAP (twojmax 8) on the ta-jcp2014 data (Wood & Thompson, J. Chem. Phys. 2018)",
        ),
    )
}


@dataclass(frozen=True)
class ManifestEntry:
    path: str  # relative to the dataset root, e.g. JSON/Displaced_BCC/BCC_1.json
    sha256: str


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
        folder = self.reference_fit
        if folder is None or self.spec is None:
            raise InputError(
                f"{self.root}: no stored fit; this dataset has no {self.spec and self.spec.reference_fit[0]}/"
            )
        return folder / f"{self.spec.potential}.snapcoeff", folder / f"{self.spec.potential}.snapparam"

    def read_fit_input(self) -> FitInput:
        if self.fit_input is None:
            raise InputError(f"{self.root}: no FitSNAP input (*.in) in the dataset folder; pass --fit-input FILE.in")
        return read_fitsnap_input(self.fit_input)


# -- manifests and verification -------------------------------------------------
def read_manifest(manifest: Traversable | str = DATASETS[DATASET_NAME].manifest_path) -> list[ManifestEntry]:
    """Read a ``sha256sum``-format manifest (``<hex>  <relative path>`` per line)."""
    manifest = Path(manifest) if isinstance(manifest, str) else manifest
    if not manifest.is_file():
        raise InputError(
            f"{manifest}: the dataset manifest is missing; it ships inside the snapcheck package, so reinstall snapcheck"
        )
    entries = []
    for number, line in enumerate(manifest.read_text().splitlines(), start=1):
        if line.strip():
            try:
                digest, relative = line.split(maxsplit=1)
            except ValueError:
                raise InputError(f"{manifest}: line {number} is not '<sha256>  <path>'") from None
            entries.append(ManifestEntry(relative.strip(), digest))
    return entries


def sha256_of(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def verify(root: Path, manifest: Traversable | str = DATASETS[DATASET_NAME].manifest_path) -> None:
    """Check every manifest file under ``root``: present, with the right SHA-256."""
    for entry in read_manifest(manifest):
        path = root / entry.path
        if not path.is_file():
            raise InputError(f"{path}: missing from the dataset at {root}")
        actual = sha256_of(path)
        if actual != entry.sha256:
            raise InputError(
                f"{path}: SHA-256 {actual} differs from the manifest's {entry.sha256}; the copy is corrupt or not the pinned version"
            )


# -- downloads --------------------------------------------------------------------
def cache_dir(name: str = DATASET_NAME) -> Path:
    base = os.environ.get("SNAPCHECK_CACHE") or Path.home() / ".cache" / "snapcheck"
    return Path(base) / spec_of(name).name if name != PAPER_SET_NAME else Path(base) / DATASET_NAME


def download_url(spec: DatasetSpec, local: str, base: str | None = None) -> str:
    """The pinned URL of one manifest file."""
    base = (base or os.environ.get("SNAPCHECK_DOWNLOAD_URL") or DOWNLOAD_BASE).rstrip("/")
    return f"{base}/{FITSNAP_COMMIT}/{spec.folder}/{spec.remote_path(local)}"


def fetch(name: str, base_url: str | None = None, destination: Path | None = None) -> Path:
    """Bring dataset ``name`` into the cache with pooch and verify every file; return its root.

    pooch downloads each missing file to a temporary name, checks its SHA-256
    against the manifest and only then moves it into place; a file already in
    the cache is hashed again (and downloaded anew if it differs), so this is
    also the verification of every load.
    """
    import pooch
    import requests

    spec = spec_of(name)
    entries = read_manifest(spec.manifest_path)
    root = destination or cache_dir(spec.name)
    registry = {entry.path: f"sha256:{entry.sha256}" for entry in entries}
    urls = {entry.path: download_url(spec, entry.path, base_url) for entry in entries}
    pooch.get_logger().setLevel("WARNING")
    store = pooch.create(path=root, base_url="", registry=registry, urls=urls, retry_if_failed=1)
    missing = [entry for entry in entries if not (root / entry.path).is_file()]
    iterate = progress_bar(entries, desc=f"downloading {spec.name}", unit="file") if missing else entries
    for entry in iterate:
        try:
            store.fetch(entry.path)
        except ValueError as exc:  # pooch: "SHA256 hash of downloaded file … does not match"
            raise InputError(
                f"{urls[entry.path]}: {str(exc).splitlines()[0]}; the download is not the pinned version"
            ) from None
        except (requests.RequestException, OSError) as exc:
            raise InputError(
                f"{urls[entry.path]}: download of {spec.name} failed ({type(exc).__name__}); {_local_copy_advice(spec)}"
            ) from None
    return root


def _local_copy_advice(spec: DatasetSpec) -> str:
    """How to use a local copy instead of a download, given what ``$SNAPCHECK_DATASETS`` holds."""
    folder = os.environ.get("SNAPCHECK_DATASETS")
    if folder:
        return f"$SNAPCHECK_DATASETS ({folder}) holds no {spec.local_folder}/: put a copy there, or pass --data DIR"
    return f"to use a local copy, set SNAPCHECK_DATASETS to a folder holding {spec.local_folder}/, or pass --data DIR"


# -- resolution -------------------------------------------------------------------
def spec_of(name: str) -> DatasetSpec:
    if name not in DATASETS:
        raise InputError(f"unknown dataset {name!r}; choose one of {', '.join(DATASETS)} or a folder")
    return DATASETS[name]


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
    spec = spec_of(name)
    local = _local_copy(spec)
    if local is not None:
        verify(local, spec.manifest_path)
        return local
    return fetch(name)


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


def dataset_file(data: str | Path | None, relative: str) -> Path:
    """A file of the dataset folder, resolved like the data.

    :data:`FIT_INPUT` and :data:`REFERENCE_FIT` stand for the dataset's own
    FitSNAP input and stored-fit folder, whatever they are called in it.
    """
    dataset = resolve_dataset(data)
    if relative == FIT_INPUT and dataset.fit_input is not None:
        return dataset.fit_input
    if relative == REFERENCE_FIT and dataset.reference_fit is not None:
        return dataset.reference_fit
    path = dataset.root / relative
    if not path.exists():
        raise InputError(
            f"{path}: not in the dataset folder; point --data at a full copy of the dataset, or name the file explicitly"
        )
    return path


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
