"""FitSNAP 3.1.0.4's PyTorch solver, run in process on one batch up to its first optimizer step.

Workarounds 1–3 are patches confined to FitSNAP's own modules inside :func:`fitsnap_compatibility` and
undone afterwards (no installed file is edited, no other module sees them); workaround 4 is in
:func:`run_one_batch`, which replaces the solver's ``optimizer.step`` for the one run:

1. ``sections.strtobool`` returns an int (the patch
   :func:`snapcheck.studies.fitsnap_crosscheck.settings_as_integers`):
   with setuptools ≥ 76 it returns a bool, and ``bikflag True`` reaches LAMMPS's ``compute snap``
   as the word ``True``, which LAMMPS rejects (``Expected integer parameter instead of 'True'``);
2. ``fitsnap3lib.scrapers.scrape.shuffle`` is a seeded ``random.Random(seed).shuffle``: FitSNAP
   calls ``shuffle(list, random)``, whose second argument Python 3.11 removed (``TypeError``);
3. FitSNAP's solver module sees a ``torch`` whose ``optim.lr_scheduler.ReduceLROnPlateau`` accepts
   and drops ``verbose``, which torch ≥ 2.7 removed and FitSNAP passes (``TypeError: unexpected
   keyword argument 'verbose'``); torch itself is untouched;
4. FitSNAP's error analysis fails on a batch of one configuration (``index_add_`` on a 0-d
   ``atoms_per_structure``); the fit is stopped at the first ``optimizer.step()``, before it.

FitSNAP 3.1.0.4 trains only in float32 from an input file: its PYTORCH section reads
``dtype_setting`` but its input check rejects the key, and ``FitTorch.forward`` builds float32
tensors.  So a float32 trainer is checked against a float64 reference.
"""

from __future__ import annotations

import configparser
import contextlib
import io
import os
import random
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from snapcheck.data.configuration import Configuration
from snapcheck.data.datasets import resolve_dataset
from snapcheck.data.snap_files import SnapParameters
from snapcheck.studies.fitsnap_crosscheck import require_fitsnap, settings_as_integers
from snapcheck.torch.determinism import seeded


def example_input() -> Path:
    """FitSNAP's Ta PyTorch example input (``examples/Ta_PyTorch_NN``): ``$SNAPCHECK_FITSNAP_TORCH_INPUT``, else
    ``fitsnap_pytorch_ta/Ta-example.in`` in the folder of local dataset copies ``$SNAPCHECK_DATASETS``."""
    named = os.environ.get("SNAPCHECK_FITSNAP_TORCH_INPUT")
    return (
        Path(named)
        if named
        else Path(os.environ.get("SNAPCHECK_DATASETS", ".")) / "fitsnap_pytorch_ta" / "Ta-example.in"
    )


#: (group, JSON file or None for the group's first) of the default batch: 48 + 24 atoms.
DEFAULT_CONFIGS = (("Displaced_FCC", "FCC_1.json"), ("GSF_110", None))


class _Stop(Exception):
    """Raised by the replaced ``optimizer.step`` once FitSNAP's ``.grad`` is captured."""


def example_sections(data_path: Path, groups, *, energy_weight=None, example: Path | None = None) -> dict:
    """The Ta PyTorch example's input as a dict, restricted to ``groups`` (all training, one batch, one epoch)."""
    example = example_input() if example is None else example
    parser = configparser.ConfigParser(inline_comment_prefixes=("#",))
    parser.optionxform = str
    if not parser.read(example):
        raise FileNotFoundError(
            f"{example}: FitSNAP's Ta PyTorch example input is missing; set SNAPCHECK_FITSNAP_TORCH_INPUT to "
            "examples/Ta_PyTorch_NN/Ta-example.in of a FitSNAP checkout (or SNAPCHECK_DATASETS to a folder holding "
            "fitsnap_pytorch_ta/Ta-example.in)"
        )
    sections = {name: dict(parser[name]) for name in parser.sections()}
    sections["PATH"] = {"dataPath": str(data_path)}
    sections.pop("EXTRAS", None)
    group = sections["GROUPS"]
    kept = {k: group[k] for k in ("group_sections", "group_types", "smartweights", "random_sampling")}
    for name in groups:
        kept[name] = " ".join(["1.0", "0.0"] + group[name].split()[2:])
    sections["GROUPS"] = kept
    sections["PYTORCH"].update({"num_epochs": "1", "shuffle_flag": "0", "batch_size": "1000", "manual_seed_flag": "1"})
    if energy_weight is not None:
        sections["PYTORCH"]["energy_weight"] = str(energy_weight)
    return sections


