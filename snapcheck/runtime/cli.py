"""What every ``python -m snapcheck.<command>`` shares: flags, their parsing, and exit codes.

Flags: ``--data`` (a dataset folder or name; default the ``ta-jcp2014`` set,
found as :mod:`snapcheck.data.datasets` describes), ``--out-dir``
(``figures/`` and ``reports/`` go under it; default: the working directory),
``--seed``, ``--jobs`` and ``--scheduler`` (a Dask cluster, default
``$SNAPCHECK_SCHEDULER``; :mod:`snapcheck.runtime.executors`) and ``--debug``.
Commands that take models take them by registry name
(:mod:`snapcheck.models.registry`): ``--model NAME`` or ``--models A,B``.

Exit codes (:mod:`snapcheck.base.errors`): 0 the check passed, 1 it ran and
failed, 2 bad usage or bad input (one line on stderr naming the file,
configuration and field), 3 an internal error (one line; the traceback with
``--debug``).  Results go to files and a short summary to stdout.
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import NoReturn

import numpy as np

from snapcheck.base.errors import EXIT_BAD_INPUT, EXIT_INTERNAL_ERROR, CheckFailed, InputError
from snapcheck.runtime.executors import one_blas_thread, require_distributed


class Parser(argparse.ArgumentParser):
    """argparse, with usage errors as one line and exit code 2."""

    def error(self, message: str):
        self.exit(EXIT_BAD_INPUT, f"{self.prog}: error: {message}\n")


def common_parser(prog: str, description: str) -> Parser:
    parser = Parser(prog=prog, description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--data",
        default=None,
        metavar="DIR|NAME",
        help="dataset folder or name (default: ta-jcp2014 via $SNAPCHECK_DATA, the cache, or a download)",
    )
    parser.add_argument(
        "--out-dir",
        type=Path,
        default=Path.cwd(),
        metavar="DIR",
        help="write figures/ and reports/ under DIR (default: the working directory)",
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=0,
        help="seed of every random draw: the untrained model, splits, networks (default: 0)",
    )
    parser.add_argument(
        "--jobs", type=positive_int, default=os.cpu_count() or 1, help="worker processes (default: all cores)"
    )
    parser.add_argument(
        "--scheduler",
        type=scheduler_address,
        default=os.environ.get("SNAPCHECK_SCHEDULER") or None,
        metavar="tcp://HOST:PORT",
        help="run on this Dask cluster instead of --jobs local processes (default: $SNAPCHECK_SCHEDULER; needs snapcheck[dask])",
    )
    parser.add_argument("--debug", action="store_true", help="print the traceback of an internal error")
    return parser


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


def add_model_arguments(parser: argparse.ArgumentParser, *, several: bool, default: str) -> None:
    """``--model NAME`` (or ``--models A,B``), with ``--fit-input`` for ``fitted``, by registry name."""
    from snapcheck.models.registry import model_names

    names = ", ".join(model_names())
    if several:
        parser.add_argument(
            "--models",
            type=lambda text: tuple(n.strip() for n in text.split(",") if n.strip()),
            default=tuple(default.split(",")),
            metavar="A,B",
            help=f"comma-separated models: {names} or FILE.snapcoeff (default: {default})",
        )
    else:
        parser.add_argument(
            "--model", default=default, metavar="NAME", help=f"{names} or FILE.snapcoeff (default: {default})"
        )
        parser.add_argument(
            "--snapparam",
            type=Path,
            default=None,
            metavar="FILE",
            help="the .snapparam of a FILE.snapcoeff model (default: beside it)",
        )
    add_fit_input_argument(parser)


def add_fit_input_argument(parser: argparse.ArgumentParser) -> None:
    """``--fit-input FILE.in``: the FitSNAP input of a fit (group weights and settings)."""
    parser.add_argument(
        "--fit-input",
        type=Path,
        default=None,
        metavar="FILE.in",
        help="FitSNAP input of the fit: group weights and settings (default: the dataset's Ta-example.in)",
    )


def add_configs_argument(parser: argparse.ArgumentParser, default: int | None) -> None:
    """``--configs N``: a subset of N configurations stratified by group."""
    shown = "all" if default is None else str(default)
    parser.add_argument(
        "--configs",
        type=positive_int,
        default=default,
        metavar="N",
        help=f"use N configurations, stratified by group (default: {shown})",
    )


def run(main: Callable[[list[str] | None], int], argv: list[str] | None = None) -> NoReturn:
    """Run a command's ``main``, numpy's BLAS on one thread (:func:`~snapcheck.runtime.executors.one_blas_thread`),
    and exit with the code of :mod:`snapcheck.base.errors`."""
    arguments = sys.argv[1:] if argv is None else argv
    try:
        with one_blas_thread():
            code = main(argv)
    except InputError as error:
        print(f"error: {error}", file=sys.stderr)
        code = error.exit_code
    except CheckFailed as failure:
        print(f"FAIL: {failure}", file=sys.stderr)
        code = failure.exit_code
    except KeyboardInterrupt:
        print("interrupted; run the same command again to resume from the partial results", file=sys.stderr)
        code = 130
    except Exception as error:  # an internal error: one line, the traceback on request
        if "--debug" in arguments:
            traceback.print_exc()
        cause = str(error).splitlines()[0] if str(error) else ""
        print(
            f"internal error: {type(error).__name__}: {cause} (run again with --debug for the traceback)",
            file=sys.stderr,
        )
        code = EXIT_INTERNAL_ERROR
    sys.exit(code)


def figures_parser(prog: str, description: str, *, fixed_g0: bool) -> Parser:
    """The flags of ``fig1``, ``fig2`` and ``figures``: the ε grid, precision, subset and models."""
    from snapcheck.gradients.epsilon import EPSILON_GRID

    parser = common_parser(prog, description)
    grid = f"{EPSILON_GRID[0]:g}:{EPSILON_GRID[-1]:g}:{len(EPSILON_GRID)}"
    parser.add_argument(
        "--epsilons",
        type=epsilon_values,
        default=EPSILON_GRID,
        metavar="GRID",
        help=f"START:STOP:COUNT (log-spaced) or a comma list (default: {grid})",
    )
    parser.add_argument(
        "--precision",
        choices=("float64", "float32"),
        default="float64",
        help="float32 adds an emulated single-precision sweep and figures/fig1_precision.png",
    )
    add_configs_argument(parser, None)
    add_model_arguments(parser, several=True, default="trained,untrained")
    if fixed_g0:
        parser.add_argument(
            "--g0",
            type=positive_float,
            default=1.0,
            metavar="EV_PER_A",
            help="the fixed g₀ of Fig. 2, in eV/Å (default: 1)",
        )
    return parser


def execution_options(args: argparse.Namespace, command: str) -> dict:
    """The keyword arguments of :func:`snapcheck.runtime.executors.run_chunks` from a command's flags.

    Partial results go to ``<out-dir>/partials/`` (their keys tell the runs and
    commands apart), the run log to ``<out-dir>/reports/<command>_run.json``.
    """
    return {
        "jobs": args.jobs,
        "scheduler": args.scheduler,
        "partials": args.out_dir / "partials",
        "run_log": args.out_dir / "reports" / f"{command}_run.json",
    }
