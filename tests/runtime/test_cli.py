"""The exit-code contract of every command: 0 passed, 1 check failed (verdict on stdout), 2 bad input, 3 internal error.

Also the help texts' conversion to plain text and the subcommand descriptions taken from a command's docstring.
"""

from __future__ import annotations

import pytest

from snapcheck.base.errors import CheckFailed, InputError
from snapcheck.base.report import Summary, Verdict
from snapcheck.runtime.cli import Parser, add_subcommand, plain_text, report, run


def raising(error: BaseException):
    def main(argv):
        raise error

    return main


@pytest.mark.parametrize(
    ("error", "code", "line"),
    [
        (InputError("data.json: configuration 'x': Forces[0][1] is nan"), 2, "error: data.json: configuration 'x'"),
        (
            Exception("ERROR: Lost atoms: original 100 current 0 (src/thermo.cpp:511)\nmore"),
            3,
            "internal error: Exception: ERROR: Lost atoms",
        ),
        (ValueError("FitSNAP: could not convert string to float"), 3, "internal error: ValueError: FitSNAP"),
        (UnicodeDecodeError("utf-8", b"\xff", 0, 1, "invalid start byte"), 3, "internal error: UnicodeDecodeError"),
    ],
    ids=["input", "lammps", "valueerror", "unicode"],
)
def test_every_error_maps_to_its_code_with_one_line(error, code, line, capsys):
    with pytest.raises(SystemExit) as exit_:
        run(raising(error), [])
    err = capsys.readouterr().err
    assert exit_.value.code == code
    assert err.startswith(line) and len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_debug_prints_the_traceback_of_an_internal_error(capsys):
    with pytest.raises(SystemExit) as exit_:
        run(raising(RuntimeError("boom")), ["--debug"])
    err = capsys.readouterr().err
    assert (
        exit_.value.code == 3
        and "Traceback" in err
        and err.strip().endswith("(run again with --debug for the traceback)")
    )


def test_a_failed_check_prints_its_verdict_on_stdout_whether_returned_or_raised(capsys):
    """One channel: a study's FAIL verdict and a CheckFailed both end stdout with one FAIL line, exit 1."""
    returned = report(Summary(("Err = 2e-7",), Verdict(False, "Err[∇̃L] 2e-7 > 1e-7; worst group Surface")))
    out, err = capsys.readouterr()
    assert returned == 1 and out.splitlines()[-1] == "FAIL: Err[∇̃L] 2e-7 > 1e-7; worst group Surface" and not err
    with pytest.raises(SystemExit) as exit_:
        run(raising(CheckFailed("candidate.npz: the candidate holds NaN or inf: L is not finite")), [])
    out, err = capsys.readouterr()
    assert exit_.value.code == 1 and out == "FAIL: candidate.npz: the candidate holds NaN or inf: L is not finite\n"
    assert not err
    assert report(Summary(("timings",))) == 0 and capsys.readouterr().out == "timings\n"


def test_help_text_drops_sphinx_markup_and_keeps_the_names():
    text = "uses :mod:`snapcheck.studies.golden` and :func:`~snapcheck.data.datasets.fetch` on ``--data``"
    assert plain_text(text) == "uses snapcheck.studies.golden and snapcheck.data.datasets.fetch on --data"


def test_a_subcommand_is_described_by_its_paragraph_of_the_command_docstring(capsys):
    doc = """python -m snapcheck.x: things.

    go: do the thing.  Then more about it
    on two lines.

    stop NAME: end it; exit 1 if it fails.
    """
    parser = Parser(prog="x", description=doc)
    commands = parser.add_subparsers(dest="command")
    add_subcommand(commands, "go", doc)
    stop = add_subcommand(commands, "stop", doc)
    assert stop.description == "stop NAME: end it; exit 1 if it fails."
    assert [action.help for action in commands._choices_actions] == ["do the thing", "end it"]
    with pytest.raises(LookupError, match="no paragraph 'name: …' for the subcommand 'run'"):
        add_subcommand(commands, "run", doc)
    with pytest.raises(SystemExit) as exit_:
        parser.parse_args(["go", "--nope"])
    assert exit_.value.code == 2 and len(capsys.readouterr().err.strip().splitlines()) == 1
