"""The exit-code contract of every command: 0 passed, 1 check failed, 2 bad input, 3 internal error (one line)."""

from __future__ import annotations

import pytest

from snapcheck.base.errors import CheckFailed, InputError
from snapcheck.runtime.cli import run


def raising(error: BaseException):
    def main(argv):
        raise error

    return main


@pytest.mark.parametrize(
    ("error", "code", "line"),
    [
        (InputError("data.json: configuration 'x': Forces[0][1] is nan"), 2, "error: data.json: configuration 'x'"),
        (CheckFailed("Err = 1 > 1e-7"), 1, "FAIL: Err = 1 > 1e-7"),
        (
            Exception("ERROR: Lost atoms: original 100 current 0 (src/thermo.cpp:511)\nmore"),
            3,
            "internal error: Exception: ERROR: Lost atoms",
        ),
        (ValueError("FitSNAP: could not convert string to float"), 3, "internal error: ValueError: FitSNAP"),
        (UnicodeDecodeError("utf-8", b"\xff", 0, 1, "invalid start byte"), 3, "internal error: UnicodeDecodeError"),
    ],
    ids=["input", "check", "lammps", "valueerror", "unicode"],
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
