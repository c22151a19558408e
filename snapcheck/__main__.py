"""``snapcheck COMMAND …``: the console command, one subcommand per ``python -m snapcheck.COMMAND``.

``snapcheck fig1 --configs 12`` runs exactly ``python -m snapcheck.fig1 --configs 12``: the same
flags, output and exit codes (0 passed, 1 failed, 2 bad usage or input, 3 internal error).  The
commands are not listed by hand: they are the top-level modules of the package that define
``main`` and run ``runtime.cli.run(main)`` under ``if __name__ == "__main__"``, read from their
source, so ``snapcheck --help`` lists them (with the first line of each one's docstring) without
importing any; a command's module is imported only when it runs.
"""

from __future__ import annotations

import ast
import difflib
import importlib
import re
import sys
from importlib.resources import files

USAGE = "usage: snapcheck COMMAND [FLAGS ...]   (snapcheck COMMAND --help: its flags)"


def commands() -> dict[str, str]:
    """Every command's name and its one-line description, in name order."""
    found = {}
    for source in sorted(files("snapcheck").iterdir(), key=lambda entry: entry.name):
        name = source.name.removesuffix(".py")
        if name == source.name or name.startswith("_"):
            continue
        tree = ast.parse(source.read_text(encoding="utf-8"))
        if _runs_main(tree):
            found[name] = _summary(ast.get_docstring(tree) or "")
    return found


def _runs_main(tree: ast.Module) -> bool:
    """Whether a module defines ``main`` and calls ``runtime.cli.run(main)`` under ``if __name__ == "__main__"``."""
    imports_run = any(
        isinstance(node, ast.ImportFrom)
        and node.module == "snapcheck.runtime.cli"
        and any(alias.name == "run" and alias.asname is None for alias in node.names)
        for node in tree.body
    )
    defines_main = any(isinstance(node, ast.FunctionDef) and node.name == "main" for node in tree.body)
    runs_main = any(
        isinstance(node, ast.If)
        and ast.unparse(node.test) == "__name__ == '__main__'"
        and any(ast.unparse(statement) == "run(main)" for statement in node.body)
        for node in tree.body
    )
    return imports_run and defines_main and runs_main


def _summary(docstring: str) -> str:
    """The docstring's first line as plain text, without its ````python -m snapcheck.NAME````: prefix."""
    first = docstring.strip().splitlines()[0] if docstring.strip() else ""
    first = re.sub(r"^``python -m snapcheck\.[^`]*``:\s*", "", first)
    return first.replace("``", "")


def help_text(available: dict[str, str]) -> str:
    width = max(map(len, available))
    lines = [
        USAGE,
        "",
        "snapcheck checks the gradients that train machine-learning interatomic potentials to force data.",
        "`snapcheck COMMAND …` runs `python -m snapcheck.COMMAND …`, with the same flags and exit codes.",
        "",
        "commands:",
        *(f"  {name:<{width}}  {summary}" for name, summary in available.items()),
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    arguments = sys.argv[1:] if argv is None else argv
    available = commands()
    if not arguments:
        print("snapcheck: error: name a command (snapcheck --help lists them)", file=sys.stderr)
        return 2
    name, rest = arguments[0], arguments[1:]
    if name in ("-h", "--help"):
        print(help_text(available))
        return 0
    if name not in available:
        close = difflib.get_close_matches(name, available, n=1)
        hint = f"did you mean {close[0]!r}?" if close else f"choose one of {', '.join(available)}"
        print(f"snapcheck: error: unknown command {name!r}; {hint} (snapcheck --help lists them)", file=sys.stderr)
        return 2
    from snapcheck.runtime.cli import run

    run(importlib.import_module(f"snapcheck.{name}").main, rest)  # exits with the command's code


if __name__ == "__main__":
    sys.exit(main())
