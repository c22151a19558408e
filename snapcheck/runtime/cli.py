"""What every ``python -m snapcheck.<command>`` shares: flags, their parsing, exit codes and the summary.

A command composes its parser from small groups of flags, offering only the
ones it uses: :func:`add_data` (``--data``: a registered dataset name, a folder
or one extxyz file; default the ``ta-jcp2014`` set, found as
:mod:`snapcheck.data.locations` describes), :func:`add_out_dir` (``--out-dir``:
``figures/`` and ``reports/`` go under it; default the working directory),
:func:`add_seed`, :func:`add_execution` (``--jobs``, and ``--scheduler``, a Dask
cluster, default ``$SNAPCHECK_SCHEDULER``; :mod:`snapcheck.runtime.executors`),
:func:`configs_flag`, :func:`model_flags` and :func:`models_flag` (``--model NAME`` or
``--models A,B`` by registry name, :mod:`snapcheck.models.registry`).  Every
parser has ``--debug``.  Help texts are plain text: :class:`Parser` turns the
docstrings it is given into it (:func:`plain_text`).

Exit codes (:mod:`snapcheck.base.errors`): 0 the check passed, 1 it ran and
failed (the verdict and the worst case on stdout), 2 bad usage or bad input
(one line on stderr naming the file, configuration and field), 3 an internal
error (one line; the traceback with ``--debug``).  Results go to files and a
short summary to stdout (:func:`report`).
"""

from __future__ import annotations

import argparse
import inspect
import os
import re
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import NoReturn

from snapcheck.base.errors import EXIT_BAD_INPUT, EXIT_INTERNAL_ERROR, CheckFailed, InputError
from snapcheck.base.report import Summary, Verdict
from snapcheck.data.selection import AtMost
from snapcheck.runtime.executors import one_blas_thread
from snapcheck.runtime.flag_types import epsilon_values, loss_terms, positive_float, positive_int, scheduler_address

#: Sphinx roles (``:mod:`x```, ``:func:`~a.b```) and inline literals (double backquotes) of docstrings.
_MARKUP = re.compile(r":[a-z]+:`~?([^`]+)`|``([^`]+)``")
#: The end of a sentence: a full stop, white space, a capital letter (``Figs. 1`` and ``Eq. 7`` go on).
_SENTENCE_END = re.compile(r"\.\s+(?=[A-Z])")


