"""One error hierarchy, and the exit code each kind of error means.

Every ``python -m snapcheck.<command>`` maps what went wrong to one exit code
(:func:`snapcheck.runtime.cli.run`):

======  ==========================  ==================================================
code    raised as                   meaning
======  ==========================  ==================================================
0       (nothing)                   the check passed
1       :class:`CheckFailed`        the check ran and failed: the numbers disagree
2       :class:`InputError`         bad usage or bad input: a file, a configuration, a
                                    flag or the environment (a missing package) is
                                    wrong; the message names which and what to do
3       any other exception         an internal error: a bug in snapcheck or a
                                    library it drives; one line, the traceback with
                                    ``--debug``
======  ==========================  ==================================================

Messages are one line and name the file, the configuration and the field, in
the user's words (``--epsilons``, not the name of a Python function).
"""

from __future__ import annotations

EXIT_OK, EXIT_CHECK_FAILED, EXIT_BAD_INPUT, EXIT_INTERNAL_ERROR = 0, 1, 2, 3


class SnapcheckError(Exception):
    """Base of snapcheck's own errors."""

    exit_code = EXIT_INTERNAL_ERROR


class InputError(SnapcheckError, ValueError):
    """Bad usage or bad input (exit 2): the message names the file, configuration and field."""

    exit_code = EXIT_BAD_INPUT


class MissingDependency(InputError):
    """An optional package (FitSNAP, Dask's distributed, torch) is absent or unusable.

    The message says how to install it.
    """


class CheckFailed(SnapcheckError):
    """The check ran and its numbers disagree (exit 1)."""

    exit_code = EXIT_CHECK_FAILED


def locate(source: str, name: str) -> str:
    """``<file>: configuration '<name>'``, the prefix of every message about one configuration."""
    return f"{source or '<memory>'}: configuration {name!r}"
