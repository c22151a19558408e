"""ε sweeps of the paper's gradient estimate against the exact gradient (Figs. 1–2), for any loss.

For every configuration and every model the exact quantities (L, ∇θL and the
force errors g, from one full LAMMPS evaluation) are computed once.  Then, for
every g₀ rule, every emulated precision and every ε of the grid, the paper's
estimates ∇̃θL (Eq. 7) and L̃ (Eq. 13) are formed from two fast evaluations at
r± (Eq. 8).  The error measures of Eqs. 11 and 14 over the results are
:mod:`snapcheck.studies.sweep_errors`.

**A training loss** (``SweepSpec.loss`` other than ``("forces",)``) is FitSNAP's ½ Σ w²(Aθ − b)² under a
FitSNAP input's weights (each in the inverse unit of its row): L dimensionless, ∇θL in 1/eV.  Its gradient
is docs/theory.md's generalised Eq. 7: the energy term exact (first order), the force and stress terms one
difference along (r − tg)(I + tH)ᵀ, cell (I + tH)ᵀ, g = ∂L/∂f̂ (Å/eV), H = (1/V) ∂L/∂σ̂; the path speed g₀
is in Å/eV.  The proxy is D̃ = (Ê(η) − Ê(−η))/(2η) against D = Σᵢ gᵢ·f̂ᵢ + (∂L/∂σ̂):σ̂ (``err_loss``).

Work is spread by configuration, in chunks, over the executor of
:mod:`snapcheck.runtime.executors` (this process, a local pool or a Dask cluster),
resumable from partial results.  A task builds one
:class:`~snapcheck.descriptors.engine.SnapEngine` per configuration of its chunk and
keeps it for every model, g₀, precision and ε of that configuration.  Each
configuration's numbers depend on that configuration alone, so the results are
the same, bit for bit, for any executor, number of workers or scheduling order.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from snapcheck.base.errors import InputError
from snapcheck.data.configuration import Configuration
from snapcheck.data.fitsnap_input import LOSS_TERMS, FitInput
from snapcheck.data.units import NKTV2P
from snapcheck.descriptors.engine import SnapEngine
from snapcheck.descriptors.results import SummedDescriptors
from snapcheck.gradients.epsilon import EPSILON_GRID
from snapcheck.gradients.paper import (
    A0,
    Evaluation,
    LossPath,
    central_difference,
    characteristic_force_error,
    loss_estimate,
)
from snapcheck.models.linear_fit import training_loss
from snapcheck.models.linear_snap import LinearSnap
from snapcheck.runtime.executors import map_configurations

#: The paper's force loss ½Σ|f̂ − f|² (Eq. 2), the default of every sweep.
PAPER_LOSS = ("forces",)
#: eV/Å: force errors below this everywhere are round-off (perfect crystals: DFT forces zero by symmetry), five
#: orders of magnitude below the ≈ 1e-3 eV/Å precision of DFT forces.
ROUNDOFF_FORCE_ERROR = 1e-8
#: Å: Fig. 1's largest step (ε = 0.1): ≤ 5 % strain of Ta's smallest cell (2.2 Å); a fixed g₀ under a training
#: loss takes no larger step (1 Å compresses a 3.3 Å cell by 30 %, past LAMMPS's neighbour lists).
LARGEST_STEP = EPSILON_GRID[-1] * A0


@dataclass(frozen=True)
class SweepSpec:
    """What to sweep: models × g₀ rules × precisions × ε, for one loss.

    ``g0_rules`` holds ``"max"`` (Eq. 10) and/or fixed values (eV/Å; Å/eV for a training loss).  Without
    ``fit_input`` the loss is the paper's force loss ½Σ|f̂ − f|² (Eq. 2, ``loss`` ``("forces",)``); with it,
    any selection of ``energy``, ``forces`` and ``stress`` is FitSNAP's loss over those rows with the weights and
    ESHIFT of ``fit_input`` (:func:`snapcheck.models.linear_fit.training_loss`); ``("forces",)`` is then its
    weighted force term alone.
    """

    models: tuple[LinearSnap, ...]
    epsilons: tuple[float, ...] = EPSILON_GRID
    g0_rules: tuple[str | float, ...] = ("max",)
    precisions: tuple[str, ...] = ("float64",)
    loss: tuple[str, ...] = PAPER_LOSS
    fit_input: FitInput | None = None

    def __post_init__(self) -> None:
        first = self.models[0]
        for model in self.models[1:]:
            if model.parameters != first.parameters or model.reference != first.reference:
                raise InputError(
                    f"--models: {model.name} has other SNAP settings or another reference potential than "
                    f"{first.name} ({model.parameters} against {first.parameters}); models of one sweep share one "
                    "descriptor engine, so sweep them separately"
                )
        if not self.epsilons or min(self.epsilons) <= 0:
            raise InputError("--epsilons: ε must be a non-empty list of positive numbers")
        unknown = sorted(set(self.loss) - set(LOSS_TERMS))
        if unknown or not self.loss:
            raise InputError(f"--loss {','.join(self.loss)}: expected some of {', '.join(LOSS_TERMS)}")
        if self.loss != PAPER_LOSS and self.fit_input is None:
            raise InputError(
                f"--loss {','.join(self.loss)}: the weights of a training loss come from a FitSNAP input; the "
                "dataset has none, so pass --fit-input FILE.in"
            )

    @property
    def paper(self) -> bool:
        """True for the paper's force loss (Eq. 2), False for a training loss under ``fit_input``."""
        return self.fit_input is None