def plain_text(text: str | None) -> str | None:
    """A docstring as ``--help`` shows it: Sphinx roles and double backquotes removed, the names kept in full."""
    return None if text is None else _MARKUP.sub(lambda match: match.group(1) or match.group(2), text)


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """The description as written; every option's default shown, unless its help names it or it is unset."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        default = action.default
        if "default" in text or default in (None, False, argparse.SUPPRESS) or isinstance(default, Path):
            return text
        shown = (
            ",".join(f"{v:g}" if isinstance(v, float) else str(v) for v in default)
            if isinstance(default, tuple)
            else default
        )
        return f"{text} (default: {shown})".replace("%", "%%")


class Parser(argparse.ArgumentParser):
    """argparse with usage errors as one line and exit code 2, a plain-text description, and ``--debug``."""

    def __init__(self, *args, description: str | None = None, **kwargs):
        kwargs.setdefault("formatter_class", HelpFormatter)
        super().__init__(*args, description=plain_text(description), **kwargs)
        self.add_argument("--debug", action="store_true", help="print the traceback of an internal error")

    def error(self, message: str):
        self.exit(EXIT_BAD_INPUT, f"{self.prog}: error: {message}\n")


FlagGroup = Callable[[argparse.ArgumentParser], None]


def command_parser(command: str, description: str | None, *groups: FlagGroup) -> Parser:
    """The parser of ``python -m snapcheck.<command>``, with the flags of ``groups`` (and ``--debug``)."""
    parser = Parser(prog=f"python -m snapcheck.{command}", description=description)
    for group in groups:
        group(parser)
    return parser


def add_subcommand(commands, name: str, command_doc: str, *groups: FlagGroup, study: Callable | None = None) -> Parser:
    """A subcommand described by its paragraph of the command's docstring, the one that starts ``name …:``.

    The paragraph is the subcommand's ``--help`` description; its first
    sentence after the colon is its line in the command's list.  ``study``, if
    given, is the library function it runs (``args.study``, called by
    :func:`call_with_flags`).
    """
    paragraph = subcommand_paragraph(command_doc, name)
    parser = commands.add_parser(name, help=plain_text(subcommand_summary(paragraph)), description=paragraph)
    for group in groups:
        group(parser)
    if study is not None:
        parser.set_defaults(study=study)
    return parser


def subcommand_summary(paragraph: str) -> str:
    """A subcommand's line in its command's list: the first sentence after the paragraph's colon, up to a
    ``; `` if it has one, on one line and without its full stop."""
    after = " ".join(paragraph.partition(":")[2].split())
    return _SENTENCE_END.split(after)[0].split("; ")[0].rstrip(".")


def subcommand_paragraph(command_doc: str, name: str) -> str:
    """The paragraph of ``command_doc`` that starts with ``name`` (and a colon before the end of its first line)."""
    for paragraph in command_doc.split("\n\n"):
        first = paragraph.strip().split("\n")[0]
        if first.split(":")[0].split()[:1] == [name] and ":" in first:
            return paragraph.strip()
    raise LookupError(f"the command's docstring has no paragraph 'name: …' for the subcommand {name!r}")


def add_data(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data",
        default=None,
        metavar="NAME|DIR|FILE.xyz",
        help="a registered dataset (python -m snapcheck.datasets list), a dataset folder or one extxyz file"
        " (default: ta-jcp2014 from $SNAPCHECK_DATA, $SNAPCHECK_DATASETS, the cache, or a download)",
    )


def add_out_dir(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--out-dir",
        type=Path,
        default=Path.cwd(),
        metavar="DIR",
        help="write figures/ and reports/ under DIR (default: the working directory)",
    )


def add_seed(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--seed",
        type=int,
        default=0,
        help="seed of every random draw: the untrained model, splits, networks (default: 0)",
    )


def add_execution(parser: argparse.ArgumentParser) -> None:
    """``--jobs`` and ``--scheduler``: where the work runs (:func:`execution_options`)."""
    add_jobs(parser)
    parser.add_argument(
        "--scheduler",
        type=scheduler_address,
        default=os.environ.get("SNAPCHECK_SCHEDULER") or None,
        metavar="tcp://HOST:PORT",
        help="run on this Dask cluster instead of --jobs local processes "
        "(default: $SNAPCHECK_SCHEDULER; needs snapcheck[dask])",
    )


def add_jobs(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--jobs", type=positive_int, default=os.cpu_count() or 1, help="worker processes (default: all cores)"
    )


def report(summary: Summary) -> int:
    """Print a study's summary (its lines, then a check's verdict) to stdout; return the exit code."""
    print(summary.text)
    return summary.exit_code


def model_flags(default: str) -> FlagGroup:
    """``--model NAME`` (a registry name or FILE.snapcoeff) with ``--snapparam``, and ``--fit-input`` for ``fitted``."""

    def add(parser: argparse.ArgumentParser) -> None:
        from snapcheck.models.registry import model_names

        parser.add_argument(
            "--model",
            default=default,
            metavar="NAME",
            help=f"{', '.join(model_names())} or FILE.snapcoeff (default: {default})",
        )
        parser.add_argument(
            "--snapparam",
            type=Path,
            metavar="FILE",
            help="the .snapparam of a FILE.snapcoeff model (default: beside it)",
        )
        add_fit_input(parser)

    return add


def models_flag(default: str) -> FlagGroup:
    """``--models A,B`` (registry names or FILE.snapcoeff), and ``--fit-input`` for ``fitted``."""

    def add(parser: argparse.ArgumentParser) -> None:
        from snapcheck.models.registry import model_names

        parser.add_argument(
            "--models",
            type=lambda text: tuple(n.strip() for n in text.split(",") if n.strip()),
            default=tuple(default.split(",")),
            metavar="A,B",
            help=f"comma-separated models: {', '.join(model_names())} or FILE.snapcoeff (default: {default})",
        )
        add_fit_input(parser)

    return add


def add_fit_input(parser: argparse.ArgumentParser) -> None:
    """``--fit-input FILE.in``: the FitSNAP input of a fit (group weights and settings)."""
    parser.add_argument(
        "--fit-input",
        type=Path,
        metavar="FILE.in",
        help="FitSNAP input of the fit: group weights and settings (default: the dataset's own)",
    )


def loss_flag(default: str, weights: str = "the dataset's weights (or --fit-input)") -> FlagGroup:
    """``--loss TERMS``: the loss whose gradient is checked (:mod:`snapcheck.studies.loss_choice`).

    ``forces`` is the paper's force loss ½Σ|f̂ − f|²; any other choice is FitSNAP's training loss over those
    terms with ``weights`` (by default those of the dataset's FitSNAP input, or ``--fit-input``); ``dataset`` is the
    dataset's own.
    """

    def add(parser: argparse.ArgumentParser) -> None:
        parser.add_argument(
            "--loss",
            type=loss_terms,
            default=loss_terms(default),
            metavar="TERMS",
            help=f"forces (the paper's ½Σ|f̂ − f|²), or a training loss under {weights}: "
            "comma-separated energy,forces,stress, all, or dataset (every term the dataset's FitSNAP input weighs "
            f"and its data holds) (default: {default})",
        )

    return add


def configs_flag(default: int | None) -> FlagGroup:
    """``--configs N``: a subset of N configurations stratified by group.

    A default N takes every configuration of a smaller dataset
    (:class:`~snapcheck.data.selection.AtMost`); an N given on the command line
    that is larger than the dataset is bad input.
    """
    shown = "all" if default is None else AtMost(default)

    def add(parser: argparse.ArgumentParser) -> None:
        parser.add_argument(
            "--configs",
            type=positive_int,
            default=None if default is None else AtMost(default),
            metavar="N",
            help=f"use N configurations, stratified by group (default: {shown})",
        )

    return add


def call_with_flags(study: Callable[..., Summary], args: argparse.Namespace) -> Summary:
    """``study(**flags)``: a library function whose keyword arguments are named as the flags' destinations."""
    return study(**{name: getattr(args, name) for name in inspect.signature(study).parameters})


def run(main: Callable[[list[str] | None], int], argv: list[str] | None = None) -> NoReturn:
    """Run a command's ``main``, numpy's BLAS on one thread (:func:`~snapcheck.runtime.executors.one_blas_thread`),
    and exit with the code of :mod:`snapcheck.base.errors`.

    A :class:`~snapcheck.base.errors.CheckFailed` is a failed check like any
    other: its verdict goes to stdout, exit 1.
    """
    arguments = sys.argv[1:] if argv is None else argv
    try:
        with one_blas_thread():
            code = main(argv)
    except InputError as error:
        print(f"error: {error}", file=sys.stderr)
        code = error.exit_code
    except CheckFailed as failure:
        print(Verdict(False, str(failure)).line)
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


def figure_flags(*, fixed_g0: bool, precision_outputs: str) -> FlagGroup:
    """The flags of ``fig1``, ``fig2`` and ``figures``: the ε grid, precision, subset and models (and Fig. 2's g₀).

    ``precision_outputs`` says what ``--precision float32`` adds to the command's outputs.
    """

    def add(parser: argparse.ArgumentParser) -> None:
        from snapcheck.gradients.epsilon import EPSILON_GRID

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
            help=f"float32 adds an emulated single-precision sweep: {precision_outputs} (default: %(default)s)",
        )
        configs_flag(None)(parser)
        models_flag("trained,untrained")(parser)
        if fixed_g0:
            parser.add_argument(
                "--g0",
                type=positive_float,
                default=1.0,
                metavar="G0",
                help="the fixed g₀ of Fig. 2, in eV/Å (Å/eV under a training --loss) (default: 1)",
            )

    return add


