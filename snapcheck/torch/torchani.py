"""TorchANI (2.9.0) in snapcheck.torch: the callables a TorchANI user passes, in a few lines.

An ANI model predicts Ê = Σ_i NN_{Z_i}(G_i) in Hartree from atomic environment vectors G_i (radial and
angular symmetry functions with a smooth cutoff).  It takes positions in Å, and for a periodic cell
``cell`` (3×3, Å) and ``pbc``; it builds its neighbour list from the positions it is given on every
call, and since every term goes smoothly to zero at the cutoff, Ê is smooth under the check's
displacements without a skin.  Its periodic neighbour list takes one cell per call, so configurations
with different cells are evaluated one per forward pass.

TorchANI's force training (the training example of its documentation) takes forces with
``torchani.grad.forces_for_training`` (−∂Ê/∂r, ``create_graph=True``) and the force loss

    L_F = c_F · mean_c ( Σ_i |f̂_i − f_i|² / N_c )                  (Hartree²/Å²)

beside an energy term ``mean_c ((Ê_c − E_c)²/√N_c)``, which is first order in θ and is left out here.
snapcheck works in eV and eV/Å, so with H = 27.211386 eV per Hartree (``torchani.units.HARTREE_TO_EV``):

* :func:`energy_fn`   H · Ê, built from the ``positions`` tensor snapcheck passes;
* :func:`forces_fn`   H · ``forces_for_training(Ê, positions)``: TorchANI's own force code;
* :func:`trainer_step` TorchANI's training step on the configurations as one batch: the reference
  forces converted to Hartree/Å, its loss as above, ``backward()``;
* :func:`loss_fn`     the same loss for forces in eV/Å: c_F · Σ_i |f̂_i − f_i|² / (H² N_c M), M the
  number of configurations in the batch (a mean over them, so it is bound to the batch).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import torch

from snapcheck.torch.determinism import seeded

#: TorchANI's training example weighs the force loss by this against the energy loss.
FORCE_COEFFICIENT = 0.1


def hartree() -> float:
    """eV per Hartree, as TorchANI converts (``torchani.units.HARTREE_TO_EV``)."""
    from torchani.units import HARTREE_TO_EV

    return HARTREE_TO_EV


def inputs(atoms, positions: torch.Tensor) -> tuple[tuple[torch.Tensor, torch.Tensor], dict]:
    """TorchANI's ``(species, coordinates)`` for one configuration and its ``cell``/``pbc`` (None when not periodic).

    Species are atomic numbers, as models built with ``periodic_table_index=True`` (``simple_ani``'s default) take.
    """
    species = torch.tensor(atoms.get_atomic_numbers(), dtype=torch.long, device=positions.device).unsqueeze(0)
    periodic = {"cell": None, "pbc": None}
    if atoms.pbc.any():
        periodic = {
            "cell": torch.tensor(np.asarray(atoms.cell), dtype=positions.dtype, device=positions.device),
            "pbc": torch.tensor(atoms.pbc, device=positions.device),
        }
    return (species, positions.unsqueeze(0)), periodic


def energy_fn(model: torch.nn.Module, atoms, positions: torch.Tensor) -> torch.Tensor:
    """Ê (eV) of ``atoms`` at ``positions`` (Å)."""
    species_coordinates, periodic = inputs(atoms, positions)
    return model(species_coordinates, **periodic).energies.sum() * hartree()


def forces_fn(model: torch.nn.Module, atoms, positions: torch.Tensor) -> torch.Tensor:
    """TorchANI's own training forces, ``forces_for_training`` (create_graph=True), in eV/Å.

    TorchANI differentiates with respect to a leaf tensor; snapcheck passes ``positions`` as one.
    """
    from torchani.grad import forces_for_training

    species_coordinates, periodic = inputs(atoms, positions)
    return forces_for_training(model(species_coordinates, **periodic).energies, positions) * hartree()


def trainer_step(force_coefficient: float = FORCE_COEFFICIENT) -> Callable:
    """``trainer_step(model, configurations)``: TorchANI's documented force-training step on one batch."""
    from torchani.grad import forces_for_training

    def step(model: torch.nn.Module, configurations: Sequence) -> None:
        parameter = next(p for p in model.parameters() if p.is_floating_point())
        dtype, device = parameter.dtype, parameter.device
        mse = torch.nn.MSELoss(reduction="none")
        terms = []
        for atoms in configurations:  # one cell per forward pass
            coordinates = torch.tensor(atoms.get_positions(), dtype=dtype, device=device, requires_grad=True)
            species_coordinates, periodic = inputs(atoms, coordinates)
            species = species_coordinates[0]
            target_forces = torch.tensor(atoms.get_forces() / hartree(), dtype=dtype, device=device).unsqueeze(0)
            num_atoms = (species >= 0).sum(dim=1, dtype=dtype)
            predicted_energies = model(species_coordinates, **periodic).energies
            predicted_forces = forces_for_training(predicted_energies, coordinates).unsqueeze(0)
            terms.append(mse(predicted_forces, target_forces).sum(dim=(1, 2)) / num_atoms)
        force_loss = torch.cat(terms).mean()
        (force_coefficient * force_loss).backward()

    return step


def loss_fn(configurations: Sequence, force_coefficient: float = FORCE_COEFFICIENT) -> Callable:
    """TorchANI's force loss on the batch ``configurations`` as a snapcheck ``loss_fn`` (forces in eV/Å)."""
    scale = force_coefficient / (hartree() ** 2 * len(configurations))

    def force_loss(predicted: torch.Tensor, reference: torch.Tensor, atoms) -> torch.Tensor:
        return scale * ((predicted - reference) ** 2).sum() / len(atoms)

    return force_loss


def ta_model(dtype: torch.dtype = torch.float64, seed: int = 0) -> torch.nn.Module:
    """An ANI Ta model by ``simple_ani`` (ANI-2x-like AEVs, 5.2 Å radial cutoff), zero self energies, no repulsion."""
    from torchani.arch import simple_ani

    with seeded(seed):
        return simple_ani(["Ta"], lot="wb97x-631gd", self_energies="zero", repulsion=False).to(dtype)