@dataclass(frozen=True)
class ConfigurationSweep:
    """One configuration's numbers (axes: model, g₀ rule, precision, ε, θ).

    Attributes:
        exact_loss: L per model (eV²/Å² for the paper's force loss, dimensionless for a training loss), (n_models,).
        exact_gradient: ∇θL per model (eV/Å² for the paper's loss, 1/eV for a training loss), (n_models, P).
        loss_estimates: the proxy's estimate: L̃ (Eq. 13) for the paper's force loss, D̃ (the derivative of Ê
            along the path) for a training loss, (n_models, n_g0, n_precisions, n_ε).
        proxy_exact: what ``loss_estimates`` estimate: L, or D = Σ g·f̂ + (∂L/∂σ̂):σ̂, (n_models,).
        gradient_estimates: ∇̃θL, (n_models, n_g0, n_precisions, n_ε, P).
        zero_errors: True where the path is zero and no difference was taken, (n_models,).
        path_speed: g₀ of Eq. 10, the largest rate of any atom or lattice vector along the path (maxᵢ|gᵢ| in
            eV/Å for the paper's loss, Å/eV for a training loss; 0 for a zero path), (n_models,).
        roundoff: True where ∇θL is round-off (:func:`roundoff_gradient`), (n_models,).
    """

    exact_loss: np.ndarray
    exact_gradient: np.ndarray
    loss_estimates: np.ndarray
    gradient_estimates: np.ndarray
    zero_errors: np.ndarray
    path_speed: np.ndarray
    proxy_exact: np.ndarray
    roundoff: np.ndarray


@dataclass(frozen=True)
class Target:
    """One model's exact loss on a configuration, and the path whose derivative its gradient is."""

    loss: float
    gradient: np.ndarray
    path: LossPath
    first_order: np.ndarray | None  # (∂L/∂Ê) ∇θÊ, exact, or None without an energy term
    proxy_exact: float  # L (Eq. 14) for the paper's loss, else D
    paper: bool
    roundoff: bool  # ∇θL is round-off (roundoff_gradient)


def target(model: LinearSnap, configuration: Configuration, full: SummedDescriptors, spec: SweepSpec) -> Target:
    """The exact loss and gradient (LAMMPS's closed forms) and the path of the generalised Eq. 7 (docs/theory.md)."""
    if spec.paper:
        exact = model.force_loss_from(configuration, full)
        path = LossPath(configuration.positions, exact.errors)
        roundoff = roundoff_gradient(path, exact.errors, has_first_order=False)
        return Target(exact.loss, exact.gradient, path, None, exact.loss, True, roundoff)
    assert spec.fit_input is not None  # SweepSpec says so
    training = training_loss(model, configuration, full, spec.fit_input, spec.loss)
    h = None
    if "stress" in spec.loss:
        volume = abs(float(np.linalg.det(configuration.cell)))
        h = -(NKTV2P / volume) * training.loss_by_pressure  # H = (1/V) ∂L/∂σ̂, σ̂ = −P̂/nktv2p
    path = LossPath(configuration.positions, training.loss_by_forces, configuration.cell, h)
    directional = float(np.sum(training.loss_by_forces * training.forces))
    directional += float(np.sum(training.loss_by_pressure * training.pressure))  # (∂L/∂σ̂):σ̂ = (∂L/∂P̂):P̂
    first_order = training.energy_loss_gradient if training.loss_by_energy else None
    roundoff = roundoff_gradient(path, training.forces - configuration.forces, has_first_order=first_order is not None)
    return Target(training.loss, training.gradient, path, first_order, directional, False, roundoff)


