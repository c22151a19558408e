"""Fitting a linear SNAP model by weighted least squares, as FitSNAP does.

Because Ê, f̂ and the pressure tensor P̂ of a linear SNAP model are linear in
θ = (β₀,e, β_e)_e (:mod:`snapcheck.models.linear_snap`), fitting them to DFT
labels is one linear least-squares problem, A θ ≈ b, with a row for every
label.  FitSNAP's rows, per configuration of N atoms:

==========  =======================================  ==================================  =======
rows        A (per element e: the β₀,e column, β_e)  b                                   unit
==========  =======================================  ==================================  =======
1 energy    (n_e/N, ΣB_e/N)                          (E_DFT + Σᵢ shiftᵢ − E_ref)/N       eV/atom
3N force    (0, A_f,e) = (0, −∂ΣB_e/∂r)              f_DFT − f_ref                       eV/Å
6 stress    (0, A_s,e) = (0, nktv2p W_e/V)           P_DFT − P_ref (Voigt)               bar
==========  =======================================  ==================================  =======

with E_ref, f_ref, P_ref the reference potential's (ZBL for Ta), W the
descriptors' virial and nktv2p the bar per eV/Å³ of LAMMPS's metal units (see
:mod:`snapcheck.descriptors.engine`).  Each row gets the weight of its
configuration's group and row type (``eweight``, ``fweight``, ``vweight`` of the
FitSNAP input, :mod:`snapcheck.data.fitsnap_input`), and θ minimises

    Σ_rows w² (A θ − b)²,

solved as min ‖(w A) θ − w b‖ by singular value decomposition
(``scipy.linalg.lstsq``, singular values below 1e-13 of the largest dropped,
FitSNAP's cut-off).  With ``bzeroflag 1`` FitSNAP has no β₀ column (its
descriptors are B − B_free-atom, and β₀ is written as 0); snapcheck then keeps
β₀ = 0 and fits β alone.

The force and stress rows are taken in LAMMPS's frame (the lower-triangular
cell of :mod:`snapcheck.descriptors.cell`), as FitSNAP rotates the DFT forces
and stresses into it: the fit is the same in any frame (each atom's three
rows turn by one rotation), but the mean absolute error of a component is not,
and FitSNAP's stored metrics of rotated cells (InP's Shear group) reproduce
only in LAMMPS's frame.

The loss these rows define, ½ Σ w² (A θ − b)², is per configuration
:func:`training_loss` (:meth:`~snapcheck.models.linear_snap.LinearSnap.training_loss_from`):
its value and its exact gradient Aᵀ W² (A θ − b), split into the energy, force
and stress terms.

FitSNAP's metrics (:func:`fit_metrics`) are computed per group and for all
groups (``*ALL``), per row type, unweighted and weighted (residuals multiplied
by w): the count, the mean absolute error, the root-mean-square error and R².
For the weighted ones FitSNAP averages over all rows but counts only rows of
non-zero weight in the RMSE and R²; snapcheck follows it exactly, so that the
two sets of numbers can be compared.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.linalg

from snapcheck.base.errors import InputError
from snapcheck.data.configuration import Configuration
from snapcheck.data.fitsnap_input import LOSS_TERMS, FitInput, GroupWeights
from snapcheck.data.units import voigt_from_tensor
from snapcheck.descriptors.cell import lammps_rotation, voigt_in_lammps_frame
from snapcheck.descriptors.engine import SnapEngine
from snapcheck.descriptors.results import SummedDescriptors
from snapcheck.models.linear_snap import LinearSnap, TrainingLoss

#: FitSNAP's relative cut-off on singular values.
SINGULAR_VALUE_CUTOFF = 1e-13

ROW_UNITS = {"Energy": "eV/atom", "Force": "eV/angstrom", "Stress": "bar"}


@dataclass(frozen=True)
class FitRows:
    """The weighted linear system A θ ≈ b.

    Attributes:
        matrix: A, (R, P); P = n_elements × (K + 1), columns in θ's order.
        truth: b, (R,) in the unit of each row (eV/atom, eV/Å, bar).
        weights: w, (R,), the inverse units.
        index: one row per row of A: ``configuration`` (its label), ``group``,
            ``row_type`` (Energy, Force, Stress) and ``component`` (0 for energy,
            3·atom + axis for forces, the Voigt index for stress).
    """

    matrix: np.ndarray
    truth: np.ndarray
    weights: np.ndarray
    index: pd.DataFrame


@dataclass(frozen=True)
class LinearFit:
    """A fitted model with its rows, metrics and wall times (s)."""

    model: LinearSnap
    rows: FitRows
    metrics: pd.DataFrame
    descriptor_seconds: float
    solve_seconds: float


def configuration_rows(configuration: Configuration, descriptors: SummedDescriptors, fit_input: FitInput) -> FitRows:
    """FitSNAP's rows of one configuration (module docstring), forces and stresses in LAMMPS's frame."""
    n, counts = configuration.n_atoms, descriptors.counts
    rotation = lammps_rotation(configuration.cell)  # v' = v Q
    weights = fit_input.group_weights(configuration.group, configuration.source)
    blocks, truths, row_weights, kinds, components = [], [], [], [], []

    def add(matrix: np.ndarray, truth: np.ndarray, weight: float, kind: str) -> None:
        blocks.append(matrix.reshape(len(truth), -1))
        truths.append(truth)
        row_weights.append(np.full(len(truth), weight))
        kinds.extend([kind] * len(truth))
        components.extend(range(len(truth)))

    if "energy" in fit_input.row_types:
        shift = fit_input.shift_of(configuration.species)
        row = np.column_stack([counts, descriptors.sum_b]) / n
        add(
            row, np.array([(configuration.energy + shift - descriptors.reference_energy) / n]), weights.energy, "Energy"
        )
    if "force" in fit_input.row_types:
        rows = np.concatenate([np.zeros((n, 3, len(counts), 1)), descriptors.force_rows], axis=3)
        rows = np.einsum("iaek,ab->ibek", rows, rotation)
        truth = (configuration.forces - descriptors.reference_forces) @ rotation
        add(rows, truth.ravel(), weights.force, "Force")
    if "stress" in fit_input.row_types:
        if configuration.stress is None:
            raise InputError(
                f"{configuration.label}: the fit asks for stress rows ([CALCULATOR] stress = 1) "
                "but the configuration has no Stress"
            )
        rows = np.concatenate([np.zeros((6, len(counts), 1)), descriptors.stress_rows], axis=2)
        truth = voigt_from_tensor(configuration.stress)[:, None] - descriptors.reference_stress[:, None]
        combined = voigt_in_lammps_frame(np.concatenate([rows.reshape(6, -1), truth], axis=1), rotation)
        add(combined[:, :-1].reshape(rows.shape), combined[:, -1], weights.virial, "Stress")
    index = pd.DataFrame(
        {"configuration": configuration.label, "group": configuration.group, "row_type": kinds, "component": components}
    )
    return FitRows(np.concatenate(blocks), np.concatenate(truths), np.concatenate(row_weights), index)


def training_loss(
    model: LinearSnap,
    configuration: Configuration,
    descriptors: SummedDescriptors,
    fit_input: FitInput,
    terms: tuple[str, ...] = LOSS_TERMS,
) -> TrainingLoss:
    """FitSNAP's loss of one configuration and its exact gradient (:meth:`LinearSnap.training_loss_from`) under
    ``fit_input``: its group's weights, zero for a row type the input leaves out or ``terms`` does not name,
    and its ESHIFT."""
    unknown = sorted(set(terms) - set(LOSS_TERMS))
    if unknown or not terms:
        raise InputError(f"--loss {','.join(terms)}: expected some of {', '.join(LOSS_TERMS)}")
    weights = fit_input.group_weights(configuration.group, configuration.source)
    weights = GroupWeights(
        energy=weights.energy if "energy" in fit_input.row_types and "energy" in terms else 0.0,
        force=weights.force if "force" in fit_input.row_types and "forces" in terms else 0.0,
        virial=weights.virial if "stress" in fit_input.row_types and "stress" in terms else 0.0,
    )
    shift = fit_input.shift_of(configuration.species)
    return model.training_loss_from(configuration, descriptors, weights, shift)


def build_rows(
    configurations: list[Configuration], fit_input: FitInput, progress: Callable[[Iterable], Iterable] = iter
) -> FitRows:
    """Evaluate every configuration with LAMMPS and stack FitSNAP's rows, in dataset order."""
    parts = []
    for configuration in progress(configurations):
        with SnapEngine(configuration, fit_input.parameters, fit_input.reference) as engine:
            parts.append(configuration_rows(configuration, engine.evaluate(), fit_input))
    return FitRows(
        matrix=np.concatenate([p.matrix for p in parts]),
        truth=np.concatenate([p.truth for p in parts]),
        weights=np.concatenate([p.weights for p in parts]),
        index=pd.concat([p.index for p in parts], ignore_index=True),
    )


