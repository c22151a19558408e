"""Configurations and datasets: what the paper's losses (Eqs. 1–2) are averaged over."""

from snapcheck.data.configuration import Configuration, DataError
from snapcheck.data.datasets import DATASET_NAME, PAPER_SET_NAME, load_configurations, resolve_dataset_root
from snapcheck.data.fitsnap_json import read_fitsnap_json

__all__ = [
    "Configuration",
    "DataError",
    "DATASET_NAME",
    "PAPER_SET_NAME",
    "load_configurations",
    "read_fitsnap_json",
    "resolve_dataset_root",
]