def roundoff_gradient(path: LossPath, force_residuals: np.ndarray, *, has_first_order: bool) -> bool:
    """Whether ∇θL along ``path`` is round-off (:func:`is_roundoff`): the path moves the atoms where g ≠ 0, and
    an energy term (``has_first_order``) or a strain H ≠ 0 moves ∇θL otherwise.  ``force_residuals``: f̂ − f."""
    strained = path.h is not None and bool(np.any(path.h))
    return is_roundoff(
        characteristic_force_error(force_residuals),
        moves_atoms=bool(np.any(path.g)),
        other_terms=has_first_order or strained,
    )


def is_roundoff(force_residual: float, *, moves_atoms: bool, other_terms: bool) -> bool:
    """Whether ∇θL is round-off, so that its relative error compares round-off with round-off.

    ``force_residual``: maxᵢ|f̂ᵢ − fᵢ| in eV/Å.  The force part of ∇θL is round-off where the path does not move
    the atoms (``moves_atoms`` False: no force term, or a zero weight) or where ``force_residual`` <
    :data:`ROUNDOFF_FORCE_ERROR` (perfect crystals: forces and A_f vanish by symmetry), whatever the weights.
    ``other_terms``: an energy term (first order, exact) or a stress residual (a strain H ≠ 0; a perfect
    crystal's is real) is part of ∇θL, which makes it measurable.  The paper's loss: maxᵢ|gᵢ| < the bound.
    One predicate for the sweep (:func:`roundoff_gradient`) and ``oracle compare``
    (:func:`snapcheck.studies.golden_compare.measurable_configurations`)."""
    return not other_terms and (not moves_atoms or force_residual < ROUNDOFF_FORCE_ERROR)


def sweep_configuration(engine: SnapEngine, configuration: Configuration, spec: SweepSpec) -> ConfigurationSweep:
    """All of one configuration's exact values and estimates, with one engine.

    A fixed g₀ (Fig. 2) has no scale under a training loss (the squared weights scale the path speed by
    orders of magnitude): a step beyond :data:`LARGEST_STEP` is not taken there; its estimates are NaN, and
    so is every error that includes it.  The paper's Fig. 2 stays as it is."""
    full = engine.evaluate()
    n_models, n_g0, n_precisions, n_eps = len(spec.models), len(spec.g0_rules), len(spec.precisions), len(spec.epsilons)
    n_parameters = spec.models[0].n_parameters
    exact_loss = np.zeros(n_models)
    exact_gradient = np.zeros((n_models, n_parameters))
    loss_estimates = np.zeros((n_models, n_g0, n_precisions, n_eps))
    gradient_estimates = np.zeros((n_models, n_g0, n_precisions, n_eps, n_parameters))
    zero_errors = np.zeros(n_models, dtype=bool)
    path_speed = np.zeros(n_models)
    proxy_exact = np.zeros(n_models)
    roundoff = np.zeros(n_models, dtype=bool)
    for m, model in enumerate(spec.models):
        goal = target(model, configuration, full, spec)
        exact_loss[m], exact_gradient[m], proxy_exact[m] = goal.loss, goal.gradient, goal.proxy_exact
        roundoff[m] = goal.roundoff
        path = goal.path
        if goal.first_order is not None:  # the energy term is first order: exact in every estimate
            gradient_estimates[m] = goal.first_order
        if path.is_zero():
            zero_errors[m] = True
            continue
        path_speed[m] = path.speed()
        for r, g0_rule in enumerate(spec.g0_rules):
            fixed = not goal.paper and g0_rule != "max"  # then no ε above ``largest`` (docstring)
            largest = LARGEST_STEP * float(g0_rule) / (A0 * path_speed[m]) if fixed else np.inf
            for p, precision in enumerate(spec.precisions):

                def evaluate(positions: np.ndarray, cell, model=model, precision=precision) -> Evaluation:
                    """Ê and ∇θÊ from one evaluation without derivatives, in ``precision`` (float32 emulated)."""
                    if precision == "float32":
                        return float32_evaluation(engine, model, positions, cell)
                    values = engine.evaluate_values(positions, cell)
                    return Evaluation(model.energy_from(values), model.energy_gradient_from(values))

                for e, epsilon in enumerate(spec.epsilons):
                    if epsilon > largest:
                        gradient_estimates[m, r, p, e] = loss_estimates[m, r, p, e] = np.nan
                        continue
                    estimate = central_difference(evaluate, path, epsilon, g0_rule, precision)
                    gradient_estimates[m, r, p, e] += estimate.gradient
                    loss_estimates[m, r, p, e] = (
                        loss_estimate(estimate.directional, path.g, configuration.forces)
                        if goal.paper
                        else estimate.directional
                    )
    return ConfigurationSweep(
        exact_loss, exact_gradient, loss_estimates, gradient_estimates, zero_errors, path_speed, proxy_exact, roundoff
    )


