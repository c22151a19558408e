"""The descriptor engine: bispectrum components and their derivatives from LAMMPS ``compute snap``."""

from snapcheck.descriptors.cache import EngineCache
from snapcheck.descriptors.engine import SnapEngine
from snapcheck.descriptors.results import (
    AtomDescriptors,
    AtomDescriptorValues,
    SummedDescriptors,
    SummedDescriptorValues,
)

__all__ = [
    "AtomDescriptorValues",
    "AtomDescriptors",
    "EngineCache",
    "SnapEngine",
    "SummedDescriptorValues",
    "SummedDescriptors",
]
