"""Docs that cannot go stale: every dotted ``snapcheck.…`` name in the docs, the README and the source resolves."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NAME = re.compile(r"(?<![\w/.-])snapcheck(?:\.[A-Za-z_]\w*)+")
#: Names that are not Python objects: the entry-point group of model plug-ins.
NOT_OBJECTS = {"snapcheck.models"}
#: ``snapcheck.COMMAND``, ``snapcheck.NAME``: placeholders in usage texts (no module of snapcheck is upper case).
PLACEHOLDER = re.compile(r"snapcheck\.[A-Z_]+\b")


def documents() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")), *sorted((ROOT / "snapcheck").rglob("*.py"))]


def resolves(name: str) -> bool:
    parts = name.split(".")
    for split in range(len(parts), 0, -1):
        try:
            target = importlib.import_module(".".join(parts[:split]))
        except ImportError:
            continue
        try:
            for attribute in parts[split:]:
                target = getattr(target, attribute)
        except AttributeError:
            return False
        return True
    return False


def test_every_dotted_name_resolves():
    unresolved = []
    for path in documents():
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            for match in NAME.finditer(line):
                name = match.group(0).rstrip(".")
                if name not in NOT_OBJECTS and not PLACEHOLDER.match(name) and not resolves(name):
                    unresolved.append(f"{path.relative_to(ROOT)}:{number}: {name}")
    assert not unresolved, "names that resolve to nothing:\n" + "\n".join(unresolved)


def test_the_checker_sees_a_stale_name():
    assert resolves("snapcheck.gradients.reference.Reference") and resolves("snapcheck.torch.assert_forces_consistent")
    assert not resolves("snapcheck.descriptors.per_atom") and not resolves("snapcheck.gradients.paper.nothing")
