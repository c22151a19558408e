"""MACE (mace-torch 0.3.16) in snapcheck.torch: the callables a MACE user passes, in a few lines.

MACE predicts Ê = Σ_i (E0(Z_i) + s·ε_i + μ) from messages along the edges of a graph: edge
vectors r_ij = r_j − r_i + S_ij (S_ij = n_ij·cell, the periodic shift of integer image n_ij), radial
features that a polynomial envelope takes smoothly to zero at r_max.  It trains by double
backpropagation: its forces are −∂Ê/∂r with ``create_graph=True`` (``model(batch, compute_force=True,
training=True)``), and its stress strains positions and cell by a symmetric displacement ε
(r → r(I + ε), S_ij → n_ij·cell(I + ε)) and differentiates the same energy:

    σ̂ = (1/V) ∂Ê/∂ε   (``output["stress"]``, eV/Å³, ASE's sign: tensile positive),
    W = −∂Ê/∂ε = −Vσ̂  (``output["virials"]``, eV),

with V = |det cell|, again with ``create_graph=True`` when ``training=True``.  Its losses are means
over every component of the batch (``mace.modules.loss``, ``reduce_loss`` without DDP).  With M
configurations of N_c atoms, N_batch = Σ_c N_c, w_c = ``atoms.info["config_weight"]`` and
w_q,c = ``atoms.info["config_<q>_weight"]`` (1 by default):

    L_E = w_E / M           · Σ_c w_c w_E,c ((Ê_c − E_c)/N_c)²          (per-atom energy, mean over configurations)
    L_F = w_F / (3·N_batch) · Σ_c w_c w_F,c Σ_i |f̂_i − f_i|²             (mean over the batch's force components)
    L_S = w_S / (9·M)       · Σ_c w_c w_S,c Σ_ab (σ̂_c,ab − σ_c,ab)²      (mean over the 9 stress components of each)

``WeightedForcesLoss`` is L_F, ``WeightedEnergyForcesLoss`` L_E + L_F and ``WeightedEnergyForcesStressLoss``
L_E + L_F + L_S.  Before MACE's fix of its issue #437 (pull request #438, June 2024), L_S had
(σ̂ − σ)/N_c inside the square.

What snapcheck.torch needs, here:

* :func:`energy_fn`  Ê (eV) built from the ``positions`` tensor snapcheck passes and, given one, the
  ``cell``.  MACE reads positions and shifts from its graph (``data["positions"]``, ``data["shifts"]``),
  so the tensor is put there and the shifts are made from the cell, S = n·cell: a strained cell moves
  the images with it.  The edges and integer shifts n are built once at the atoms' own positions with
  cutoff r_max + :data:`SKIN`, so they stay valid for every displacement and strain of the checks (at
  most 0.1 Å per atom).  Edges longer than r_max carry exactly zero, so Ê equals MACE's own on its
  r_max graph (checked in the tests to round-off);
* :func:`forces_fn`  MACE's own force code on that graph: ``model(..., compute_force=True,
  training=True)["forces"]``;
* :func:`stress_fn`  MACE's own stress code on that graph: ``model(..., compute_stress=True,
  training=True)["stress"]``;
* :func:`trainer_step`  MACE's own training step on one batch of all the configurations: its data
  pipeline (``config_from_atoms``, ``AtomicData.from_config`` at r_max, its ``DataLoader``), its
  forward with ``training=True`` (and ``compute_stress=True`` for a loss with a stress term), its loss
  module and ``backward()``, as in ``mace.tools.train.take_step``;
* :func:`loss_fn`  that loss module as a snapcheck ``loss_fn``: the formulas above, bound to the batch
  because they divide by N_batch and M.

On torch 2.13, ``import mace`` must come before the first import of ``e3nn.o3`` (``mace/__init__.py``
sets ``TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD``, without which e3nn.o3's ``torch.load`` of its constants fails
with ``UnpicklingError: Weights only load failed … GLOBAL slice``).  This module imports ``mace`` first.
"""

from __future__ import annotations

import contextlib
import weakref
from collections.abc import Callable, Sequence

import numpy as np
import torch

from snapcheck.torch.determinism import seeded

SKIN = 0.5  # Å, added to r_max for the graph that energy_fn, forces_fn and stress_fn reuse under displacements
TA = 73  # atomic number

_GRAPHS: dict = {}


@contextlib.contextmanager
def default_dtype(dtype: torch.dtype):
    """MACE builds data and buffers in torch's default dtype (its trainer sets it globally); set it, then restore."""
    previous = torch.get_default_dtype()
    torch.set_default_dtype(dtype)
    try:
        yield
    finally:
        torch.set_default_dtype(previous)


def dtype_and_device(model: torch.nn.Module) -> tuple[torch.dtype, torch.device]:
    """The dtype and device of the model's floating-point parameters (its training batch is made in both)."""
    parameter = next(p for p in model.parameters() if p.is_floating_point())
    return parameter.dtype, parameter.device


