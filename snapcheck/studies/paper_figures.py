"""The paper's Figs. 1 and 2 from a dataset and model names: what ``fig1``, ``fig2`` and ``figures`` run.

Loads the configurations (a stratified subset of ``configs``, or all), the loss
(:func:`snapcheck.studies.loss_choice.choose_loss`: the paper's force loss by default, or a
training loss over energy, forces and stress with the weights of the dataset's FitSNAP input or
``fit_input``) and the named models of the registry (:mod:`snapcheck.models.registry`), and
hands them to :func:`snapcheck.studies.epsilon_study.run_figures`, which sweeps ε once for every
figure and writes the tables and figures (a training loss's under names that carry its label,
``fig1_stress.csv``; the run log too, ``reports/fig1_stress_run.json``).  The pool's worker
processes start first, so that their start-up overlaps the loading.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from snapcheck.base.report import Summary
from snapcheck.data.datasets import load_configurations
from snapcheck.data.selection import AtMost
from snapcheck.models.registry import ModelRequest, load_model
from snapcheck.runtime import cli
from snapcheck.runtime.executors import prestart
from snapcheck.studies.epsilon_study import FigureSpec, run_figures
from snapcheck.studies.loss_choice import choose_loss


def make_paper_figures(
    figures: Sequence[FigureSpec],
    *,
    data: str | Path | None,
    configs: int | AtMost | None,
    models: Sequence[str],
    seed: int,
    fit_input: Path | None,
    loss: tuple[str, ...] | str,
    epsilons: tuple[float, ...],
    precision: str,
    out_dir: Path,
    execution: dict,
) -> Summary:
    """Sweep once for ``figures`` and write them; ``precision`` ``float32`` adds the emulated single-precision sweep.

    ``loss``: what ``--loss`` parsed (:func:`snapcheck.runtime.flag_types.loss_terms`).  ``execution``: the
    keyword arguments of :func:`snapcheck.runtime.executors.run_chunks` (``jobs``, ``scheduler``,
    ``partials``, ``run_log``); a training loss's label goes into the run log's name.
    """
    prestart(execution["jobs"], execution["scheduler"])  # the workers start while the data and models load
    configurations = load_configurations(data, count=configs)
    choice = choose_loss(loss, data=data, fit_input=fit_input, configurations=configurations)
    run_log = execution.get("run_log")
    if run_log is not None and not choice.paper:
        name = f"{run_log.name.removesuffix('_run.json')}_{choice.label}_run.json"
        execution = {**execution, "run_log": run_log.with_name(name)}
    request = ModelRequest(seed=seed, data=data, fit_input=fit_input)
    named = [load_model(name, request) for name in models]
    precisions = ("float64", "float32") if precision == "float32" else ("float64",)
    lines = run_figures(
        configurations,
        named,
        list(figures),
        epsilons=epsilons,
        precisions=precisions,
        out_dir=out_dir,
        execution=execution,
        loss=choice,
    )
    return Summary(tuple(lines))


def paper_figures_command(figures: Sequence[FigureSpec], args: argparse.Namespace, command: str) -> Summary:
    """:func:`make_paper_figures` with the flags of :func:`snapcheck.runtime.cli.figure_parser` (``command``'s)."""
    return make_paper_figures(
        figures,
        data=args.data,
        configs=args.configs,
        models=args.models,
        seed=args.seed,
        fit_input=args.fit_input,
        loss=args.loss,
        epsilons=args.epsilons,
        precision=args.precision,
        out_dir=args.out_dir,
        execution=cli.execution_options(args, command),
    )
