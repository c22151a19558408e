"""Configurations, their file formats and the datasets: what the paper's losses (Eqs. 1–2) are averaged over.

Also the SNAP settings read from files (``.snapparam``, ``.snapcoeff``, FitSNAP
inputs), which describe a model before any descriptor is computed.
"""

from snapcheck.data.configuration import Configuration
from snapcheck.data.dataset_registry import DATASET_NAME, PAPER_SET_NAME
from snapcheck.data.datasets import load_configurations
from snapcheck.data.fitsnap_json import read_fitsnap_json
from snapcheck.data.locations import resolve_dataset_root
from snapcheck.data.selection import group_indices, stratified_subset
from snapcheck.data.snap_files import ZBL_TANTALUM, ReferencePotential, SnapParameters, read_snap_parameters

__all__ = [
    "Configuration",
    "DATASET_NAME",
    "PAPER_SET_NAME",
    "ReferencePotential",
    "SnapParameters",
    "ZBL_TANTALUM",
    "group_indices",
    "load_configurations",
    "read_fitsnap_json",
    "read_snap_parameters",
    "resolve_dataset_root",
    "stratified_subset",
]