class _Proxy:
    """A module as FitSNAP's code sees it: the real one, with some attributes replaced."""

    def __init__(self, real, **replaced):
        self._real, self._replaced = real, replaced

    def __getattr__(self, name):
        return self._replaced[name] if name in self._replaced else getattr(self._real, name)


@contextlib.contextmanager
def fitsnap_compatibility(seed: int = 0):
    """Workarounds 1–3 of the module docstring, for the duration of the block, in FitSNAP's modules only."""
    from fitsnap3lib.scrapers import scrape
    from fitsnap3lib.solvers import pytorch as solver_module

    class ReduceLROnPlateau(torch.optim.lr_scheduler.ReduceLROnPlateau):
        def __init__(self, *args, verbose=None, **kwargs):
            super().__init__(*args, **kwargs)

    schedulers = _Proxy(torch.optim.lr_scheduler, ReduceLROnPlateau=ReduceLROnPlateau)
    original_shuffle, original_torch = scrape.shuffle, solver_module.torch
    rng = random.Random(seed)
    scrape.shuffle = lambda items, _random=None: rng.shuffle(items)
    solver_module.torch = _Proxy(torch, optim=_Proxy(torch.optim, lr_scheduler=schedulers))
    try:
        with settings_as_integers():
            yield
    finally:
        scrape.shuffle, solver_module.torch = original_shuffle, original_torch


@dataclass
class FitsnapBatch:
    """What FitSNAP computed on one batch (batch order = ``fitsnap_dict["Configs"]``, LAMMPS frame)."""

    fitsnap: object  # the FitSnap instance
    model: torch.nn.Module  # FitTorch
    grads: dict  # name → FitSNAP's param.grad after its loss.backward()
    configurations: list  # snapcheck Configurations from FitSNAP's scraped data
    forces: np.ndarray  # FitSNAP's predicted forces (N_batch, 3)
    target_forces: np.ndarray  # its force targets (DFT − ZBL), (N_batch, 3)
    target_energies: np.ndarray  # its per-atom energy targets, per configuration
    descriptors: np.ndarray  # its per-atom descriptors (N_batch, K)
    energy_weight: float
    force_weight: float
    log: str


