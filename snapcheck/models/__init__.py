"""Energy models Ê_θ(r): the linear SNAP oracle, the model protocol, a numpy Morse model and a neural SNAP network."""

from snapcheck.models.linear_snap import LinearSnap
from snapcheck.models.morse import Morse
from snapcheck.models.neural_snap import NeuralSnap, NeuralSnapPotential
from snapcheck.models.protocol import EnergyModel
from snapcheck.models.snap_potential import SnapPotential

__all__ = ["EnergyModel", "LinearSnap", "Morse", "NeuralSnap", "NeuralSnapPotential", "SnapPotential"]
