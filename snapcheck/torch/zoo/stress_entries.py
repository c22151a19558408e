"""Bugs in a trainer's stress code: a sign, a convention, a missing or mis-signed term.

The stress of a potential is σ = (1/V) ∂Ê/∂ε under the homogeneous strain r → r(I + ε)ᵀ, h → h(I + ε)ᵀ
(eV/Å³, ASE's sign: tensile positive; the virial is W = −Vσ, LAMMPS's pressure P = −tr σ/3).  Every
case trains forces and stress, ½Σ|f̂ − f|² + ½w Σ|σ̂ − σ|², with the trainer's own stress code.
"""

from __future__ import annotations

import torch

from snapcheck.torch.zoo.potentials import EAM, Pair, TinyMPNN, energy_fn, graph, strain_derivative, stress_fn
from snapcheck.torch.zoo.registry import (
    STRESS_INP,
    STRESS_SET,
    Case,
    Entry,
    configurations,
    stress_case,
    with_reference,
)


def pyxtal_ff_43(buggy: bool, dtype) -> Case:
    """PyXtal_FF negated the DFT stress on loading and its descriptor stress term too: the model fitted −σ
    consistently, and its stress came out with the opposite sign of ASE's and LAMMPS's."""

    def stress(model, atoms, positions, cell):
        return -stress_fn(model, atoms, positions, cell) if buggy else stress_fn(model, atoms, positions, cell)

    batch = configurations(*STRESS_SET)
    if buggy:
        batch = [with_reference(a, stress=-a.get_stress()) for a in batch]
    return stress_case(EAM(dtype), batch, stress)


def matgl_825(buggy: bool, dtype) -> Case:
    """MatGL's CPU LAMMPS pair style added the model's +∂Ê/∂ε as the virial where LAMMPS expects W = −∂Ê/∂ε:
    the pressure had the right size and the wrong sign, and NPT runs ran away."""

    def stress(model, atoms, positions, cell):
        derivative = strain_derivative(lambda r, h: energy_fn(model, atoms, r, h), positions, cell)
        virial = derivative if buggy else -derivative
        return -virial / torch.linalg.det(cell).abs()  # σ = −W/V

    return stress_case(TinyMPNN(species=(49, 15), dtype=dtype), configurations(*STRESS_INP), stress)


def nvalchemi_61(buggy: bool, dtype) -> Case:
    """nvalchemi's explicit PME virial omitted the strain derivative of the neutralising background energy
    E_bg = −πQ²/(2α²V), ∂E_bg/∂ε = −E_bg·I: the diagonal was off for charged cells."""

    def stress(model, atoms, positions, cell):
        def without_background(r, h):
            g = graph(atoms, r, h)
            return model.pair_energy(r, g) + model.reciprocal_energy(r, g)

        volume = torch.linalg.det(cell).abs()
        sigma = strain_derivative(without_background, positions, cell) / volume
        if not buggy:  # ∂E_bg/∂ε = −E_bg·I, since E_bg ∝ 1/V
            background = model.background_energy(positions, graph(atoms, positions, cell))
            sigma = sigma - background / volume * torch.eye(3, dtype=positions.dtype)
        return sigma

    return stress_case(Pair(dtype, ewald=True), configurations(*STRESS_SET), stress)


def apax_152(buggy: bool, dtype) -> Case:
    """apax mixed jax-md's column-vector box with ASE's row-vector cell: the strain multiplied the positions
    from one side and the cell from the other, so only the shear components came out wrong."""

    def stress(model, atoms, positions, cell):
        epsilon = torch.zeros((3, 3), dtype=positions.dtype, requires_grad=True)
        deformation = torch.eye(3, dtype=positions.dtype) + epsilon
        strained = positions @ (deformation if buggy else deformation.T)
        energy = energy_fn(model, atoms, strained, cell @ deformation.T)
        (derivative,) = torch.autograd.grad(energy, epsilon, create_graph=True)
        return derivative / torch.linalg.det(cell).abs()

    return stress_case(Pair(dtype), configurations(*STRESS_SET), stress)


def nvalchemi_47(buggy: bool, dtype) -> Case:
    """nvalchemi's modules returned their virials with different signs (W = −∂E/∂ε in one, +∂E/∂ε in another):
    a model summing two of them got σ_A − σ_B."""

    def stress(model, atoms, positions, cell):
        def part(name):
            energy = getattr(model, name)
            return strain_derivative(lambda r, h: energy(r, graph(atoms, r, h)), positions, cell)

        sign = -1.0 if buggy else 1.0  # the pair module's virial convention
        return (part("embedding_energy") + sign * part("pair_energy")) / torch.linalg.det(cell).abs()

    return stress_case(EAM(dtype), configurations(*STRESS_SET), stress)


ENTRIES = (
    Entry(
        "pyxtal_ff-43",
        "https://github.com/MaterSim/PyXtal_FF/issues/43",
        "stress predict the negative value of DFT stress",
        "stress-sign",
        "stress code",
        "EAM",
        pyxtal_ff_43,
        r"stress_fn has a sign error \(factor −1\)",
        ("stress",),
    ),
    Entry(
        "matgl-825",
        "https://github.com/materialyzeai/matgl/pull/825",
        "Fix LAMMPS Kokkos CUDA and CPU virial compatibility",
        "stress-sign",
        "stress code",
        "TinyMPNN",
        matgl_825,
        r"stress_fn has a sign error \(factor −1\)",
        ("stress",),
    ),
    Entry(
        "nvalchemi-61",
        "https://github.com/NVIDIA/nvalchemi-toolkit-ops/issues/61",
        "particle_mesh_ewald explicit virial missing E_background gradient",
        "stress-missing-term",
        "stress code",
        "Pair",
        nvalchemi_61,
        r"stress_fn ≠ \(1/V\) ∂Ê/∂ε: .*a term missing",
        ("stress",),
        related=("https://github.com/NVIDIA/nvalchemi-toolkit-ops/pull/62",),
    ),
    Entry(
        "apax-152",
        "https://github.com/apax-hub/apax/pull/152",
        "ase stress fix (row and column cell conventions)",
        "stress-transpose",
        "stress code",
        "Pair",
        apax_152,
        r"asymmetric stress",
        ("stress",),
    ),
    Entry(
        "nvalchemi-47",
        "https://github.com/NVIDIA/nvalchemi-toolkit-ops/issues/47",
        "Standardize Virial and Stress Sign Conventions",
        "stress-sign",
        "stress code",
        "EAM",
        nvalchemi_47,
        r"sign error|opposite sign|wrong sign",
        ("stress",),
        related=("https://github.com/NVIDIA/nvalchemi-toolkit-ops/pull/56",),
        misnamed=(
            "the stress check says 'stress_fn ≠ (1/V) ∂Ê/∂ε … a term missing'; a stress that equals σ_A − σ_B of "
            "two energy terms is one term with the wrong sign, which a check can name only if energy_fn exposes its "
            "terms"
        ),
    ),
)
