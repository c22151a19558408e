"""What a command prints when it is done: a few lines of results and, for a check, one verdict.

Every study a command calls returns a :class:`Summary`; the command prints it
(:func:`snapcheck.runtime.cli.report`) and exits with its code.  A check that
ran states its verdict on the last line of stdout, ``PASS: …`` or ``FAIL: …``,
naming the figure that decided it and the worst case; a benchmark or a figure
has no verdict (exit 0).  A check that cannot finish because its numbers are
not even finite raises :class:`~snapcheck.base.errors.CheckFailed`, which is
printed the same way (``FAIL: …`` on stdout, exit 1).
"""

from __future__ import annotations

from dataclasses import dataclass

from snapcheck.base.errors import EXIT_CHECK_FAILED, EXIT_OK


@dataclass(frozen=True)
class Verdict:
    """A check's outcome: passed or not, and why (the figure that decided it, against what, the worst case)."""

    passed: bool
    reason: str

    @property
    def line(self) -> str:
        return f"{'PASS' if self.passed else 'FAIL'}: {self.reason}"


@dataclass(frozen=True)
class Summary:
    """A command's stdout: result lines, then the verdict of a check (None for a benchmark or a figure)."""

    lines: tuple[str, ...]
    verdict: Verdict | None = None

    @property
    def exit_code(self) -> int:
        return EXIT_OK if self.verdict is None or self.verdict.passed else EXIT_CHECK_FAILED

    @property
    def text(self) -> str:
        return "\n".join([*self.lines, *([self.verdict.line] if self.verdict else [])])
