"""Every command's and subcommand's ``--help``: plain text, a description, names that exist, and only flags that act.

The table :data:`FLAGS` is the contract: the flags each command offers, every
one of them used.  The test walks the parsers of every top-level command
module (as ``python -m snapcheck.<name> [sub] --help`` shows them) and fails
when one offers another flag, when its help shows Sphinx markup (roles such
as ``:mod:`` or double backquotes) or names a ``snapcheck.…`` module or object
that does not exist, or when a subcommand has no description.  That a flag
acts is checked in the code: a flag's value must be read (``args.<dest>``) by
the command's ``main``, or, for a subcommand that runs a library function by
its flags (``study``), be one of that function's parameters, every one of
which its body reads.
"""

from __future__ import annotations

import argparse
import ast
import importlib
import inspect
import re
import textwrap
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "snapcheck"
COMMANDS = sorted(
    p.stem for p in PACKAGE.glob("*.py") if 'if __name__ == "__main__":' in p.read_text() and p.stem != "__main__"
)

DATA, OUT, SEED, EXECUTION = {"--data"}, {"--out-dir"}, {"--seed"}, {"--jobs", "--scheduler"}
LOSS = {"--loss"}
FIGURES = DATA | OUT | SEED | EXECUTION | LOSS | {"--epsilons", "--precision", "--configs", "--models", "--fit-input"}
MODEL = {"--model", "--snapparam", "--fit-input"}
CHECK = {"--epsilon", "--max-error", "--verdict-on", "--configs"}
#: (command, subcommand) → the flags its help offers (besides -h and --debug), and its positional arguments.
FLAGS: dict[tuple[str, str], set[str]] = {
    ("fig1", ""): FIGURES,
    ("fig2", ""): FIGURES | {"--g0"},
    ("figures", ""): FIGURES | {"--g0"},
    ("check", ""): DATA | OUT | SEED | EXECUTION | MODEL | LOSS | CHECK,
    ("oracle", "export"): DATA | OUT | SEED | EXECUTION | MODEL | {"--configs", "--out"},
    ("oracle", "compare"): OUT | {"--loss", "--rtol", "reference", "candidate"},
    ("fit", ""): DATA | OUT | {"--fit-input"},
    ("crosscheck", "fitsnap"): DATA | OUT | {"--fit-input", "--reference", "--configs"},
    ("table1", ""): DATA
    | OUT
    | SEED
    | EXECUTION
    | {
        "--quick",
        "--members",
        "--epochs",
        "--energy-epochs",
        "--widths",
        "--activation",
        "--energy-weight",
        "--force-weight",
        "--epsilon",
        "--test-fraction",
        "--restart",
    },  # fmt: skip
    ("datasets", "list"): set(),
    ("datasets", "fetch"): {"name"},
    ("bench", "startup"): DATA | OUT | SEED | {"--jobs", "--repeats"},
    ("bench", "descriptors"): DATA | OUT | {"--configs", "--repeats"},
    ("bench", "figures"): DATA | OUT | SEED | {"--jobs", "--configs"},
    ("bench", "dask"): DATA | OUT | SEED | {"--configs"},
    ("bench", "torch"): OUT | SEED,
    ("bench", "torch-checks"): OUT | {"--trainers"},
    ("bench", "torch-training"): OUT | SEED | {"--steps"},
    ("bench", "zoo"): OUT | {"--entries"},
    ("bench", "cost"): OUT | SEED | {"--cells", "--widths", "--n-width", "--p-cells", "--repeats"},
}
MARKUP = re.compile(r":[a-z]+:`|``")
DOTTED = re.compile(r"\bsnapcheck(?:\.[A-Za-z_]\w*)+")


def parsers(command: str) -> list[tuple[str, argparse.ArgumentParser]]:
    """(subcommand or "", parser) of a command module: its own parser, then each subcommand's."""
    parser = importlib.import_module(f"snapcheck.{command}").parser()
    found = [("", parser)]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            found += sorted(action.choices.items())
    return found


WALKED = [(command, sub, parser) for command in COMMANDS for sub, parser in parsers(command)]


def leaves() -> list[tuple[str, str, argparse.ArgumentParser]]:
    """The parsers that run something: a command without subcommands, or each subcommand."""
    with_subcommands = {command for command, sub, _ in WALKED if sub}
    return [(c, s, p) for c, s, p in WALKED if s or c not in with_subcommands]


def offered(parser: argparse.ArgumentParser) -> set[str]:
    names = set()
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction) or action.dest in ("help", "debug"):
            continue
        names.add(max(action.option_strings, key=len) if action.option_strings else action.dest)
    return names