def solve(rows: FitRows, n_elements: int = 1, fit_beta0: bool = True) -> np.ndarray:
    """θ minimising ‖w ⊙ (A θ − b)‖ by SVD (FitSNAP's ``solver = SVD``); β₀ = 0 unless ``fit_beta0``."""
    columns = np.ones(rows.matrix.shape[1], dtype=bool)
    if not fit_beta0:
        columns[:: rows.matrix.shape[1] // n_elements] = False
    weighted_matrix = rows.weights[:, None] * rows.matrix[:, columns]
    solution, *_ = scipy.linalg.lstsq(weighted_matrix, rows.weights * rows.truth, cond=SINGULAR_VALUE_CUTOFF)
    theta = np.zeros(rows.matrix.shape[1])
    theta[columns] = solution
    return theta


def _errors(frame: pd.DataFrame) -> pd.Series:
    """FitSNAP's count, MAE, RMSE and R² of one set of rows, unweighted and weighted.

    R² is −inf or NaN where the truth is constant (InP Bulk's forces, zero by symmetry), without a warning.
    """
    truth, residual, weights = frame["truth"], frame["truth"] - frame["prediction"], frame["weight"]
    n, n_weighted = len(truth), np.count_nonzero(weights)
    weighted_truth, weighted_residual = weights * truth, weights * residual
    with np.errstate(divide="ignore", invalid="ignore"):
        return _error_series(n, n_weighted, truth, residual, weighted_truth, weighted_residual)


def _error_series(n, n_weighted, truth, residual, weighted_truth, weighted_residual) -> pd.Series:
    return pd.Series(
        {
            ("Unweighted", "ncount"): n,
            ("Unweighted", "mae"): np.mean(np.abs(residual)),
            ("Unweighted", "rmse"): np.sqrt(np.sum(residual**2) / n),
            ("Unweighted", "rsq"): 1 - np.sum(residual**2) / np.sum((truth - truth.sum() / n) ** 2),
            ("weighted", "ncount"): n_weighted,
            ("weighted", "mae"): np.mean(np.abs(weighted_residual)),
            ("weighted", "rmse"): np.sqrt(np.sum(weighted_residual**2) / n_weighted),
            ("weighted", "rsq"): 1
            - np.sum(weighted_residual**2) / np.sum((weighted_truth - weighted_truth.sum() / n_weighted) ** 2),
        }
    )


def fit_metrics(rows: FitRows, theta: np.ndarray) -> pd.DataFrame:
    """FitSNAP's metrics table: one row per group (``*ALL`` first), weighting and row type.

    Columns ``group``, ``weighting`` (Unweighted or weighted), ``row_type``,
    ``unit``, ``ncount``, ``mae``, ``rmse``, ``rsq``.  The weighted errors are in
    the rows' units times their weights (unit ``w·…``).
    """
    frame = rows.index.assign(truth=rows.truth, prediction=rows.matrix @ theta, weight=rows.weights)
    parts = [frame.assign(group="*ALL"), frame]
    stacked = (
        pd.concat(parts).groupby(["group", "row_type"], sort=False)[["truth", "prediction", "weight"]].apply(_errors)
    )
    stacked.columns = pd.MultiIndex.from_tuples(stacked.columns, names=["weighting", "metric"])
    table = stacked.stack("weighting", future_stack=True).reset_index()
    # FitSNAP's order, which is plain sorting: *ALL first, Unweighted before weighted
    table = table.sort_values(["group", "weighting", "row_type"], ignore_index=True)
    units = table["row_type"].map(ROW_UNITS)
    table.insert(3, "unit", units.where(table["weighting"] == "Unweighted", "w·" + units))
    table["ncount"] = table["ncount"].astype(int)
    return table[["group", "weighting", "row_type", "unit", "ncount", "mae", "rmse", "rsq"]]


def fit_linear_snap(
    configurations: list[Configuration],
    fit_input: FitInput,
    name: str = "fitted",
    progress: Callable[[Iterable], Iterable] = iter,
) -> LinearFit:
    """Build FitSNAP's rows, solve, and measure the fit (wall times included)."""
    if not configurations:
        raise InputError(f"{fit_input.path}: no configurations to fit")
    start = time.perf_counter()
    rows = build_rows(configurations, fit_input, progress)
    built = time.perf_counter()
    parameters = fit_input.parameters
    theta = solve(rows, len(parameters.elements), fit_beta0=not parameters.bzeroflag)
    solved = time.perf_counter()
    model = LinearSnap(
        fit_input.parameters, theta.reshape(len(fit_input.parameters.elements), -1), fit_input.reference, name
    )
    return LinearFit(model, rows, fit_metrics(rows, theta), built - start, solved - built)
