"""LAMMPS SNAP parameter and coefficient files (``.snapparam``, ``.snapcoeff``).

A ``.snapparam`` file holds ``keyword value`` lines: the hyperparameters of the
bispectrum descriptors (``rcutfac``, ``twojmax``, ``rfac0``, ``rmin0``, …).  A
``.snapcoeff`` file holds, after comments, a line ``n_elements n_coeffs`` and then
per element a line ``symbol radius weight`` followed by ``n_coeffs`` numbers: the
linear coefficients β₀, β₁ … β_K of that element (LAMMPS ``pair_style snap``).

The bispectrum of atom i has K components B_{j1 j2 j} for ``twojmax`` J; for
J = 6 (Ta06A) K = 30.  Two variants change the columns per element, and
:attr:`SnapParameters.n_descriptors` counts them (the width of one element's
block of ``compute snap`` and the number of β after β₀ in a ``.snapcoeff``):

* ``chemflag 1`` (explicit multi-element SNAP): every component is split by the
  elements (κ, λ, μ) of the three neighbour densities it couples,
  B^{κλμ}_{j1 j2 j}, so each element's block holds n_elem³ sub-blocks of K, in
  the order of the element triple with μ fastest → K·n_elem³ columns (240 for
  InP at J = 6).  ``compute snap`` needs ``chem n_elem idx₁ … idx_T`` (the
  element of each LAMMPS type; snapcheck's types are the elements in order).
  With ``bnormflag 1`` some columns are identical by symmetry
  (:meth:`SnapParameters.identical_columns`).
* ``quadraticflag 1`` (quadratic SNAP, Wood & Thompson, J. Chem. Phys. 148,
  241721 (2018)): after the K linear columns come the K(K+1)/2 products of
  the atom's own components in upper-triangular order (1,1), (1,2) … (K,K),
  the diagonal ones halved (½B_k², B_k B_l for k < l), summed over atoms.  The
  energy E = β·B + ½BᵀαB is then still linear in θ = (β, α), so the oracle's
  closed form ∇θL = A_fᵀg holds unchanged.

A SNAP model adds a fixed reference pair potential (:class:`ReferencePotential`,
in LAMMPS syntax): for tantalum the ZBL screened nuclear repulsion between
4.0 and 4.8 Å (:data:`ZBL_TANTALUM`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from snapcheck.base.errors import InputError
from snapcheck.base.files import atomic_path

# The keywords of ``pair_style snap`` that ``compute snap`` also takes, with
# their LAMMPS defaults.  ``rcutfac`` and ``twojmax`` are required.
OPTIONAL_KEYWORDS = {
    "rfac0": 0.99363,
    "rmin0": 0.0,
    "switchflag": 1,
    "bzeroflag": 1,
    "quadraticflag": 0,
    "chemflag": 0,
    "bnormflag": 0,
    "wselfallflag": 0,
}
INTEGER_KEYWORDS = {"twojmax", "switchflag", "bzeroflag", "quadraticflag", "chemflag", "bnormflag", "wselfallflag"}


@dataclass(frozen=True)
class ReferencePotential:
    """The fixed pair potential that the SNAP model adds to (LAMMPS syntax)."""

    pair_style: str
    pair_coeffs: tuple[str, ...]


#: ZBL for Ta (Z = 73) between 4.0 and 4.8 Å, with FitSNAP's 10 Å ``zero`` style
#: for the neighbour lists.
ZBL_TANTALUM = ReferencePotential("hybrid/overlay zero 10.0 zbl 4.0 4.8", ("* * zero", "* * zbl 73 73"))


@dataclass(frozen=True)
class SnapParameters:
    """Bispectrum hyperparameters and the per-element radii and weights."""

    rcutfac: float
    twojmax: int
    elements: tuple[str, ...]
    radii: tuple[float, ...]
    weights: tuple[float, ...]
    rfac0: float = 0.99363
    rmin0: float = 0.0
    switchflag: int = 1
    bzeroflag: int = 1
    quadraticflag: int = 0
    chemflag: int = 0
    bnormflag: int = 0
    wselfallflag: int = 0

    def bispectrum_labels(self) -> list[tuple[int, int, int]]:
        """The (2j1, 2j2, 2j) of the K plain bispectrum components, in LAMMPS's order."""
        labels = []
        for j1 in range(self.twojmax + 1):
            for j2 in range(j1 + 1):
                for j in range(j1 - j2, min(self.twojmax, j1 + j2) + 1, 2):
                    if j >= j1:
                        labels.append((j1, j2, j))
        return labels

    @property
    def n_bispectrum(self) -> int:
        """K, the number of plain bispectrum components per atom for this ``twojmax``."""
        return len(self.bispectrum_labels())

    @property
    def n_descriptors(self) -> int:
        """Columns per element: K, K·n_elem³ with ``chemflag``, + K'(K'+1)/2 with ``quadraticflag``."""
        linear = self.n_bispectrum * (len(self.elements) ** 3 if self.chemflag else 1)
        return linear + (linear * (linear + 1) // 2 if self.quadraticflag else 0)

    def identical_columns(self) -> np.ndarray:
        """For each column of an element block, the first column that is identical to it by symmetry.

        With ``chemflag 1`` and ``bnormflag 1``, B^{κλμ}_{j1 j2 j} is symmetric
        under exchanging (j1, κ) ↔ (j2, λ) and, being real, under (j1, κ) ↔ (j, μ)
        (the (2j+1)/(2j1+1) factor that separates them without ``bnormflag`` is
        gone).  LAMMPS lists j1 ≥ j2 and j ≥ j1 only, so the columns with
        j1 = j2 (κ ↔ λ) and j = j1 (κ ↔ μ) repeat others: 52 of 240 for InP at
        J = 6, measured identical to 1e-12 on real configurations.  LAMMPS's
        ``pair_style snap`` computes forces correctly only for β that is equal
        within each such group (its adjoint assumes it); the energy and
        ``compute snap``'s A_f β depend only on the group sums.  Without those
        flags every column is its own.
        """
        columns = np.arange(self.n_descriptors)
        if not (self.chemflag and self.bnormflag):
            return columns
        labels, n = self.bispectrum_labels(), len(self.elements)
        k = len(labels)
        index = {}
        for triple in range(n**3):
            kappa, lam, mu = triple // (n * n), (triple // n) % n, triple % n
            for position, (j1, j2, j) in enumerate(labels):
                orbit, frontier = {(kappa, lam, mu)}, [(kappa, lam, mu)]
                while frontier:
                    a, b, c = frontier.pop()
                    for other in ((b, a, c) if j1 == j2 else None, (c, b, a) if j == j1 else None):
                        if other is not None and other not in orbit:
                            orbit.add(other)
                            frontier.append(other)
                first = min(t[0] * n * n + t[1] * n + t[2] for t in orbit)
                index[triple * k + position] = first * k + position
        columns[: n**3 * k] = [index[c] for c in range(n**3 * k)]
        return columns

    def compute_args(self) -> str:
        """The arguments of ``compute snap`` / ``compute sna/atom`` for these parameters."""
        radii = " ".join(f"{r:.17g}" for r in self.radii)
        weights = " ".join(f"{w:.17g}" for w in self.weights)
        chem = (
            f" chem {len(self.elements)} {' '.join(str(i) for i in range(len(self.elements)))}" if self.chemflag else ""
        )
        return (
            f"{self.rcutfac:.17g} {self.rfac0:.17g} {self.twojmax} {radii} {weights}"
            f" rmin0 {self.rmin0:.17g} switchflag {self.switchflag} bzeroflag {self.bzeroflag}"
            f" quadraticflag {self.quadraticflag}{chem} bnormflag {self.bnormflag} wselfallflag {self.wselfallflag}"
        )


def _content_lines(path: Path) -> list[str]:
    try:
        text = path.read_text()
    except OSError as exc:
        raise InputError(f"{path}: cannot read the file ({exc.strerror})") from None
    return [line.split("#", 1)[0].strip() for line in text.splitlines() if line.split("#", 1)[0].strip()]


def read_snapcoeff(path: str | Path) -> tuple[tuple[str, ...], tuple[float, ...], tuple[float, ...], np.ndarray]:
    """Return (elements, radii, weights, coefficients (n_elements, n_coeffs))."""
    path = Path(path)
    lines = _content_lines(path)
    try:
        n_elements, n_coeffs = (int(v) for v in lines[0].split())
        elements, radii, weights, rows = [], [], [], []
        cursor = 1
        for _ in range(n_elements):
            symbol, radius, weight = lines[cursor].split()[:3]
            elements.append(symbol)
            radii.append(float(radius))
            weights.append(float(weight))
            rows.append([float(v) for v in lines[cursor + 1 : cursor + 1 + n_coeffs]])
            cursor += 1 + n_coeffs
        coefficients = np.array(rows, dtype=np.float64)
    except (IndexError, ValueError) as exc:
        raise InputError(f"{path}: not a valid .snapcoeff file ({exc})") from None
    if coefficients.shape != (n_elements, n_coeffs):
        raise InputError(f"{path}: expected {n_elements} × {n_coeffs} coefficients, read {coefficients.shape}")
    return tuple(elements), tuple(radii), tuple(weights), coefficients


def read_snapparam(path: str | Path) -> dict[str, float | int]:
    """Return the keyword → value mapping of a ``.snapparam`` file."""
    path = Path(path)
    values: dict[str, float | int] = {}
    for line in _content_lines(path):
        words = line.split()
        if len(words) != 2:
            raise InputError(f"{path}: cannot parse line {line!r}; expected 'keyword value'")
        keyword, value = words
        try:
            values[keyword] = int(value) if keyword in INTEGER_KEYWORDS else float(value)
        except ValueError:
            raise InputError(f"{path}: {keyword} has the non-numeric value {value!r}") from None
    for required in ("rcutfac", "twojmax"):
        if required not in values:
            raise InputError(f"{path}: the required keyword {required!r} is missing")
    return values


def write_snap_files(
    parameters: SnapParameters, coefficients: np.ndarray, snapcoeff: str | Path, snapparam: str | Path, comment: str
) -> None:
    """Write a potential that LAMMPS ``pair_style snap`` reads, each file atomically.

    Floats are written as Python's shortest round-trip form (``repr``), so
    reading them back gives the same float64 values.
    """
    coefficients = np.asarray(coefficients, dtype=np.float64)
    coeff_lines = [f"# {comment}", "", f"{len(parameters.elements)} {coefficients.shape[1]}"]
    for element, radius, weight, row in zip(parameters.elements, parameters.radii, parameters.weights, coefficients):
        coeff_lines.append(f"{element} {radius!r} {weight!r}")
        coeff_lines.extend(repr(float(value)) for value in row)
    param_lines = [f"# {comment}", f"rcutfac {parameters.rcutfac!r}", f"twojmax {parameters.twojmax}"]
    param_lines.extend(f"{key} {getattr(parameters, key)!r}" for key in OPTIONAL_KEYWORDS)
    for path, lines in ((snapcoeff, coeff_lines), (snapparam, param_lines)):
        with atomic_path(path) as temporary:
            temporary.write_text("\n".join(lines) + "\n")


def read_snap_parameters(snapparam: str | Path, snapcoeff: str | Path) -> tuple[SnapParameters, np.ndarray]:
    """Read a potential: its descriptor parameters and its coefficients."""
    keywords = read_snapparam(snapparam)
    elements, radii, weights, coefficients = read_snapcoeff(snapcoeff)
    known = {"rcutfac", "twojmax", *OPTIONAL_KEYWORDS}
    unsupported = sorted(set(keywords) - known)
    if unsupported:
        raise InputError(f"{snapparam}: keywords {unsupported} are not supported by snapcheck")
    # each value takes its default's type, int or float: a per-key type that mypy cannot follow through a dict
    optional: dict[str, Any] = {
        key: type(default)(keywords.get(key, default)) for key, default in OPTIONAL_KEYWORDS.items()
    }
    parameters = SnapParameters(
        rcutfac=float(keywords["rcutfac"]),
        twojmax=int(keywords["twojmax"]),
        elements=elements,
        radii=radii,
        weights=weights,
        **optional,
    )
    expected = parameters.n_descriptors + 1
    if coefficients.shape[1] != expected:
        raise InputError(
            f"{snapcoeff}: {coefficients.shape[1]} coefficients per element, but twojmax {parameters.twojmax}, "
            f"chemflag {parameters.chemflag} and quadraticflag {parameters.quadraticflag} in {snapparam} give "
            f"{parameters.n_descriptors} descriptors plus β₀ = {expected}"
        )
    return parameters, coefficients