def mace_configuration(atoms):
    """``atoms`` as MACE's ``Configuration``, labelled under MACE's default keys with what the atoms' calculator
    holds: the DFT energy (eV), forces (eV/Å) and stress (eV/Å³, ASE's sign and Voigt order).  Unlabelled atoms
    (a strained copy of the stress check) give the graph alone."""
    import mace  # noqa: F401 - before e3nn.o3 (see the module docstring)
    from mace.data import KeySpecification, config_from_atoms

    labelled, keys = atoms.copy(), KeySpecification()
    held = atoms.calc.results if atoms.calc is not None else {}
    if "forces" in held:
        labelled.arrays["REF_forces"] = atoms.get_forces()
        keys.update(arrays_keys={"forces": "REF_forces"})
    if "energy" in held:
        labelled.info["REF_energy"] = atoms.get_potential_energy()
        keys.update(info_keys={"energy": "REF_energy"})
    if "stress" in held:
        labelled.info["REF_stress"] = atoms.get_stress()
        keys.update(info_keys={"stress": "REF_stress"})
    return config_from_atoms(labelled, key_specification=keys)


def mace_batch(model: torch.nn.Module, atoms_list: Sequence, cutoff: float, dtype: torch.dtype, device):
    """MACE's own data pipeline: one ``torch_geometric`` batch of ``atoms_list`` with edges within ``cutoff`` (Å)."""
    import mace  # noqa: F401
    from mace.data import AtomicData
    from mace.tools import AtomicNumberTable, torch_geometric

    z_table = AtomicNumberTable([int(z) for z in model.atomic_numbers])
    with default_dtype(dtype):
        data = [
            AtomicData.from_config(mace_configuration(a), z_table=z_table, cutoff=cutoff, heads=model.heads)
            for a in atoms_list
        ]
    loader = torch_geometric.dataloader.DataLoader(dataset=data, batch_size=len(data), shuffle=False)
    return next(iter(loader)).to(device)


def graph(model: torch.nn.Module, atoms, dtype: torch.dtype, device) -> dict:
    """MACE's input dict for ``atoms`` (a batch of one) with edges within r_max + SKIN, kept while ``atoms`` lives."""
    cutoff = float(model.r_max) + SKIN
    key = (id(atoms), dtype, str(device), cutoff)
    if key not in _GRAPHS:
        _GRAPHS[key] = mace_batch(model, [atoms], cutoff, dtype, device).to_dict()
        weakref.finalize(atoms, _GRAPHS.pop, key, None)
    return _GRAPHS[key]


def mace_input(model: torch.nn.Module, atoms, positions: torch.Tensor, cell: torch.Tensor | None = None) -> dict:
    """MACE's input dict at ``positions`` (Å) and ``cell`` (Å, rows; default the atoms' own): shifts S = n·cell."""
    data = dict(graph(model, atoms, positions.dtype, positions.device), positions=positions)
    if cell is not None:
        data["cell"] = cell.reshape(3, 3)
        data["shifts"] = data["unit_shifts"] @ data["cell"]
    return data


def energy_fn(model: torch.nn.Module, atoms, positions: torch.Tensor, cell: torch.Tensor | None = None) -> torch.Tensor:
    """Ê (eV) of ``atoms`` at ``positions`` (Å) and ``cell`` (Å, rows): the tensors replace the graph's own."""
    return model(mace_input(model, atoms, positions, cell), compute_force=False)["energy"].sum()


def forces_fn(model: torch.nn.Module, atoms, positions: torch.Tensor) -> torch.Tensor:
    """MACE's own forces, −∂Ê/∂r with create_graph (``training=True``), at ``positions`` (eV/Å)."""
    return model(mace_input(model, atoms, positions), compute_force=True, training=True)["forces"]


def stress_fn(model: torch.nn.Module, atoms, positions: torch.Tensor, cell: torch.Tensor) -> torch.Tensor:
    """MACE's own stress σ̂ = (1/V) ∂Ê/∂ε (3, 3) in eV/Å³, ASE's sign, with create_graph (``training=True``)."""
    output = model(mace_input(model, atoms, positions, cell), compute_force=True, compute_stress=True, training=True)
    return output["stress"].reshape(3, 3)


#: The quantities MACE's ``WeightedEnergyForcesStressLoss`` compares: pass them as ``terms`` with its :func:`loss_fn`.
TERMS = ("energy", "forces", "stress")


