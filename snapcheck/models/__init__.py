"""Energy models Ê_θ(r): the linear SNAP oracle and its fit, the model protocol, numpy Morse and neural SNAP models.

The pure models map descriptors to energies and forces; the potentials of
:mod:`snapcheck.models.potentials` bind them to LAMMPS; the registry
(:mod:`snapcheck.models.registry`) names them for the commands.
"""

from snapcheck.models.linear_snap import ForceLoss, LinearSnap
from snapcheck.models.morse import Morse
from snapcheck.models.neural_snap import NeuralSnap
from snapcheck.models.potentials import LinearSnapPotential, NeuralSnapPotential
from snapcheck.models.protocol import EnergyModel, check_model
from snapcheck.models.registry import ModelRequest, NamedModel, load_model, model_names, register

__all__ = [
    "EnergyModel",
    "ForceLoss",
    "LinearSnap",
    "LinearSnapPotential",
    "ModelRequest",
    "Morse",
    "NamedModel",
    "NeuralSnap",
    "NeuralSnapPotential",
    "check_model",
    "load_model",
    "model_names",
    "register",
]
