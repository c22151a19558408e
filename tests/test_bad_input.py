"""Every command on every bad input: exit 2 and one line naming the file, configuration and field; never a traceback.

Real dataset files are copied into a temporary folder and corrupted there; each
command runs in a subprocess, as a user runs it.  The table of what was tried,
the exit code and the message is ``docs/bad-input.md``: this test produces it
and fails when the document differs (``SNAPCHECK_WRITE_DOCS=1`` rewrites it).
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from snapcheck.data.locations import resolve_dataset_root

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "bad-input.md"
GROUPS = ("Displaced_BCC", "Liquid", "Volume_BCC")
#: The corrupted file: the first Liquid configuration (100 atoms).
TARGET = "JSON/Liquid/Ta_liquid_1.json"
FITSNAP_REFERENCE = "fitsnap_20May21_Standard"


def copy_dataset(source: Path, destination: Path) -> Path:
    """One real file from each of three groups, and the FitSNAP input."""
    for group in GROUPS:
        (destination / "JSON" / group).mkdir(parents=True)
        first = sorted((source / "JSON" / group).glob("*.json"))[0]
        shutil.copy(first, destination / "JSON" / group / first.name)
    shutil.copy(source / "Ta-example.in", destination)
    return destination


def edit_record(change):
    """A corruption that edits the JSON record of :data:`TARGET` with ``change(record)``."""

    def corrupt(root: Path) -> None:
        path = root / TARGET
        comment, _, body = path.read_text().partition("\n")
        document = json.loads(body)
        change(document["Dataset"]["Data"][0])
        path.write_text(comment + "\n" + json.dumps(document))

    return corrupt


def stress_in_psi(root: Path) -> None:
    """The file declares its Stress in a unit snapcheck does not read (pounds per square inch)."""
    path = root / TARGET
    comment, _, body = path.read_text().partition("\n")
    document = json.loads(body)
    document["Dataset"]["StressStyle"] = "psi"
    path.write_text(comment + "\n" + json.dumps(document))


def write_bytes(content: bytes):
    def corrupt(root: Path) -> None:
        (root / TARGET).write_bytes(content)

    return corrupt


def latin1(root: Path) -> None:
    path = root / TARGET
    path.write_bytes(path.read_bytes().replace(b"# A test", "# Données de test".encode("latin-1")))


def empty_folder(root: Path) -> None:
    shutil.rmtree(root / "JSON")
    (root / "JSON").mkdir()


def image_overlap(record: dict) -> None:
    """Atom 1 sits 0.05 Å from atom 0's periodic image across the a face."""
    a = record["Lattice"][0]
    x0 = record["Positions"][0]
    record["Positions"][1] = [x0[k] + a[k] - 0.05 * a[k] / sum(v * v for v in a) ** 0.5 for k in range(3)]


#: (what the user did, the corruption, words the message must hold besides the file).
DATA_INPUTS = [
    ("binary file named .json", write_bytes(b"\x89PNG\r\n\x1a\n\x00\xff" + bytes(range(256))), "not UTF-8"),
    ("JSON text in Latin-1, not UTF-8", latin1, "not UTF-8"),
    (
        "Positions with 2 columns",
        edit_record(lambda r: r.update(Positions=[p[:2] for p in r["Positions"]])),
        "Positions",
    ),
    ("one force row fewer than atoms", edit_record(lambda r: r.update(Forces=r["Forces"][:-1])), "Forces"),
    ("Energy NaN", edit_record(lambda r: r.update(Energy=float("nan"))), "Energy is nan"),
    (
        "a force component inf",
        edit_record(lambda r: r["Forces"][2].__setitem__(1, float("inf"))),
        "Forces[2][1] is inf",
    ),
    ("a position NaN", edit_record(lambda r: r["Positions"][2].__setitem__(0, float("nan"))), "Positions[2][0] is nan"),
    (
        "two atoms at the same place",
        edit_record(lambda r: r["Positions"].__setitem__(1, r["Positions"][0])),
        "atoms 0 and 1",
    ),
    ("two atoms 0.05 Å apart across the cell face", edit_record(image_overlap), "atoms 0 and 1"),
    ("StressStyle psi, not a unit snapcheck reads", stress_in_psi, "StressStyle 'psi'"),
    ("empty dataset folder", empty_folder, "no FitSNAP JSON files"),
]