def run_one_batch(configs=DEFAULT_CONFIGS, *, energy_weight=None, plant=None, seed: int = 0, data=None) -> FitsnapBatch:
    """Run FitSNAP in process up to its first optimizer step on one batch of ``configs``, capturing everything.

    ``configs``: (group, JSON file name or None) pairs from the Ta dataset (``data``: as
    :func:`snapcheck.data.datasets.resolve_dataset`).  ``plant(fitsnap)`` runs before the fit,
    to plant a bug in FitSNAP's force code; it may set ``fitsnap._snapcheck_restore``.
    """
    require_fitsnap()
    from fitsnap3lib.fitsnap import FitSnap

    json_root = resolve_dataset(data).configurations
    log, captured, holder = io.StringIO(), {}, {}
    with tempfile.TemporaryDirectory(prefix="snapcheck-fitsnap-") as tmp:
        root = Path(tmp) / "JSON"
        groups = []
        for group, name in configs:
            name = name or sorted(os.listdir(json_root / group))[0]
            (root / group).mkdir(parents=True, exist_ok=True)
            os.symlink(json_root / group / name, root / group / name)
            groups.append(group)
        sections = example_sections(root, dict.fromkeys(groups), energy_weight=energy_weight)
        sections["OUTFILE"] = {"metrics": f"{tmp}/metrics.md", "potential": f"{tmp}/pot"}
        sections["PYTORCH"]["save_state_output"] = f"{tmp}/state.pt"
        with (
            contextlib.redirect_stdout(log),
            warnings.catch_warnings(),
            fitsnap_compatibility(seed),
            seeded(seed),  # FitSNAP's weights from the seed; the host's random stream untouched
            contextlib.chdir(tmp),
        ):
            warnings.simplefilter("ignore")
            fitsnap = FitSnap(sections, arglist=["--overwrite"])
            fitsnap.scrape_configs()
            fitsnap.process_configs()
            solver = fitsnap.solver
            if plant is not None:
                plant(fitsnap)
            handle = solver.model.register_forward_hook(lambda m, a, out: captured.update(output=out))

            def step(*args, **kwargs):
                captured["grads"] = {
                    n: None if p.grad is None else p.grad.detach().clone() for n, p in solver.model.named_parameters()
                }
                raise _Stop

            solver.optimizer.step = step
            try:
                solver.create_datasets()
                loader = solver.training_loader

                class Recording:
                    def __iter__(self):
                        for batch in loader:
                            holder["batch"] = batch
                            yield batch

                solver.create_datasets = lambda *a, **k: None  # keep the recording loader
                solver.training_loader = Recording()
                fitsnap.perform_fit()
            except _Stop:
                pass
            finally:
                handle.remove()
                getattr(fitsnap, "_snapcheck_restore", lambda: None)()
    if "grads" not in captured:
        raise RuntimeError("FitSNAP finished without an optimizer step:\n" + log.getvalue()[-3000:])
    batch, (_, forces) = holder["batch"], captured["output"]
    by_file = {Path(d["File"]).name: d for d in fitsnap.data}
    data_dicts = [by_file[Path(c).name] for c in fitsnap.pt.fitsnap_dict["Configs"]]
    if len(data_dicts) != len(batch["noa"]):
        raise RuntimeError(f"the batch holds {len(batch['noa'])} of {len(data_dicts)} configurations")
    configurations = [
        Configuration(
            name=Path(d["File"]).stem,
            group=d["Group"],
            positions=d["Positions"],
            cell=d["Lattice"],
            species=tuple(d["AtomTypes"]),
            energy=d["Energy"],
            forces=d["Forces"],
        )
        for d in data_dicts
    ]
    section = fitsnap.config.sections["PYTORCH"]
    return FitsnapBatch(
        fitsnap,
        solver.model,
        captured["grads"],
        configurations,
        forces.detach().double().numpy().reshape(-1, 3),
        batch["y_forces"].detach().double().numpy().reshape(-1, 3),
        batch["y"].detach().double().numpy(),
        np.array(fitsnap.pt.shared_arrays["a"].array, dtype=np.float64),
        float(section.energy_weight),
        float(section.force_weight),
        log.getvalue(),
    )


def snap_parameters(fitsnap) -> SnapParameters:
    """FitSNAP's [BISPECTRUM] settings (one element) as snapcheck's :class:`SnapParameters`."""
    b = fitsnap.config.sections["BISPECTRUM"]

    def first(value):
        return value[0] if isinstance(value, (list, tuple)) else value

    return SnapParameters(
        rcutfac=float(b.rcutfac),
        twojmax=int(first(b.twojmax)),
        elements=tuple(b.types),
        radii=(float(first(b.radelem)),),
        weights=(float(first(b.wj)),),
        rfac0=float(b.rfac0),
        rmin0=float(b.rmin0),
        switchflag=int(b.switchflag),
        bzeroflag=int(b.bzeroflag),
        quadraticflag=int(b.quadraticflag),
        chemflag=int(b.chemflag),
        bnormflag=int(b.bnormflag),
        wselfallflag=int(b.wselfallflag),
    )
