"""The ``snapcheck`` console command: ``snapcheck NAME …`` is ``python -m snapcheck.NAME …``."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from snapcheck.__main__ import commands

ROOT = Path(__file__).resolve().parents[1]
#: The console script pip installed beside this interpreter.
SNAPCHECK = Path(sys.executable).parent / "snapcheck"


def snapcheck(*arguments: str) -> subprocess.CompletedProcess:
    assert SNAPCHECK.is_file(), f"{SNAPCHECK}: no console script; reinstall snapcheck (pip install -e .)"
    return subprocess.run([str(SNAPCHECK), *arguments], capture_output=True, text=True, timeout=120)


def test_the_commands_are_those_the_readme_documents():
    table = re.search(r"\| command \| what it does \| details \|\n(.*?)\n\n", (ROOT / "README.md").read_text(), re.S)
    documented = {name for row in table.group(1).splitlines()[1:] for name in re.findall(r"`(\w+)", row.split("|")[1])}
    assert set(commands()) == documented
    assert all(summary and "``" not in summary for summary in commands().values())


def test_help_lists_every_command_with_one_line():
    shown = snapcheck("--help")
    assert shown.returncode == 0 and not shown.stderr
    for name, summary in commands().items():
        assert re.search(rf"^  {name} +{re.escape(summary)}$", shown.stdout, re.M), name


def test_a_subcommand_is_its_python_m_command():
    console = snapcheck("fig1", "--help")
    module = subprocess.run([sys.executable, "-m", "snapcheck.fig1", "--help"], capture_output=True, text=True)
    assert console.returncode == module.returncode == 0
    assert console.stdout == module.stdout and "--configs" in console.stdout
    bad = snapcheck("fig1", "--configs", "0")
    assert bad.returncode == 2
    assert bad.stderr.strip().splitlines() == [
        "python -m snapcheck.fig1: error: argument --configs: expected a positive whole number, got '0'"
    ]


def test_an_unknown_command_is_bad_usage_with_a_suggestion():
    typo = snapcheck("fgi1")
    assert typo.returncode == 2 and not typo.stdout
    assert typo.stderr.splitlines() == [
        "snapcheck: error: unknown command 'fgi1'; did you mean 'fig1'? (snapcheck --help lists them)"
    ]
    nothing = snapcheck()
    assert nothing.returncode == 2 and len(nothing.stderr.splitlines()) == 1
