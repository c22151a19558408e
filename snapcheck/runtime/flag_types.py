"""The value types of command-line flags: each parses one flag's text or says, in one line, what it expected.

argparse turns the ``ArgumentTypeError`` of a type into a usage error (exit 2,
one line naming the flag; :class:`snapcheck.runtime.cli.Parser`).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

import numpy as np

from snapcheck.base.errors import InputError
from snapcheck.data.fitsnap_input import LOSS_TERMS
from snapcheck.runtime.executors import require_distributed


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive whole number, got {text!r}")
    return value


def positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}") from None
    if not (value > 0 and np.isfinite(value)):
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
    return value


def positive_float_or(word: str) -> Callable[[str], float | str]:
    """A flag type: a positive number, or ``word`` (e.g. ``auto``)."""

    def parse(text: str) -> float | str:
        if text == word:
            return word
        try:
            return positive_float(text)
        except argparse.ArgumentTypeError:
            raise argparse.ArgumentTypeError(f"expected a positive number or {word}, got {text!r}") from None

    return parse


def fraction(text: str) -> float:
    """A flag type: a number strictly between 0 and 1."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number between 0 and 1, got {text!r}") from None
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"expected a number between 0 and 1 (exclusive), got {text!r}")
    return value


def positive_ints(text: str) -> tuple[int, ...]:
    """A flag type: ``2,3,4`` → (2, 3, 4), every value a positive whole number."""
    try:
        return tuple(positive_int(value) for value in text.split(","))
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(f"expected comma-separated positive whole numbers, got {text!r}") from None


def epsilon_values(text: str) -> tuple[float, ...]:
    """``START:STOP:COUNT`` (log-spaced, both ends included, COUNT ≥ 1) or ``1e-6,1e-5,1e-4``."""
    usage = "use START:STOP:COUNT (log-spaced, COUNT ≥ 1) or a comma-separated list of positive numbers"
    try:
        if ":" in text:
            start, stop, count = text.split(":")
            if int(count) < 1:
                raise argparse.ArgumentTypeError(f"{text!r} asks for {count} values of ε; {usage}")
            values = tuple(np.logspace(np.log10(float(start)), np.log10(float(stop)), int(count)))
        else:
            values = tuple(float(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"cannot read {text!r}; {usage}") from None
    if not values or not all(v > 0 and np.isfinite(v) for v in values):
        raise argparse.ArgumentTypeError(f"every ε must be a positive number, got {text!r}")
    return values


def scheduler_address(text: str) -> str | None:
    """``--scheduler``: a Dask scheduler address, checked at parse time (with ``distributed`` installed)."""
    if not text:
        return None
    if "://" not in text:
        raise argparse.ArgumentTypeError(f"expected a Dask scheduler address such as tcp://HOST:PORT, got {text!r}")
    try:
        require_distributed(f"--scheduler {text}")
    except InputError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    return text


#: ``--loss dataset``: the dataset's own training loss (:mod:`snapcheck.studies.loss_choice`).
DATASET_LOSS = "dataset"


def loss_terms(text: str) -> tuple[str, ...] | str:
    """``--loss``: ``dataset``, ``all`` or comma-separated terms of ``energy``, ``forces``, ``stress`` (kept in that
    order)."""
    if text == DATASET_LOSS:
        return DATASET_LOSS
    names = LOSS_TERMS if text == "all" else tuple(part.strip() for part in text.split(","))
    unknown = [name for name in names if name not in LOSS_TERMS]
    if unknown:
        raise argparse.ArgumentTypeError(
            f"expected {DATASET_LOSS}, all, or comma-separated terms of {', '.join(LOSS_TERMS)}, got {text!r}"
        )
    return tuple(name for name in LOSS_TERMS if name in names)