def float32_evaluation(
    engine: SnapEngine, model: LinearSnap, positions: np.ndarray, cell: np.ndarray | None = None
) -> Evaluation:
    """Ê and ∇θÊ as a float32 trainer computes them, emulated from LAMMPS's float64 descriptors.

    What is emulated: every atom's Bᵢ is stored as float32; ΣB_e is summed over
    atoms in float32; ∇θÊ = (n_e, ΣB_e) is float32; Ê = θ·∇θÊ + E_ref is
    formed with θ and E_ref in float32 and the products accumulated in float32.
    What is not: LAMMPS computes Bᵢ in float64 before it is stored, and the
    positions r± are rounded to float32 by
    :func:`~snapcheck.gradients.paper.central_difference`.  The estimate of
    Eq. 7 then divides these float32 differences by 2η in float64.
    """
    atoms = engine.evaluate_per_atom_values(positions, cell)
    stored = atoms.descriptors.astype(np.float32)
    sum_b = np.stack([stored[engine.types == e + 1].sum(axis=0, dtype=np.float32) for e in range(engine.n_elements)])
    gradient = np.column_stack([engine.counts.astype(np.float32), sum_b]).ravel()
    energy = np.dot(model.theta.astype(np.float32), gradient) + np.float32(atoms.reference_energy)
    return Evaluation(float(np.float32(energy)), gradient.astype(np.float64))


# -- tasks -------------------------------------------------------------------------
@dataclass(frozen=True)
class SweepTask:
    """One chunk: its configurations and what to sweep (self-contained, for any executor)."""

    configurations: tuple[Configuration, ...]
    spec: SweepSpec


def sweep_chunk(task: SweepTask) -> list[ConfigurationSweep]:
    """Sweep a chunk of configurations, each with its own engine.

    An engine lives exactly as long as its configuration's sweep (every model,
    g₀, precision and ε): one set-up, then only ``run 0`` at new positions.
    See :mod:`snapcheck.runtime.executors` for what keeping engines alive across tasks
    would (not) save.
    """
    model = task.spec.models[0]
    results = []
    for configuration in task.configurations:
        with SnapEngine(configuration, model.parameters, model.reference) as engine:
            results.append(sweep_configuration(engine, configuration, task.spec))
    return results


def run_sweep(configurations: list[Configuration], spec: SweepSpec, **execution) -> list[ConfigurationSweep]:
    """Sweep every configuration; results in the order of ``configurations``.

    ``execution``: the keyword arguments of :func:`snapcheck.runtime.executors.run_chunks`
    (``jobs``, ``scheduler``, ``partials``, ``run_log``, ``progress``), which
    choose the executor, the resumable partial results and the run log.  Each
    task is a :class:`SweepTask`: a chunk of configurations and the spec.
    """
    return map_configurations(
        sweep_chunk, configurations, functools.partial(SweepTask, spec=spec), description="ε sweep", **execution
    )
