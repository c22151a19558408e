"""Atomic writes of reports, figures and data files.

Every result file is written beside its target under a temporary name and
renamed into place (``os.replace`` is atomic on POSIX), so an interrupted run
leaves either the previous file or the complete new one, never half of one.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd


@contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path; on success it replaces ``path``, on error it is removed."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=path.suffix)
    os.close(handle)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(temporary, 0o666 & ~umask)  # mkstemp's 0600 would make every report private
    try:
        yield Path(temporary)
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)


def write_csv(table: pd.DataFrame, path: str | Path) -> Path:
    with atomic_path(path) as temporary:
        table.to_csv(temporary, index=False)
    return Path(path)


def write_markdown(table: pd.DataFrame, path: str | Path) -> Path:
    """A table as GitHub Markdown (needs ``tabulate``), six significant digits."""
    with atomic_path(path) as temporary:
        temporary.write_text(table.to_markdown(index=False, floatfmt=".6g") + "\n")
    return Path(path)


def save_figure(figure, path: str | Path, dpi: int = 150) -> Path:
    path = Path(path)
    with atomic_path(path) as temporary:
        figure.savefig(temporary, format=path.suffix.lstrip("."), dpi=dpi, bbox_inches="tight")
    return path
