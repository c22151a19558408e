"""The package's layers import only downward, the top level holds only thin commands, and no module is large.

The order is written in ``docs/architecture.md``; this test is what keeps it
true.  Every ``import snapcheck…`` statement in the package is read from the
source (at module level or inside a function alike) and checked against it.
A command module (``python -m snapcheck.<name>``) holds its parser and ``main``
and nothing else: what it runs is a library function.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "snapcheck"

#: Bottom to top; a module may import from its own layer and the ones before it.
LAYERS = ["base", "data", "descriptors", "models", "gradients", "runtime", "studies"]
#: The top level: the public assertions, then the commands, which may use everything.
TOP_LIBRARY = {"testing": len(LAYERS), "torch": len(LAYERS)}
COMMANDS_RANK = len(LAYERS) + 1


def rank(module: str) -> int:
    """The layer index of a dotted module name inside snapcheck."""
    parts = module.split(".")
    if parts == ["snapcheck"]:
        return COMMANDS_RANK + 1  # the package's __init__: nothing may import it
    first = parts[1]
    if first in LAYERS:
        return LAYERS.index(first)
    return TOP_LIBRARY.get(first, COMMANDS_RANK)


def module_name(path: Path) -> str:
    relative = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = list(relative.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported_modules(path: Path) -> list[tuple[int, str]]:
    """(line, module) for every import of a snapcheck module in ``path``."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names if alias.name.split(".")[0] == "snapcheck"]
        elif (
            isinstance(node, ast.ImportFrom)
            and node.level == 0
            and node.module
            and node.module.split(".")[0] == "snapcheck"
        ):
            if node.module == "snapcheck":
                found += [(node.lineno, f"snapcheck.{alias.name}") for alias in node.names]
            else:
                found.append((node.lineno, node.module))
    return found


def test_every_import_goes_downward():
    upward = []
    for path in sorted(PACKAGE.rglob("*.py")):
        importer = module_name(path)
        if importer == "snapcheck":
            continue  # the public API re-exports from every layer, lazily
        for line, imported in imported_modules(path):
            if rank(imported) > rank(importer):
                upward.append(f"{path.relative_to(PACKAGE.parent)}:{line} ({importer}) imports {imported}")
    assert not upward, "imports that go upward:\n" + "\n".join(upward)


def test_the_top_level_holds_only_commands_testing_torch_and_init():
    library = sorted(
        p.name
        for p in PACKAGE.glob("*.py")
        if p.stem not in {"__init__", "__main__", "testing", "torch"}
        and 'if __name__ == "__main__":' not in p.read_text()
    )
    assert not library, f"library modules at the top level (move them into a layer): {library}"
    packages = sorted(p.name for p in PACKAGE.iterdir() if p.is_dir() and p.name != "__pycache__")
    assert packages == sorted([*LAYERS, "torch"])


#: The most lines of a top-level command module, and of any module.
COMMAND_LINES, MODULE_LINES = 80, 400
#: The top-level modules that are not commands.
NOT_COMMANDS = {"__init__", "__main__", "testing"}


def command_modules() -> list[Path]:
    return sorted(p for p in PACKAGE.glob("*.py") if p.stem not in NOT_COMMANDS)


def extra_definitions(tree: ast.Module) -> list[str]:
    """What a command module holds besides its docstring, imports, ``parser``, ``main`` and ``run(main)``."""
    extra = []
    for index, node in enumerate(tree.body):
        if index == 0 and isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            continue
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            continue
        if isinstance(node, ast.FunctionDef) and node.name in ("parser", "main"):
            continue
        if isinstance(node, ast.If) and ast.unparse(node.test) == "__name__ == '__main__'":
            if [ast.unparse(statement) for statement in node.body] == ["run(main)"]:
                continue
        extra.append(f"line {node.lineno}: {ast.unparse(node).splitlines()[0][:80]}")
    return extra


def test_a_command_module_holds_only_its_parser_and_main():
    thick = {
        path.name: extra for path in command_modules() if (extra := extra_definitions(ast.parse(path.read_text())))
    }
    assert not thick, f"command modules define more than parser() and main() (move it into a library module): {thick}"


def test_command_modules_are_short_and_no_module_is_long():
    long_commands = {p.name: n for p in command_modules() if (n := len(p.read_text().splitlines())) > COMMAND_LINES}
    assert not long_commands, f"command modules over {COMMAND_LINES} lines: {long_commands}"
    long_modules = {
        str(p.relative_to(PACKAGE.parent)): n
        for p in sorted(PACKAGE.rglob("*.py"))
        if (n := len(p.read_text().splitlines())) > MODULE_LINES
    }
    assert not long_modules, f"modules over {MODULE_LINES} lines (split them by concern): {long_modules}"


def test_the_thin_command_checker_sees_a_helper():
    thick = ast.parse('"""doc"""\nimport x\nLIMIT = 3\ndef helper():\n    pass\ndef main():\n    pass\n')
    assert [line.split(":")[0] for line in extra_definitions(thick)] == ["line 3", "line 4"]
    thin = ast.parse(
        '"""doc"""\nfrom a import b\ndef parser():\n    pass\ndef main():\n    pass\n'
        'if __name__ == "__main__":\n    run(main)\n'
    )
    assert extra_definitions(thin) == []


def test_the_checker_sees_an_upward_import():
    assert rank("snapcheck.studies.sweep") > rank("snapcheck.data.configuration")
    assert rank("snapcheck.fig1") > rank("snapcheck.studies.sweep")
    assert rank("snapcheck.testing") < rank("snapcheck.fig1")


def test_no_module_imports_itself_back():
    """No cycles: following imports from any module never leads back to it."""
    modules = {module_name(path): path for path in PACKAGE.rglob("*.py")}

    def resolve(imported: str) -> str | None:
        while imported and imported not in modules:
            imported = imported.rpartition(".")[0]
        return imported or None

    graph = {
        name: {resolve(m) for _, m in imported_modules(path)} - {None, name, "snapcheck"}
        for name, path in modules.items()
        if name != "snapcheck"
    }
    state: dict[str, str] = {}

    def visit(name: str, trail: list[str]) -> list[str] | None:
        state[name] = "open"
        for target in sorted(graph.get(name, ())):
            if state.get(target) == "open":
                return trail + [name, target]
            if target not in state and (cycle := visit(target, trail + [name])):
                return cycle
        state[name] = "done"
        return None

    for name in sorted(graph):
        if name not in state:
            cycle = visit(name, [])
            assert cycle is None, "import cycle: " + " → ".join(cycle)
