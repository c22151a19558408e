"""The descriptor engine: bispectrum components and their derivatives from LAMMPS."""

from snapcheck.descriptors.lammps_engine import (
    ZBL_TANTALUM,
    FastDescriptors,
    ReferencePotential,
    SnapDescriptors,
    SnapEngine,
)
from snapcheck.descriptors.snap_files import SnapParameters, read_snap_parameters

__all__ = [
    "ZBL_TANTALUM",
    "FastDescriptors",
    "ReferencePotential",
    "SnapDescriptors",
    "SnapEngine",
    "SnapParameters",
    "read_snap_parameters",
]
