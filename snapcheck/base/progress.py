"""Progress bars on a terminal only.

Long work (a sweep over a dataset, a download, training) shows a tqdm bar on
stderr when stderr is a terminal; in CI logs and pipes it stays silent, so
logs hold results, not thousands of carriage returns.
"""

from __future__ import annotations

import sys

from tqdm import tqdm


def on_terminal() -> bool:
    """True when stderr is an interactive terminal."""
    return sys.stderr.isatty()


def progress_bar(iterable=None, *, enabled: bool = True, **options) -> tqdm:
    """A tqdm bar (``options`` as tqdm's) that is shown only when ``enabled`` and stderr is a terminal."""
    return tqdm(iterable, disable=not (enabled and on_terminal()), **options)
