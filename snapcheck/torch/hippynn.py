"""hippynn (0.1.3, the paper authors' trainer) in snapcheck.torch: a small periodic HIP-NN on Ta.

hippynn computes forces with its own ``physics.GradientNode`` (``sign · autograd.grad(E.sum(), R,
create_graph=True)``) and trains through its own loss graph (``assemble_for_training``).  Here

* ``energy_fn``    the HIP-NN molecular energy node on the positions snapcheck passes (a batch of one);
* ``forces_fn``    hippynn's GradientNode output: the trainer's own force code;
* ``trainer_step`` hippynn's assembled training loss (``loss.MSELoss.of_node(force)``) and its backward.
  Its loss is mean((f̂ − f)²) = 2/(3N) · ½Σ|f̂ − f|², so it is checked with ``loss_fn=force_mse``.

The training ``GraphModule`` outputs only what the loss needs, so two more GraphModules are built from
the same nodes (the same torch modules, the same parameters): energy + forces for ``forces_fn``, and
the energy alone for ``energy_fn`` (the force node would fail on positions that do not require grad,
which Eq. 7 passes).  Input and target orders are read from ``db_info``.
"""

from __future__ import annotations

import contextlib
import io
import warnings

import numpy as np
import torch

from snapcheck.torch.determinism import seeded

TA = 73  # atomic number


def build(dtype=torch.float64, seed: int = 0, sign: int = -1):
    """A small HIP-NN (periodic, 1 interaction layer, 8 features) with hippynn's force node and MSE loss graph."""
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()), seeded(seed):
        warnings.simplefilter("ignore")
        from hippynn.experiment import assemble_for_training
        from hippynn.graphs import GraphModule, inputs, loss, networks, physics, targets

        default = torch.get_default_dtype()
        torch.set_default_dtype(dtype)
        try:
            species = inputs.SpeciesNode(db_name="Z")
            positions = inputs.PositionsNode(db_name="R")
            cell = inputs.CellNode(db_name="C")
            params = dict(
                possible_species=[0, TA],
                n_features=8,
                n_sensitivities=6,
                dist_soft_min=1.8,
                dist_soft_max=3.6,
                dist_hard_max=4.2,
                n_interaction_layers=1,
                n_atom_layers=2,
            )
            network = networks.Hipnn("HIPNN", (species, positions, cell), module_kwargs=params, periodic=True)
            henergy = targets.HEnergyNode("HEnergy", network)
            force = physics.GradientNode("forces", (henergy, positions), sign=sign)
            force.db_name = "F"
            henergy.mol_energy.db_name = "T"
            train_loss = loss.MSELoss.of_node(force)
            modules, db_info = assemble_for_training(train_loss, {"force_mse": train_loss})
            predictor = GraphModule([species, positions, cell], [henergy.mol_energy, force])
            energy_graph = GraphModule([species, positions, cell], [henergy.mol_energy])
        finally:
            torch.set_default_dtype(default)
    for module in (modules.model, predictor, energy_graph):
        module.to(dtype)
    return HippynnPotential(modules, predictor, energy_graph, db_info)


class HippynnPotential(torch.nn.Module):
    """hippynn's GraphModules in one torch Module: snapcheck names its parameters (``graph.…``)."""

    def __init__(self, modules, predictor, energy_graph, db_info):
        super().__init__()
        self.graph = predictor  # outputs: molecular energy, forces
        self.energy_graph = energy_graph  # the energy alone
        self.train_graph = modules.model  # outputs: what the training loss needs
        self.loss_graph = modules.loss
        self.inputs, self.targets = db_info["inputs"], db_info["targets"]

    @staticmethod
    def feed(atoms, positions) -> dict:
        return {
            "Z": torch.full((1, len(atoms)), TA, dtype=torch.long),
            "R": positions.unsqueeze(0),
            "C": torch.tensor(np.asarray(atoms.cell), dtype=positions.dtype).unsqueeze(0),
        }


def energy_fn(model: HippynnPotential, atoms, positions):
    feed = model.feed(atoms, positions)
    return model.energy_graph(feed["Z"], feed["R"], feed["C"])[0].sum()


def forces_fn(model: HippynnPotential, atoms, positions):
    """hippynn's own force code: the GradientNode output for these positions."""
    feed = model.feed(atoms, positions)
    return model.graph(feed["Z"], feed["R"], feed["C"])[1].squeeze(0)


def force_mse(predicted, reference, atoms):
    """hippynn's force loss, mean((f̂ − f)²), as a snapcheck ``loss_fn``."""
    return torch.nn.functional.mse_loss(predicted, reference)


def trainer_step(model: HippynnPotential, configurations) -> None:
    """hippynn's assembled training loss graph and backward, one configuration per batch."""
    dtype = next(p.dtype for p in model.parameters() if p.is_floating_point())
    for atoms in configurations:
        feed = model.feed(atoms, torch.tensor(atoms.get_positions(), dtype=dtype, requires_grad=True))
        outputs = model.train_graph(*[feed[name] for name in model.inputs])
        feed["F"] = torch.tensor(atoms.get_forces(), dtype=dtype).unsqueeze(0)
        # the loss graph takes the model's outputs, then the targets (db_info["targets"], e.g. F and Z)
        model.loss_graph(*outputs, *[feed[name] for name in model.targets])[0].backward()
