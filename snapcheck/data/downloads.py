"""Downloading a registered dataset into the cache with pooch, every file checked against its manifest.

The cache is ``$SNAPCHECK_CACHE/<NAME>`` (default ``~/.cache/snapcheck/<NAME>``),
filled from ``$SNAPCHECK_DOWNLOAD_URL/<commit>/examples/<folder>/…`` (default
``https://raw.githubusercontent.com/FitSNAP/FitSNAP``).  pooch downloads each
missing file to a temporary name, checks its SHA-256 against the manifest and
only then moves it into place; a file already in the cache is hashed again
(and downloaded anew if it differs), so :func:`fetch` is also the verification
of every load from the cache.  A failed download says what the environment
lacks to use a local copy instead.
"""

from __future__ import annotations

import os
from pathlib import Path

from snapcheck.base.errors import InputError
from snapcheck.base.progress import progress_bar
from snapcheck.data.checksums import read_manifest
from snapcheck.data.dataset_registry import (
    DATASET_NAME,
    FITSNAP_COMMIT,
    FITSNAP_REPOSITORY,
    PAPER_SET_NAME,
    DatasetSpec,
    spec_of,
)

#: Where FitSNAP's files are downloaded from (``$SNAPCHECK_DOWNLOAD_URL`` replaces it).
DOWNLOAD_BASE = f"https://raw.githubusercontent.com/{FITSNAP_REPOSITORY}"


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