#: Every command, on a copied dataset ``{data}``, writing under ``{out}``.
COMMANDS = {
    "check": ["snapcheck.check", "--configs", "3", "--epsilon", "1e-5"],
    "fig1": ["snapcheck.fig1", "--epsilons", "1e-5,1e-4"],
    "fit": ["snapcheck.fit"],
    "oracle export": ["snapcheck.oracle", "export", "--out", "{out}/reference.npz"],
    "table1": ["snapcheck.table1", "--quick"],
    "crosscheck fitsnap": ["snapcheck.crosscheck", "fitsnap", "--reference", "{reference}"],
}

#: Bad flags: (what the user did, the command line after ``python -m``, words the message must hold).
FLAG_INPUTS = [
    (
        "--configs larger than the dataset",
        ["snapcheck.check", "--configs", "4"],
        "--configs 4: the dataset holds only 3",
    ),
    (
        "--configs larger than the dataset",
        ["snapcheck.fig1", "--configs", "4"],
        "--configs 4: the dataset holds only 3",
    ),
    (
        "--configs larger than the dataset",
        ["snapcheck.oracle", "export", "--configs", "4", "--out", "{out}/r.npz"],
        "--configs 4: the dataset holds only 3",
    ),
    ("--epsilons with COUNT=0", ["snapcheck.fig1", "--epsilons", "1e-6:1e-4:0"], "asks for 0 values of ε"),
    ("--epsilons not a number", ["snapcheck.fig2", "--epsilons", "small"], "--epsilons"),
    ("--jobs 0", ["snapcheck.check", "--jobs", "0"], "--jobs"),
    ("--test-fraction outside 0 and 1", ["snapcheck.table1", "--quick", "--test-fraction", "1.5"], "--test-fraction"),
]


def offers_jobs(arguments: list[str]) -> bool:
    """Whether the command (and subcommand) of ``arguments`` takes ``--jobs``: commands offer only flags they use."""
    parser = importlib.import_module(arguments[0]).parser()
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            parser = action.choices[arguments[1]]
    return any("--jobs" in action.option_strings for action in parser._actions)


def run_command(arguments: list[str], data: Path, out: Path, reference: Path) -> tuple[int, str]:
    fill = {"data": data, "out": out, "reference": reference}
    command = [sys.executable, "-m", *(a.format(**fill) for a in arguments), "--data", str(data)]
    one_job = ["--jobs", "1"] if "--jobs" not in arguments and offers_jobs(arguments) else []
    command += ["--out-dir", str(out), *one_job]
    environment = {**os.environ, "OPENBLAS_NUM_THREADS": "1"}
    result = subprocess.run(command, capture_output=True, text=True, cwd=out, env=environment, timeout=300)
    return result.returncode, result.stderr


def describe(arguments: list[str]) -> str:
    shown = [a for a in arguments if not a.startswith("{out}")]
    return "python -m " + " ".join(shown).replace("--out", "--out FILE").replace("{reference}", "DIR")


#: Inputs every command runs on by default (the others run on ``check`` by default, on every command under -m slow).
EVERY_COMMAND_BY_DEFAULT = {"binary file named .json", "Energy NaN", "two atoms 0.05 Å apart across the cell face"}


def data_cases(slow: bool) -> list[tuple]:
    """(input index, command) pairs: the default set, or the rest of the cross product."""
    default = [
        (index, name)
        for index, (what, *_) in enumerate(DATA_INPUTS)
        for name in COMMANDS
        if name == "check" or what in EVERY_COMMAND_BY_DEFAULT
    ]
    every = [(index, name) for index in range(len(DATA_INPUTS)) for name in COMMANDS]
    return [case for case in every if case not in default] if slow else default


def run_cases(tmp_path_factory, pairs: list[tuple], flags: list[tuple]) -> list[dict]:
    """Run each (input, command) on a freshly corrupted copy of real data, two at a time."""
    source = resolve_dataset_root(None)
    cases, folders = [], {}
    for index, name in pairs:
        what, corrupt, words = DATA_INPUTS[index]
        if index not in folders:
            folders[index] = copy_dataset(source, tmp_path_factory.mktemp(f"data{index}"))
            corrupt(folders[index])
        cases.append((what, COMMANDS[name], words, folders[index]))
    if flags:
        clean = copy_dataset(source, tmp_path_factory.mktemp("clean"))
        cases += [(what, arguments, words, clean) for what, arguments, words in flags]

    def one(case):
        what, arguments, words, data = case
        out = Path(tempfile.mkdtemp(dir=data.parent, prefix="out-"))
        code, stderr = run_command(arguments, data, out, source / FITSNAP_REFERENCE)
        return {
            "input": what,
            "command": describe(arguments),
            "code": code,
            "stderr": stderr,
            "words": words,
            "data": data,
        }

    with ThreadPoolExecutor(2) as pool:
        return list(pool.map(one, cases))


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory) -> list[dict]:
    return run_cases(tmp_path_factory, data_cases(slow=False), FLAG_INPUTS)


