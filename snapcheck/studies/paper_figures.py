"""The paper's Figs. 1 and 2 from a dataset and model names: what ``fig1``, ``fig2`` and ``figures`` run.

Loads the configurations (a stratified subset of ``configs``, or all) and the
named models of the registry (:mod:`snapcheck.models.registry`), and hands
them to :func:`snapcheck.studies.epsilon_study.run_figures`, which sweeps ε once
for every figure and writes the tables and figures.  The pool's worker
processes start first, so that their start-up overlaps the loading.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from snapcheck.base.report import Summary
from snapcheck.data.datasets import load_configurations
from snapcheck.data.selection import AtMost
from snapcheck.models.registry import ModelRequest, load_model
from snapcheck.runtime.executors import prestart
from snapcheck.studies.epsilon_study import FigureSpec, run_figures


def make_paper_figures(
    figures: Sequence[FigureSpec],
    *,
    data: str | Path | None,
    configs: int | AtMost | None,
    models: Sequence[str],
    seed: int,
    fit_input: Path | None,
    epsilons: tuple[float, ...],
    precision: str,
    out_dir: Path,
    execution: dict,
) -> Summary:
    """Sweep once for ``figures`` and write them; ``precision`` ``float32`` adds the emulated single-precision sweep.

    ``execution``: the keyword arguments of
    :func:`snapcheck.runtime.executors.run_chunks` (``jobs``, ``scheduler``,
    ``partials``, ``run_log``).
    """
    prestart(execution["jobs"], execution["scheduler"])  # the workers start while the data and models load
    configurations = load_configurations(data, count=configs)
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
    )
    return Summary(tuple(lines))