def trainer_step(loss: Callable, compute_stress: bool | None = None) -> Callable:
    """``trainer_step(model, configurations)``: MACE's training step with the loss module ``loss`` on one batch.

    ``compute_stress`` (default: whether ``loss`` has a ``stress_weight``, as MACE's stress losses do) asks the
    forward for σ̂, as ``mace.tools.train.take_step`` does for a loss with a stress term.
    """
    stress = hasattr(loss, "stress_weight") if compute_stress is None else compute_stress

    def step(model: torch.nn.Module, configurations: Sequence) -> None:
        dtype, device = dtype_and_device(model)
        batch = mace_batch(model, configurations, float(model.r_max), dtype, device)
        output = model(batch.to_dict(), training=True, compute_force=True, compute_stress=stress)
        loss(pred=output, ref=batch).backward()

    return step


def loss_fn(loss: torch.nn.Module, configurations: Sequence) -> Callable:
    """MACE's ``loss`` on the batch ``configurations`` as a snapcheck ``loss_fn`` (module docstring's formulas).

    ``WeightedForcesLoss`` and ``WeightedEnergyForcesLoss`` with ``energy_weight=0``: the force loss
    ``loss_fn(f̂, f, atoms)`` = L_F (eV²/Å²), for the default ``terms=("forces",)``.
    ``WeightedEnergyForcesStressLoss``: the whole loss ``loss_fn(predicted, reference, atoms)`` =
    L_E + L_F + L_S over dicts of Ê (eV), f̂ (N, 3; eV/Å) and σ̂ (3, 3; eV/Å³, ASE's sign), for
    ``terms=TERMS``.  Each configuration's share; snapcheck sums them over the batch.  Other loss
    modules raise ValueError.
    """
    from mace.modules.loss import WeightedEnergyForcesLoss, WeightedEnergyForcesStressLoss, WeightedForcesLoss

    if type(loss) not in (WeightedEnergyForcesLoss, WeightedForcesLoss, WeightedEnergyForcesStressLoss):
        raise ValueError(
            f"{type(loss).__name__}: snapcheck.torch.mace states WeightedForcesLoss, WeightedEnergyForcesLoss "
            "(energy_weight=0) and WeightedEnergyForcesStressLoss; for another loss, write it as loss_fn"
        )
    if type(loss) is WeightedEnergyForcesLoss and float(loss.energy_weight) != 0.0:
        raise ValueError(
            f"{loss!r}: the energy term is first order and not part of the force check; "
            "check WeightedEnergyForcesLoss(energy_weight=0.0, forces_weight=...)"
        )
    m = len(configurations)
    n_batch = sum(len(atoms) for atoms in configurations)
    weights = {q: float(getattr(loss, f"{q}_weight", 0.0)) for q in TERMS}

    def weight(atoms, quantity: str) -> float:
        """w_c w_q,c from ``atoms.info``, as MACE's ``config_from_atoms`` reads them."""
        return atoms.info.get("config_weight", 1.0) * atoms.info.get(f"config_{quantity}_weight", 1.0)

    def force_term(predicted: torch.Tensor, reference: torch.Tensor, atoms) -> torch.Tensor:
        return weights["forces"] * weight(atoms, "forces") * ((predicted - reference) ** 2).sum() / (3 * n_batch)

    if type(loss) is not WeightedEnergyForcesStressLoss:
        return force_term

    def whole_loss(predicted: dict, reference: dict, atoms) -> torch.Tensor:
        energy = ((predicted["energy"] - reference["energy"]) / len(atoms)) ** 2 / m
        stress = ((predicted["stress"] - reference["stress"]) ** 2).sum() / (9 * m)
        return (
            weights["energy"] * weight(atoms, "energy") * energy
            + force_term(predicted["forces"], reference["forces"], atoms)
            + weights["stress"] * weight(atoms, "stress") * stress
        )

    return whole_loss


def ta_model(dtype: torch.dtype = torch.float64, seed: int = 0, r_max: float = 4.5) -> torch.nn.Module:
    """A small ScaleShiftMACE for Ta (2 interactions, 8 channels, ℓ ≤ 1, correlation 2; 2,656 parameters)."""
    import mace  # noqa: F401
    from e3nn import o3
    from mace import modules

    with seeded(seed), default_dtype(dtype):
        model = modules.ScaleShiftMACE(
            atomic_inter_scale=1.0,
            atomic_inter_shift=0.0,
            r_max=r_max,
            num_bessel=8,
            num_polynomial_cutoff=5,
            max_ell=1,
            interaction_cls=modules.interaction_classes["RealAgnosticResidualInteractionBlock"],
            interaction_cls_first=modules.interaction_classes["RealAgnosticInteractionBlock"],
            num_interactions=2,
            num_elements=1,
            hidden_irreps=o3.Irreps("8x0e + 8x1o"),
            MLP_irreps=o3.Irreps("8x0e"),
            gate=torch.nn.functional.silu,
            radial_MLP=[16, 16],
            atomic_energies=np.array([-11.85]),  # eV, about Ta's energy per atom in the data
            avg_num_neighbors=26.0,  # BCC Ta within 4.5 Å: 8 + 6 + 12
            atomic_numbers=[TA],
            correlation=2,
        )
    return model.to(dtype)