def resolves(name: str) -> bool:
    parts = name.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            target = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for attribute in parts[cut:]:
            if not hasattr(target, attribute):
                return False
            target = getattr(target, attribute)
        return True
    return False


def test_every_command_has_a_row_in_the_table():
    assert sorted({(c, s) for c, s, _ in leaves()}) == sorted(FLAGS)


@pytest.mark.parametrize(("command", "sub", "parser"), WALKED, ids=[f"{c} {s}".strip() for c, s, _ in WALKED])
def test_help_is_plain_text_naming_what_exists(command, sub, parser):
    text = parser.format_help()
    assert parser.description and parser.description.strip(), f"{command} {sub}: no description"
    assert not MARKUP.findall(text), f"{command} {sub} --help shows markup: {MARKUP.findall(text)}"
    missing = [name for name in DOTTED.findall(text) if not resolves(name.rstrip("."))]
    assert not missing, f"{command} {sub} --help names what does not exist: {missing}"
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            assert all(choice.help for choice in action._choices_actions), f"{command}: a subcommand without summary"


@pytest.mark.parametrize(("command", "sub", "parser"), leaves(), ids=[f"{c} {s}".strip() for c, s, _ in leaves()])
def test_every_offered_flag_is_in_the_table_and_used(command, sub, parser):
    assert offered(parser) == FLAGS[command, sub], f"{command} {sub} offers other flags than the table's"
    dests = {a.dest for a in parser._actions if not isinstance(a, argparse._SubParsersAction)} - {"help", "debug"}
    study = parser.get_default("study")
    if study is not None:
        parameters = set(inspect.signature(study).parameters)
        assert dests == parameters, (
            f"{command} {sub}: flags {sorted(dests)} but {study.__name__} takes {sorted(parameters)}"
        )
        body = ast.parse(textwrap.dedent(inspect.getsource(study)))
        read = {node.id for node in ast.walk(body) if isinstance(node, ast.Name)}
        assert parameters <= read, f"{study.__name__} ignores {sorted(parameters - read)}"
        return
    read = flags_read(importlib.import_module(f"snapcheck.{command}").main)
    assert dests <= read, f"{command} {sub}: main never reads {sorted(dests - read)}"


def flags_read(function) -> set[str]:
    """The ``args.X`` that ``function`` reads, and those read by the functions it hands ``args`` whole."""
    body = ast.parse(textwrap.dedent(inspect.getsource(function)))
    read = {n.attr for n in ast.walk(body) if isinstance(n, ast.Attribute) and getattr(n.value, "id", "") == "args"}
    if any(isinstance(n, ast.Attribute) and n.attr == "execution_options" for n in ast.walk(body)):
        read |= {"jobs", "scheduler", "out_dir"}
    for call in (n for n in ast.walk(body) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)):
        if any(isinstance(a, ast.Name) and a.id == "args" for a in call.args):
            read |= flags_read(function.__globals__[call.func.id])
    return read


def test_the_checker_sees_markup_and_unknown_names():
    assert MARKUP.findall("see :mod:`snapcheck.data` and ``x``")
    assert resolves("snapcheck.studies.golden") and resolves("snapcheck.data.datasets.load_configurations")
    assert not resolves("snapcheck.executors") and not resolves("snapcheck.descriptors.per_atom")


def subcommand_summaries(command: str) -> dict[str, str]:
    """Each subcommand's line in ``python -m snapcheck.<command> --help``."""
    (commands,) = [a for a in parsers(command)[0][1]._actions if isinstance(a, argparse._SubParsersAction)]
    return {choice.dest: choice.help for choice in commands._choices_actions}


def test_a_subcommand_summary_is_its_first_whole_sentence():
    """'Figs. 1' and 'Eq. 7' do not end a sentence; a sentence that ends at a line break does."""
    bench = subcommand_summaries("bench")
    assert bench["figures"] == "time the sweep of Figs. 1 and 2 on --jobs processes against a serial loop"
    assert bench["dask"] == "time the sweep of Figs. 1 and 2 on a local Dask cluster of 1 and of 2 workers"
    assert subcommand_summaries("oracle")["compare"] == "compare a trainer's candidate with a reference"
    fetch = subcommand_summaries("datasets")["fetch"]
    assert fetch == "make a dataset available, every file checked against its SHA-256"
    for command in COMMANDS:
        if len(parsers(command)) > 1:
            cut = [name for name, line in subcommand_summaries(command).items() if re.search(r"\b(Figs?|Eqs?)$", line)]
            assert not cut, f"{command} {cut}: the summary stops inside a sentence"
