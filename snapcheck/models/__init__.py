"""Energy models Ê_θ(r): the linear SNAP oracle, the model protocol, and a numpy Morse model."""

from snapcheck.models.linear_snap import LinearSnap
from snapcheck.models.morse import Morse
from snapcheck.models.protocol import EnergyModel
from snapcheck.models.snap_potential import SnapPotential

__all__ = ["EnergyModel", "LinearSnap", "Morse", "SnapPotential"]
