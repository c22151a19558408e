"""The tantalum dataset of Thompson et al. (J. Comput. Phys. 285, 316 (2015)).

This is the data of the paper's Sec. III C: DFT energies, forces and stresses of
tantalum in 12 groups (displaced, strained and compressed A15, BCC and FCC
crystals, generalised stacking faults, surfaces and liquid), 2 to 100 atoms per
configuration.  The files are FitSNAP's ``examples/Ta_Linear_JCP2014/JSON``,
with that example's FitSNAP input ``Ta-example.in`` (the fit's group weights)
and its stored reference fit ``20May21_Standard/`` (kept locally as
``fitsnap_20May21_Standard/``), distributed under the GNU GPL v2; snapcheck
references them and never vendors them.

Where the data comes from, in this order:

1. ``$SNAPCHECK_DATA``, a folder that holds ``JSON/<group>/*.json``;
2. the local cache, ``$SNAPCHECK_CACHE`` or ``~/.cache/snapcheck``, holding a
   copy that was downloaded and verified before;
3. a download from FitSNAP's GitHub repository at the pinned commit
   :data:`FITSNAP_COMMIT`, every file checked against the SHA-256 manifest
   ``datasets/ta-jcp2014.sha256`` committed with snapcheck.

Two sets are offered:

``ta-jcp2014``
    All 363 configurations of the FitSNAP copy.
``ta-jcp2014-362``
    The 362 configurations that the paper counts.  FitSNAP's 362-configuration
    copy of the data lacks ``GSF_112/GSF_112_nonrelax_0.4.json``; this set
    leaves that one file out.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from snapcheck.base.errors import InputError
from snapcheck.base.progress import progress_bar
from snapcheck.data.configuration import Configuration
from snapcheck.data.fitsnap_json import read_fitsnap_json

FITSNAP_REPOSITORY = "FitSNAP/FitSNAP"
FITSNAP_COMMIT = "1a9b0507fa2ba292a6497ec363707944c1cb89cd"
FITSNAP_PATH = "examples/Ta_Linear_JCP2014"
DOWNLOAD_URL = f"https://raw.githubusercontent.com/{FITSNAP_REPOSITORY}/{FITSNAP_COMMIT}/{FITSNAP_PATH}"
MANIFEST = Path(__file__).resolve().parents[2] / "datasets" / "ta-jcp2014.sha256"

DATASET_NAME = "ta-jcp2014"
PAPER_SET_NAME = "ta-jcp2014-362"
NOT_IN_PAPER_SET = frozenset({"JSON/GSF_112/GSF_112_nonrelax_0.4.json"})

#: FitSNAP's input for the Ta fit, and its stored reference fit, in a dataset folder.
FIT_INPUT = "Ta-example.in"
REFERENCE_FIT = "fitsnap_20May21_Standard"
#: Local folder → folder in FitSNAP's repository, where the two differ.
REMOTE_FOLDERS = {f"{REFERENCE_FIT}/": "20May21_Standard/"}


@dataclass(frozen=True)
class ManifestEntry:
    path: str  # relative to the dataset root, e.g. JSON/Displaced_BCC/BCC_1.json
    sha256: str


def read_manifest(manifest: Path = MANIFEST) -> list[ManifestEntry]:
    """Read a ``sha256sum``-format manifest (``<hex>  <relative path>`` per line)."""
    if not manifest.is_file():
        raise InputError(
            f"{manifest}: the dataset manifest is missing; snapcheck must be run from its source tree (pip install -e .)"
        )
    entries = []
    for line in manifest.read_text().splitlines():
        if line.strip():
            digest, relative = line.split(maxsplit=1)
            entries.append(ManifestEntry(relative.strip(), digest))
    return entries


def remote_path(local: str) -> str:
    """Where a manifest file lives under :data:`DOWNLOAD_URL`."""
    for prefix, remote in REMOTE_FOLDERS.items():
        if local.startswith(prefix):
            return remote + local[len(prefix) :]
    return local


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def verify(root: Path, manifest: Path = MANIFEST) -> None:
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


def cache_dir() -> Path:
    base = os.environ.get("SNAPCHECK_CACHE") or Path.home() / ".cache" / "snapcheck"
    return Path(base) / DATASET_NAME


def download(destination: Path, base_url: str = DOWNLOAD_URL, manifest: Path = MANIFEST) -> Path:
    """Download the dataset file by file, verify each against the manifest, and
    move the complete copy into ``destination`` in one rename (an interrupted
    download leaves nothing half-written behind)."""
    entries = read_manifest(manifest)
    destination.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".download-", dir=destination.parent))
    try:
        for entry in progress_bar(entries, desc=f"downloading {DATASET_NAME}", unit="file"):
            url = f"{base_url}/{remote_path(entry.path)}"
            try:
                with urllib.request.urlopen(url, timeout=60) as response:
                    payload = response.read()
            except (urllib.error.URLError, OSError) as exc:
                raise InputError(
                    f"{url}: download failed ({exc}); set SNAPCHECK_DATA or pass --data to use a local copy"
                ) from None
            digest = hashlib.sha256(payload).hexdigest()
            if digest != entry.sha256:
                raise InputError(f"{url}: SHA-256 {digest} differs from the manifest's {entry.sha256}")
            target = staging / entry.path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(payload)
        if destination.exists():
            shutil.rmtree(destination)
        staging.rename(destination)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return destination


def resolve_dataset_root(data: str | Path | None = None) -> Path:
    """Find the dataset folder (the one holding ``JSON/``), as the module docstring says.

    ``data`` may be a folder, or one of the dataset names, which means "resolve
    it the usual way".
    """
    if data is not None and str(data) not in (DATASET_NAME, PAPER_SET_NAME):
        root = Path(data)
        if not root.is_dir():
            raise InputError(f"{root}: no such dataset folder")
        return root
    from_environment = os.environ.get("SNAPCHECK_DATA")
    if from_environment:
        root = Path(from_environment)
        if not root.is_dir():
            raise InputError(f"{root}: SNAPCHECK_DATA names a folder that does not exist")
        return root
    cached = cache_dir()
    if cached.is_dir():
        return cached
    return download(cached)


def dataset_file(data: str | Path | None, relative: str) -> Path:
    """A file of the dataset folder (such as :data:`FIT_INPUT`), resolved like the data."""
    path = resolve_dataset_root(data) / relative
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


def load_configurations(data: str | Path | None = None, subset: str | None = None) -> list[Configuration]:
    """Load a dataset: every configuration, sorted by group and file name.

    ``subset`` is ``ta-jcp2014`` (all files) or ``ta-jcp2014-362`` (the
    paper's 362); by default it follows ``data`` when that is a name.
    """
    subset = subset or (str(data) if str(data) == PAPER_SET_NAME else DATASET_NAME)
    if subset not in (DATASET_NAME, PAPER_SET_NAME):
        raise InputError(f"unknown dataset {subset!r}; choose {DATASET_NAME!r} or {PAPER_SET_NAME!r}")
    root = resolve_dataset_root(data)
    configurations = []
    for path in json_files(root):
        relative = f"JSON/{path.parent.name}/{path.name}"
        if subset == PAPER_SET_NAME and relative in NOT_IN_PAPER_SET:
            continue
        configurations.extend(read_fitsnap_json(path))
    return configurations
