"""The manifests of the registered datasets, and checking a copy against them file by file (SHA-256).

A manifest is in ``sha256sum`` format, ``<hex>  <relative path>`` per line,
one line per file of the dataset; a copy is verified when every listed file is
present with that digest.  Where the manifests are is the registry's
(:attr:`snapcheck.data.dataset_registry.DatasetSpec.manifest_path`).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from importlib.resources.abc import Traversable
from pathlib import Path

from snapcheck.base.errors import InputError
from snapcheck.data.dataset_registry import DATASET_NAME, DATASETS


@dataclass(frozen=True)
class ManifestEntry:
    path: str  # relative to the dataset root, e.g. JSON/Displaced_BCC/BCC_1.json
    sha256: str


def read_manifest(manifest: Traversable | str = DATASETS[DATASET_NAME].manifest_path) -> list[ManifestEntry]:
    """Read a ``sha256sum``-format manifest (``<hex>  <relative path>`` per line)."""
    manifest = Path(manifest) if isinstance(manifest, str) else manifest
    if not manifest.is_file():
        raise InputError(
            f"{manifest}: the dataset manifest is missing; it ships inside the snapcheck package, "
            "so reinstall snapcheck"
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
                f"{path}: SHA-256 {actual} differs from the manifest's {entry.sha256}; "
                "the copy is corrupt or not the pinned version"
            )