def figure_parser(command: str, description: str | None, *, fixed_g0: bool, precision_outputs: str) -> Parser:
    """The parser of ``fig1``, ``fig2`` or ``figures``: the data, output, seed and execution flags, the
    :func:`figure_flags` and ``--loss`` (default: the paper's force loss)."""
    figures = figure_flags(fixed_g0=fixed_g0, precision_outputs=precision_outputs)
    return command_parser(
        command, description, add_data, add_out_dir, add_seed, add_execution, figures, loss_flag("forces")
    )


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


def names_flag(flag: str, choices: tuple[str, ...] | None, what: str) -> FlagGroup:
    """``--FLAG A,B``: comma-separated ``what``, each one of ``choices`` (a usage error lists them); default None: all.

    ``choices`` None: the study checks the names itself (when knowing them would import what ``--help`` must not).
    """
    among = f" among {', '.join(choices)}" if choices else ""

    def parse(text: str) -> tuple[str, ...]:
        names = tuple(name.strip() for name in text.split(",") if name.strip())
        if not names or any(choices is not None and name not in choices for name in names):
            raise argparse.ArgumentTypeError(f"expected comma-separated {what}{among}, got {text!r}")
        return names

    def add(parser: argparse.ArgumentParser) -> None:
        parser.add_argument(
            flag, type=parse, default=None, metavar="A,B", help=f"comma-separated {what}{among} (default: all)"
        )

    return add
