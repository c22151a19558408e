"""MACE (mace-torch 0.3.16) in snapcheck.torch: the callables a MACE user passes, in a few lines.

MACE predicts Ê = Σ_i (E0(Z_i) + s·ε_i + μ) from messages along the edges of a graph: edge
vectors r_ij = r_j − r_i + S_ij (S_ij = n_ij·cell, the periodic shift), radial features that a
polynomial envelope takes smoothly to zero at r_max.  It trains by double backpropagation: its
forces are −∂Ê/∂r with ``create_graph=True`` (``model(batch, compute_force=True, training=True)``),
and its force loss (``WeightedEnergyForcesLoss``, ``WeightedForcesLoss``) is a mean over every
force component of the batch:

    L_F = w_F / (3·N_batch) · Σ_c w_c w_F,c Σ_i |f̂_i − f_i|²,     N_batch = Σ_c N_c,

with w_c = ``atoms.info["config_weight"]`` and w_F,c = ``atoms.info["config_forces_weight"]`` (1 by
default).  Its energy term ``w_E · mean_c ((Ê_c − E_c)/N_c)²`` is first order in θ and is not part of
the force check: set ``energy_weight=0`` in the loss under test.

What snapcheck.torch needs, here:

* :func:`energy_fn`  Ê (eV) built from the ``positions`` tensor snapcheck passes.  MACE reads
  positions from its graph (``data["positions"]``), so the tensor is put there; the edges and shifts
  are built once at the atoms' own positions with cutoff r_max + :data:`SKIN`, so they stay valid
  for every displacement of the check (at most 0.1 Å per atom).  Edges longer than r_max carry
  exactly zero, so Ê equals MACE's own on its r_max graph (checked in the tests to round-off);
* :func:`forces_fn`  MACE's own force code on that graph: ``model(..., compute_force=True,
  training=True)["forces"]``;
* :func:`trainer_step`  MACE's own training step on one batch of all the configurations: its data
  pipeline (``config_from_atoms``, ``AtomicData.from_config`` at r_max, its ``DataLoader``), its
  forward with ``training=True``, its loss module and ``backward()``, as in ``mace.tools.train.take_step``;
* :func:`loss_fn`  that loss module's force term as a snapcheck ``loss_fn``: the formula above,
  bound to the batch because it divides by N_batch.

On torch 2.13, ``import mace`` must come before the first import of ``e3nn.o3`` (``mace/__init__.py``
sets ``TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD``, without which e3nn.o3's ``torch.load`` of its constants fails
with ``UnpicklingError: Weights only load failed … GLOBAL slice``).  This module imports ``mace`` first.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence

import numpy as np
import torch

SKIN = 0.5  # Å, added to r_max for the graph that energy_fn and forces_fn reuse under displacements
TA = 73  # atomic number

_GRAPHS: dict = {}


@contextlib.contextmanager
def default_dtype(dtype: torch.dtype):
    """MACE builds its data and buffers in torch's default dtype (its trainer sets it globally); set it, then restore."""
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
    """``atoms`` as MACE's ``Configuration``, with its DFT forces under MACE's default key (the energy is not needed)."""
    import mace  # noqa: F401 - before e3nn.o3 (see the module docstring)
    from mace.data import KeySpecification, config_from_atoms

    labelled = atoms.copy()
    labelled.arrays["REF_forces"] = atoms.get_forces()
    return config_from_atoms(labelled, key_specification=KeySpecification(arrays_keys={"forces": "REF_forces"}))


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
    """MACE's input dict for ``atoms`` (a batch of one) with edges within r_max + SKIN, cached per atoms and dtype."""
    cutoff = float(model.r_max) + SKIN
    key = (id(atoms), dtype, str(device), cutoff)
    if key not in _GRAPHS:
        _GRAPHS[key] = (mace_batch(model, [atoms], cutoff, dtype, device).to_dict(), atoms)  # atoms kept: id unique
    return _GRAPHS[key][0]


def energy_fn(model: torch.nn.Module, atoms, positions: torch.Tensor) -> torch.Tensor:
    """Ê (eV) of ``atoms`` at ``positions`` (Å): the positions tensor replaces the graph's own."""
    data = dict(graph(model, atoms, positions.dtype, positions.device), positions=positions)
    return model(data, compute_force=False)["energy"].sum()


def forces_fn(model: torch.nn.Module, atoms, positions: torch.Tensor) -> torch.Tensor:
    """MACE's own forces, −∂Ê/∂r with create_graph (``training=True``), at ``positions`` (eV/Å)."""
    data = dict(graph(model, atoms, positions.dtype, positions.device), positions=positions)
    return model(data, compute_force=True, training=True)["forces"]


def trainer_step(loss: torch.nn.Module) -> Callable:
    """``trainer_step(model, configurations)``: MACE's training step with the loss module ``loss`` on one batch."""

    def step(model: torch.nn.Module, configurations: Sequence) -> None:
        dtype, device = dtype_and_device(model)
        batch = mace_batch(model, configurations, float(model.r_max), dtype, device)
        output = model(batch.to_dict(), training=True, compute_force=True)
        loss(pred=output, ref=batch).backward()

    return step


def loss_fn(loss: torch.nn.Module, configurations: Sequence) -> Callable:
    """The force term of MACE's ``loss`` on the batch ``configurations``, as a snapcheck ``loss_fn`` (eV²/Å²).

    Exact for ``WeightedEnergyForcesLoss`` with ``energy_weight=0`` and for ``WeightedForcesLoss``
    (their force term is ``mean_squared_error_forces``); other loss modules raise ValueError.
    """
    from mace.modules.loss import WeightedEnergyForcesLoss, WeightedForcesLoss

    if type(loss) not in (WeightedEnergyForcesLoss, WeightedForcesLoss):
        raise ValueError(
            f"{type(loss).__name__}: snapcheck.torch.mace states the force term of WeightedEnergyForcesLoss "
            "(energy_weight=0) and WeightedForcesLoss; for another loss, write its force term as loss_fn"
        )
    if float(getattr(loss, "energy_weight", 0.0)) != 0.0:
        raise ValueError(
            f"{loss!r}: the energy term is first order and not part of the force check; "
            "check WeightedEnergyForcesLoss(energy_weight=0.0, forces_weight=...)"
        )
    forces_weight = float(loss.forces_weight)
    n_batch = sum(len(atoms) for atoms in configurations)

    def force_loss(predicted: torch.Tensor, reference: torch.Tensor, atoms) -> torch.Tensor:
        weight = atoms.info.get("config_weight", 1.0) * atoms.info.get("config_forces_weight", 1.0)
        return forces_weight * weight * ((predicted - reference) ** 2).sum() / (3 * n_batch)

    return force_loss


def ta_model(dtype: torch.dtype = torch.float64, seed: int = 0, r_max: float = 4.5) -> torch.nn.Module:
    """A small ScaleShiftMACE for Ta (2 interactions, 8 channels, ℓ ≤ 1, correlation 2; 2,656 parameters)."""
    import mace  # noqa: F401
    from e3nn import o3
    from mace import modules

    torch.manual_seed(seed)
    with default_dtype(dtype):
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