def problems_of(outcome: dict) -> list[str]:
    """What is wrong with one outcome: exit code, more than one line, a traceback, the file or field unnamed."""
    lines = outcome["stderr"].strip().splitlines()
    message = lines[-1] if lines else ""
    problems = []
    if outcome["code"] != 2:
        problems.append(f"exit {outcome['code']}")
    if len(lines) != 1 or "Traceback" in outcome["stderr"]:
        problems.append(f"{len(lines)} lines on stderr")
    if outcome["words"] not in message:
        problems.append(f"no {outcome['words']!r}")
    names_file = str(outcome["data"] / TARGET) in message
    names_configuration = "configuration 'Ta_liquid_1'" in message or "not UTF-8" in message
    if outcome["input"] in {what for what, *_ in DATA_INPUTS if what != "empty dataset folder"} and not (
        names_file and names_configuration
    ):
        problems.append("the file or configuration is not named")
    return problems


def assert_all_refused(outcomes: list[dict]) -> None:
    wrong = [
        f"{o['input']} / {o['command']}: {', '.join(p)}: {o['stderr'][-300:]}"
        for o in outcomes
        if (p := problems_of(o))
    ]
    assert not wrong, "\n".join(wrong)


@pytest.mark.slow
def test_every_other_command_on_every_other_bad_input(tmp_path_factory):
    assert_all_refused(run_cases(tmp_path_factory, data_cases(slow=True), []))


def test_every_bad_input_exits_2_with_one_line_naming_file_and_field(outcomes):
    assert_all_refused(outcomes)


def table(outcomes: list[dict]) -> str:
    lines = ["| bad input | command | exit | message (stderr) |", "| --- | --- | --- | --- |"]
    for outcome in outcomes:
        message = outcome["stderr"].strip().splitlines()[-1].replace(str(outcome["data"]), "DATA").replace("|", "\\|")
        lines.append(f"| {outcome['input']} | `{outcome['command']}` | {outcome['code']} | {message} |")
    return "\n".join(lines) + "\n"


def test_docs_bad_input_table_is_what_the_commands_print(outcomes):
    produced = table(outcomes)
    text = DOC.read_text()
    start, end = text.index("<!-- table: tests/test_bad_input.py -->\n"), text.index("<!-- end of table -->")
    start += len("<!-- table: tests/test_bad_input.py -->\n")
    if os.environ.get("SNAPCHECK_WRITE_DOCS") == "1":
        DOC.write_text(text[:start] + produced + text[end:])
        text = DOC.read_text()
    assert text[start : text.index("<!-- end of table -->")] == produced, (
        "docs/bad-input.md differs from what the commands print; rerun with SNAPCHECK_WRITE_DOCS=1 and review the diff"
    )
    assert len(produced.splitlines()) == 2 + len(data_cases(slow=False)) + len(FLAG_INPUTS)


def test_a_binary_fit_input_is_bad_input_naming_the_file(tmp_path):
    """``--fit-input`` that is not UTF-8 text: exit 2 naming the file (needs the UnicodeDecodeError branch in
    snapcheck/data/fitsnap_input.py's read_fitsnap_input, next to its OSError branch)."""
    source = resolve_dataset_root(None)
    data = copy_dataset(source, tmp_path / "data")
    binary = tmp_path / "weights.in"
    binary.write_bytes(b"\xff\xfe[BISPECTRUM]\x00")
    out = tmp_path / "out"
    out.mkdir()
    code, stderr = run_command(["snapcheck.fit", "--fit-input", str(binary)], data, out, source / FITSNAP_REFERENCE)
    assert code == 2 and len(stderr.strip().splitlines()) == 1, stderr
    assert stderr.startswith(f"error: {binary}: ") and "UTF-8" in stderr
