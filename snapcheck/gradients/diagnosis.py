"""Naming the likely bug when a trainer's forces or force-loss gradient disagree with the reference.

A handful of bugs account for most wrong force-training gradients in practice:

* **zero**: the forces were taken without ``create_graph=True`` (PyTorch) or
  otherwise detached, so the force loss does not depend on θ at all;
* **sign**: g = f − f̂ where f̂ − f was due, or f̂ = +∂Ê/∂r (relative error ≈ 2);
* **a factor**: a missing or extra ½ in L = ½Σ|g|², or a mean taken where the
  sum of Eq. 2 was due: over the atoms or the 3N components of each
  configuration, over the configurations of a batch, or over all atoms of a
  batch.  In a batch of configurations of different sizes a per-configuration
  mean scales each configuration's gradient differently, so it is not one
  constant factor.

Both checks reduce to the same question.  For every configuration c with
reference r_c (its −∂Ê/∂r, or its ∇θL_c) the candidate is written as
Σ_c s_c r_c: per configuration s_c = ⟨x_c, r_c⟩/⟨r_c, r_c⟩ when the candidate
comes per configuration (forces, or snapcheck.testing's gradients), and by
least squares over the r_c when only the batch total is known (a trainer's
``.grad``).  When that leaves little residual, the pattern of the s_c against
the atom counts N_c is looked up in the one table :data:`FACTORS`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from ase import units

#: A factor within this relative tolerance of a table entry is named by it.
MATCH_TOLERANCE = 0.02
#: A candidate is "explained" by scales s_c when |x − Σ s_c r_c| ≤ this · |x|.
RESIDUAL_TOLERANCE = 1e-3
#: Configurations whose reference is below this fraction of the largest say nothing about a factor (a perfect
#: crystal's forces and ∇θL are round-off, so its s_c is noise).
SIGNIFICANT = 1e-4


@dataclass(frozen=True)
class Batch:
    """What a factor may depend on: the atom counts N_c and volumes V_c (Å³) of the configurations the scales
    are of, the number M of configurations in the batch and its number of atoms N_batch."""

    n: np.ndarray
    volumes: np.ndarray | None
    m: int
    n_batch: int

    def ones(self) -> np.ndarray:
        return np.ones(len(self.n))

    @property
    def v(self) -> np.ndarray:
        """V_c; a stress factor of the volume is looked up only when the volumes are known."""
        if self.volumes is None:
            raise ValueError("no volumes: a factor of V cannot be named")
        return self.volumes


def _constant(value: float) -> Callable[[Batch], np.ndarray]:
    return lambda b: value * b.ones()


def _atomic_units(unit: str, atomic: str, per_atomic: float) -> dict[str, Callable[[Batch], np.ndarray]]:
    """The factors s = candidate/reference of an atomic or kcal/mol unit converted twice or not at all.

    The reference is in ``unit`` (eV, eV/Å, eV/Å³); ``per_atomic`` is ``atomic`` in it (Hartree/bohr = 51.4 eV/Å).
    A value converted from ``atomic`` once more is ``per_atomic`` times too large, one left in ``atomic``
    ``1/per_atomic`` times; with 1 eV = 23.06 kcal/mol, one converted from kcal/mol once more is 1/23.06 times the
    reference and one left in kcal/mol 23.06 times.
    """
    kcal = units.mol / units.kcal  # kcal/mol per eV
    named = (
        (f"a value in {unit} converted from {atomic} once more", per_atomic),
        (f"a value left in {atomic} where {unit} was due", 1 / per_atomic),
        ("an energy converted from kcal/mol to eV once more", 1 / kcal),
        ("an energy left in kcal/mol where eV was due", kcal),
    )
    return {f"{value:.6g}: {name}": _constant(value) for name, value in named}


#: The scales s_c a trainer's forces or force-loss gradient are commonly off by.
FACTORS: dict[str, Callable[[Batch], np.ndarray]] = {
    "2: Σ|f̂ − f|² where ½Σ|f̂ − f|² was specified": lambda b: 2.0 * b.ones(),
    "1/2: an extra ½": lambda b: 0.5 * b.ones(),
    "1/N per configuration: a mean over each configuration's atoms where a sum was specified": lambda b: 1.0 / b.n,
    "1/(3N) per configuration: a mean over each configuration's 3N force components": lambda b: 1.0 / (3 * b.n),
    "2/(3N) per configuration: mse_loss, mean((f̂ − f)²), where ½Σ|f̂ − f|² was specified": lambda b: 2.0 / (3 * b.n),
    "1/M: a mean over the M configurations of the batch where a sum was specified": lambda b: b.ones() / b.m,
    "1/(M·N): a mean over each configuration's atoms, then over the batch": lambda b: 1.0 / (b.m * b.n),
    "2/(3N·M): mse_loss per configuration, then a mean over the batch": lambda b: 2.0 / (3 * b.n * b.m),
    "1/N_batch: a mean over all atoms of the batch": lambda b: b.ones() / b.n_batch,
    "2/(3N_batch): mse_loss over all force components of the batch": lambda b: 2.0 * b.ones() / (3 * b.n_batch),
    "1/(3N_batch): a mean over all force components of the batch": lambda b: b.ones() / (3 * b.n_batch),
    **_atomic_units("eV", "Hartree", units.Hartree),
    **_atomic_units("eV/Å", "Hartree/bohr", units.Hartree / units.Bohr),
}

#: eV/Å³ in GPa, kbar and bar (ase.units: 1 eV/Å³ = 160.2 GPa).
EV_PER_A3 = {"GPa": 1.0 / units.GPa, "kbar": 10.0 / units.GPa, "bar": 1e4 / units.GPa}

#: The scales s_c a trainer's stress (against σ = (1/V) ∂Ê/∂ε in eV/Å³, ASE's sign) is commonly off by.
STRESS_FACTORS: dict[str, Callable[[Batch], np.ndarray]] = {
    "−V per configuration: the virial W = −∂Ê/∂ε = −Vσ given where the stress σ was due": lambda b: -b.v,
    "V per configuration: ∂Ê/∂ε (a virial) given where (1/V) ∂Ê/∂ε was due, a missing 1/V": lambda b: b.v,
    "1/V per configuration: divided by the volume twice, an extra 1/V": lambda b: 1.0 / b.v,
    "1/N per configuration: the stress divided by the number of atoms": lambda b: 1.0 / b.n,
    **{f"{value:.6g}: the stress in {unit} where eV/Å³ was due": _constant(value) for unit, value in EV_PER_A3.items()},
    **{
        f"{1 / value:.6g}: the stress in eV/Å³ where {unit} was due": _constant(1 / value)
        for unit, value in EV_PER_A3.items()
    },
    **_atomic_units("eV", "Hartree", units.Hartree),
    **_atomic_units("eV/Å³", "Hartree/bohr³", units.Hartree / units.Bohr**3),
}


#: How :func:`name_scales` begins when no pattern names the scales (it lists them).
VARYING_FACTORS = "factors that vary by configuration"

#: Scales s_c = k·N_c^p that no entry of :data:`FACTORS` names: a per-atom normalisation the specification and
#: the trainer disagree on, whatever else each averages over (recognised only in batches of mixed sizes).
POWERS_OF_N = {
    -1: "{k:.4g}/N per configuration: each configuration's loss averaged over its N atoms where the specification "
    "does not (a per-configuration mean)",
    -2: "{k:.4g}/N² per configuration: a quantity divided by N inside a squared term (a stress or energy per atom "
    "where the specification has none)",
    1: "{k:.4g}·N per configuration: a sum over each configuration's atoms where the specification averages",
}


def name_scales(
    scales: npt.ArrayLike,
    n_atoms: npt.ArrayLike,
    tolerance: float = 1e-3,
    *,
    batch: Sequence[int] | None = None,
    volumes: Sequence[float] | None = None,
    table: dict[str, Callable[[Batch], np.ndarray]] = FACTORS,
) -> str | None:
    """A noun phrase for per-configuration scales s_c ("a sign error (factor −1)"); None when all are 1.

    ``−1`` is a sign error; an entry of :data:`FACTORS` (possibly with a sign) is named by it; a
    constant s is "a constant factor s"; anything else lists the s_c with their N_c.  ``n_atoms`` (and
    ``volumes``, Å³) are those of the configurations the scales are of; ``batch`` the N_c of the whole
    batch (default: the same); ``table`` :data:`FACTORS` or :data:`STRESS_FACTORS`.
    """
    values, n = np.asarray(scales, dtype=float), np.asarray(n_atoms, dtype=float)
    whole = n if batch is None else np.asarray(batch, dtype=float)
    context = Batch(n, None if volumes is None else np.asarray(volumes, dtype=float), len(whole), int(whole.sum()))
    if np.allclose(values, 1.0, rtol=0, atol=tolerance):
        return None
    if np.allclose(values, -1.0, rtol=0, atol=max(tolerance, MATCH_TOLERANCE)):
        return "a sign error (factor −1)"
    for sign, prefix in ((1.0, ""), (-1.0, "a sign error and ")):
        for name, factor in table.items():
            if context.volumes is None and table is STRESS_FACTORS and name.startswith(("V ", "−V ", "1/V ")):
                continue
            if np.allclose(sign * values / factor(context), 1.0, rtol=0, atol=MATCH_TOLERANCE):
                return f"{prefix}a factor {name}"
    if np.allclose(values, values.mean(), rtol=max(tolerance, 1e-6)):
        return f"a constant factor {values.mean():.6g}"
    for power, name in POWERS_OF_N.items():
        k = values / n**power
        if table is FACTORS and len(set(n)) > 1 and np.allclose(k, k.mean(), rtol=MATCH_TOLERANCE):
            constant = 1.0 if np.isclose(k.mean(), 1.0, rtol=MATCH_TOLERANCE) else k.mean()
            return "a factor " + name.format(k=constant)
    listing = ", ".join(f"{s:.4g} (N = {int(k)})" for s, k in zip(values, n))
    return f"{VARYING_FACTORS}: {listing}"


def significant(references: Sequence[np.ndarray] | np.ndarray) -> np.ndarray:
    """True for the configurations whose reference norm is at least :data:`SIGNIFICANT` × the largest."""
    norms = np.array([np.linalg.norm(np.ravel(r)) for r in references])
    return norms >= SIGNIFICANT * norms.max() if len(norms) and norms.max() > 0 else np.zeros(len(norms), bool)


def per_configuration_scales(
    candidates: Sequence[np.ndarray], references: Sequence[np.ndarray]
) -> tuple[np.ndarray, float]:
    """s_c = ⟨x_c, r_c⟩/⟨r_c, r_c⟩ for candidates given per configuration (any shapes), and the relative residual."""
    scales, residual, size = [], 0.0, 0.0
    for candidate, reference in zip(candidates, references):
        x, r = np.ravel(candidate).astype(float), np.ravel(reference).astype(float)
        rr = float(r @ r)
        scale = float(x @ r) / rr if rr > 0 else 0.0
        scales.append(scale)
        residual += float(np.sum((x - scale * r) ** 2))
        size += float(x @ x)
    return np.array(scales), math.sqrt(residual / size) if size else 0.0


def batch_scales(total: np.ndarray, references: np.ndarray) -> tuple[np.ndarray, float] | None:
    """s_c fitting a batch total x ≈ Σ_c s_c r_c by least squares, and the relative residual; None if not determined."""
    r = np.asarray(references, float).reshape(len(references), -1)
    if len(r) > r.shape[1] or np.linalg.matrix_rank(r) < len(r):
        return None
    x = np.asarray(total, float).ravel()
    scales = np.linalg.lstsq(r.T, x, rcond=None)[0]
    size = np.linalg.norm(x)
    return scales, float(np.linalg.norm(x - r.T @ scales) / size) if size else 0.0


def cosine_and_ratio(candidate: np.ndarray, reference: np.ndarray) -> tuple[float, float]:
    """cos(candidate, reference) and the least-squares ratio ⟨candidate, ref⟩/⟨ref, ref⟩."""
    x, r = np.ravel(candidate), np.ravel(reference)
    xx, rr, xr = float(x @ x), float(r @ r), float(x @ r)
    return (xr / math.sqrt(xx * rr) if xx > 0 and rr > 0 else 0.0), (xr / rr if rr > 0 else 0.0)


def likely_bug(
    candidate: np.ndarray, references: np.ndarray, n_atoms: Sequence[int], tolerance: float = 1e-3
) -> str | None:
    """The named pattern of the scales s_c that explain ``candidate`` (module docstring), or None.

    ``candidate`` is per configuration (M, P) or the batch total (P,); ``references`` is (M, P).  None
    when no scales explain it, or when they are all 1 within ``tolerance``.
    """
    references = np.asarray(references, float)
    candidate = np.asarray(candidate, float)
    used = significant(references)
    if not np.any(candidate):
        return (
            "the gradient is all zero: the forces were computed without create_graph=True (or detached), "
            "so the loss does not depend on θ"
        )
    fit: tuple[np.ndarray, float] | None
    if candidate.ndim == 2:
        fit = per_configuration_scales(candidate[used], references[used])
    else:
        fit = batch_scales(candidate, references[used])
    if fit is None or fit[1] > RESIDUAL_TOLERANCE:
        return None
    named = name_scales(fit[0], np.asarray(n_atoms)[used], tolerance=tolerance, batch=n_atoms)
    return None if named is None else f"the gradient has {named}"


def describe_gradient(
    candidate: np.ndarray,
    references: np.ndarray,
    n_atoms: Sequence[int],
    *,
    worst: float,
    rtol: float,
    low_precision: bool = False,
) -> str:
    """A sentence for a candidate ∇θL that misses ``rtol`` (largest relative error ``worst``).

    ``candidate`` is per configuration (M, P) or the batch total (P,); ``references`` is (M, P).
    """
    references = np.asarray(references, float)
    total = np.asarray(candidate).sum(axis=0) if np.ndim(candidate) == 2 else np.asarray(candidate)
    cosine, ratio = cosine_and_ratio(total, references.sum(axis=0))
    if low_precision and worst < 3e-3 and cosine > 0.9999:
        return (
            f"float32 precision limit: largest relative error {worst:.2e} exceeds rtol {rtol:g} but is the size of "
            f"single-precision round-off (cosine {cosine:.8f}); check a float64 copy of the model, or loosen rtol"
        )
    named = likely_bug(candidate, references, n_atoms, tolerance=max(10 * rtol, 1e-3))
    if named is not None:
        batch = f"{len(references)} configurations, N = {', '.join(str(int(n)) for n in n_atoms)} atoms"
        return f"{named} (ratio to the reference {ratio:.6g}; {batch})"
    if cosine < -0.999:
        return f"sign error: the gradient is {ratio:.6g} × the reference (cosine {cosine:.6f})"
    return (
        f"the gradient differs from the reference (overall ratio {ratio:.4g}, cosine {cosine:.6f}) by no factor "
        "per configuration: check the forces and the stress alone (assert_forces_consistent, "
        "assert_stress_consistent) and each term's weight in the loss"
    )


#: Why a term of a loss gives no gradient at all.
NO_GRADIENT = {
    "energy": "the predicted energy was detached from θ before the loss",
    "forces": "the forces were taken without create_graph=True (or detached), so they carry no graph to θ",
    "stress": "the stress was taken without create_graph=True (or detached), so it carries no graph to θ",
}


def likely_bug_by_term(
    candidate: np.ndarray, parts: dict[str, np.ndarray], n_atoms: Sequence[int], tolerance: float = 1e-3
) -> str | None:
    """For a loss of several terms (energy, forces, stress): the terms whose per-configuration scales are off.

    The candidate is fitted by least squares as Σ_term Σ_c s_{term,c} r_{term,c} over the exact parts of each
    term (``parts``: name → (M, P)): the batch total (P,) over every configuration at once, or a candidate
    given per configuration (M, P) one configuration at a time (its terms' parts as the columns).  A term
    whose s_c are not all 1 is named with :func:`name_scales` (a stress divided by N inside a squared loss
    term gives 1/N² on the stress term alone).  None when the fit leaves residual or no term is off.
    """
    candidate = np.asarray(candidate, float)
    fitted = _term_scales_per_configuration(candidate, parts) if candidate.ndim == 2 else _term_scales(candidate, parts)
    if fitted is None or fitted[2] > RESIDUAL_TOLERANCE:
        return None
    scales, labels, _ = fitted
    named = []
    for name in parts:
        picks = [k for k, (term, _) in enumerate(labels) if term == name]
        if not picks:  # the term has no gradient to give here (a zero weight)
            continue
        configurations = [labels[k][1] for k in picks]
        if np.allclose(scales[picks], 0.0, atol=MATCH_TOLERANCE):
            named.append(f"the {name} term of the loss contributes no gradient: {NO_GRADIENT[name]}")
            continue
        phrase = name_scales(scales[picks], np.asarray(n_atoms)[configurations], tolerance, batch=n_atoms)
        if phrase is not None:
            named.append(f"the {name} term of the loss has {phrase}")
    return "; ".join(named) or None


def _term_scales(
    total: np.ndarray, parts: dict[str, np.ndarray]
) -> tuple[np.ndarray, list[tuple[str, int]], float] | None:
    """s_{term,c} fitting a batch total over every significant (term, configuration), their labels, the residual."""
    columns: list[np.ndarray] = []
    labels: list[tuple[str, int]] = []
    for name, rows in parts.items():
        for c in np.flatnonzero(significant(rows)):
            columns.append(np.asarray(rows[c], float))
            labels.append((name, int(c)))
    fit = batch_scales(total, np.array(columns)) if columns else None
    return None if fit is None else (fit[0], labels, fit[1])


def _term_scales_per_configuration(
    candidate: np.ndarray, parts: dict[str, np.ndarray]
) -> tuple[np.ndarray, list[tuple[str, int]], float]:
    """s_{term,c} fitting each configuration's candidate x_c ≈ Σ_term s_{term,c} r_{term,c} over its significant
    terms (a configuration whose terms are not independent is left out of the scales), their labels, and the
    relative residual over all configurations."""
    used = {name: significant(rows) for name, rows in parts.items()}
    scales: list[float] = []
    labels: list[tuple[str, int]] = []
    residual = 0.0
    for c, x in enumerate(candidate):
        names = [name for name in parts if used[name][c]]
        columns = np.array([np.ravel(parts[name][c]) for name in names], dtype=float)
        if not names or np.linalg.matrix_rank(columns) < len(names):
            residual += float(x @ x)
            continue
        fit = np.linalg.lstsq(columns.T, x, rcond=None)[0]
        residual += float(np.sum((x - columns.T @ fit) ** 2))
        scales.extend(fit)
        labels.extend((name, c) for name in names)
    size = float(np.sum(candidate**2))
    return np.array(scales), labels, math.sqrt(residual / size) if size else 0.0
