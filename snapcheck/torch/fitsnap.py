"""FitSNAP's PyTorch force training (fitsnap3 3.1.0.4), checked against the paper's Eq. 7 with LAMMPS energies.

FitSNAP trains ``FitTorch`` (a per-atom network on SNAP descriptors Bᵢ) by double backpropagation:
its forces contract dÊ/dB (autograd, ``create_graph=True``) with LAMMPS's ∂Bᵢ/∂rⱼ (``compute snap
... dgradflag 1``), and its loss per batch is ``ew·MSE(Ê/N, E/N) + fw·MSE(f̂, f)``.

The gradient under test is FitSNAP's own ``param.grad`` after its own ``loss.backward()`` on one
batch, captured by replacing ``optimizer.step`` with a function that stores ``.grad`` and stops the
fit.  The reference needs only energies: Ê(r) = Σᵢ net(Bᵢ(r)) with Bᵢ at the *displaced* positions
from :meth:`snapcheck.descriptors.engine.SnapEngine.evaluate_per_atom_values` (FitSNAP's
[BISPECTRUM] settings), and ∇θÊ by one backward pass through a float64 copy of the network:

    ∇θL_force ≈ −Σ_c (∇θÊ_c[r + ηg] − ∇θÊ_c[r − ηg]) / (2η),     g = ∂L_force/∂f̂ = 2·fw·(f̂ − f)/(3N_batch)

(Eq. 7, ε by the proxy of Eqs. 12–14 through :func:`snapcheck.torch.reference.choose_epsilon`), plus
the energy term of FitSNAP's loss, which is first order and computed exactly.  FitSNAP's forces are
checked by central differences of the same energies along seeded random directions.

Workarounds, all monkeypatches inside :func:`fitsnap_compatibility` and undone afterwards (no
installed file is edited):

1. ``sections.strtobool`` returns an int (:func:`snapcheck.studies.fitsnap_crosscheck`'s patch):
   with setuptools ≥ 76 it returns a bool, and ``bikflag True`` reaches LAMMPS's ``compute snap``
   as the word ``True``, which LAMMPS rejects (``Expected integer parameter instead of 'True'``);
2. ``fitsnap3lib.scrapers.scrape.shuffle`` is a seeded ``random.Random(seed).shuffle``: FitSNAP
   calls ``shuffle(list, random)``, whose second argument Python 3.11 removed (``TypeError``);
3. ``torch.optim.lr_scheduler.ReduceLROnPlateau`` accepts and drops ``verbose``, which torch ≥ 2.7
   removed and FitSNAP passes (``TypeError: unexpected keyword argument 'verbose'``);
4. FitSNAP's error analysis fails on a batch of one configuration (``index_add_`` on a 0-d
   ``atoms_per_structure``); the fit is stopped at the first ``optimizer.step()``, before it.

FitSNAP 3.1.0.4 trains only in float32 from an input file: its PYTORCH section reads
``dtype_setting`` but its input check rejects the key, and ``FitTorch.forward`` builds float32
tensors.  So a float32 trainer is checked against a float64 reference.
"""

from __future__ import annotations

import configparser
import contextlib
import copy
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
from snapcheck.descriptors.cache import EngineCache
from snapcheck.gradients.paper import Evaluation
from snapcheck.studies.fitsnap_crosscheck import require_fitsnap, settings_as_integers
from snapcheck.torch.check import default_rtol, per_tensor
from snapcheck.torch.diagnosis import ForcesComparison, describe_forces, describe_gradient
from snapcheck.torch.reference import Item, Reference, choose_epsilon, flat, slices


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


@contextlib.contextmanager
def fitsnap_compatibility(seed: int = 0):
    """Workarounds 1–3 of the module docstring, for the duration of the block."""
    from fitsnap3lib.scrapers import scrape

    original_shuffle, original_plateau = scrape.shuffle, torch.optim.lr_scheduler.ReduceLROnPlateau

    class ReduceLROnPlateau(original_plateau):
        def __init__(self, *args, verbose=None, **kwargs):
            super().__init__(*args, **kwargs)

    rng = random.Random(seed)
    scrape.shuffle = lambda items, _random=None: rng.shuffle(items)
    torch.optim.lr_scheduler.ReduceLROnPlateau = ReduceLROnPlateau
    try:
        with settings_as_integers():
            yield
    finally:
        scrape.shuffle, torch.optim.lr_scheduler.ReduceLROnPlateau = original_shuffle, original_plateau


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
    torch.manual_seed(seed)
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


@dataclass
class FitsnapReport:
    """Relative errors per parameter tensor of FitSNAP's ∇θL (total, and its force term alone)."""

    relative_errors: dict
    force_term_relative_errors: dict  # nan: an energy-only tensor (the last bias)
    epsilon: float
    error_bound: float
    forces_directional_error: float
    forces_ratio: float
    descriptor_mismatch: float
    dtype: torch.dtype

    def __str__(self) -> str:
        lines = [
            f"FitSNAP force-training gradient ({self.dtype}): ε = {self.epsilon:.1e}, proxy bound {self.error_bound:.1e}, "
            f"FitSNAP forces vs −dÊ/dr (central differences) {self.forces_directional_error:.1e} (ratio "
            f"{self.forces_ratio:.6f}), descriptors vs FitSNAP's {self.descriptor_mismatch:.1e}"
        ]
        for name, error in self.relative_errors.items():
            force = self.force_term_relative_errors[name]
            lines.append(
                f"  {name:<36s} total {error:.2e}   force term {'energy only' if force != force else f'{force:.2e}'}"
            )
        return "\n".join(lines)


def check_fitsnap_gradient(batch: FitsnapBatch, *, rtol: float | None = None, directions: int = 4, seed: int = 0):
    """Assert FitSNAP's captured ∇θL = energy term (exact) + force term (Eq. 7 on LAMMPS energies); return the report."""
    model = copy.deepcopy(batch.model).double()  # the float64 reference; FitSNAP's float32 .grad is under test
    network = model.network_architecture0
    dtype = next(batch.model.parameters()).dtype
    rtol = default_rtol(dtype) if rtol is None else rtol
    params = list(model.named_parameters())
    parts = slices(params)
    counts = [c.n_atoms for c in batch.configurations]
    offsets = np.cumsum([0] + counts)
    cache = EngineCache(snap_parameters(batch.fitsnap))
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # ~1 ms per backward pass of this small network; 2 threads beside LAMMPS: ~200 ms

    def evaluate(configuration, positions) -> Evaluation:
        b = torch.tensor(cache.per_atom_values(configuration, positions).descriptors)
        energy = network(b).sum()
        return Evaluation(float(energy.detach()), flat(torch.autograd.grad(energy, [p for _, p in params]), params))

    try:
        ours = np.concatenate([cache.per_atom_values(c).descriptors for c in batch.configurations])
        mismatch = float(np.abs(ours - batch.descriptors).max() / np.abs(batch.descriptors).max())
        # FitSNAP's force term fw·mean((f̂ − f)²): g = 2·fw·(f̂ − f)/(3 N_batch)
        g = 2.0 * batch.force_weight * (batch.forces - batch.target_forces) / (3 * offsets[-1])
        items = [
            Item(c, c.positions, batch.forces[a:b], g[a:b])
            for c, a, b in zip(batch.configurations, offsets[:-1], offsets[1:])
        ]
        loss = batch.force_weight * float(np.mean((batch.forces - batch.target_forces) ** 2))
        choice = choose_epsilon(Reference(evaluate, items, params, torch.float64, loss), paper_loss=False)
        rng = np.random.default_rng(seed)
        h, per_configuration, fd_all, fn_all = 1e-4, [], [], []
        for item in items:
            fd, fn = [], []
            for _ in range(directions):
                u = rng.standard_normal(item.positions.shape)
                u /= np.linalg.norm(u)
                plus, minus = (evaluate(item.atoms, item.positions + s * h * u).energy for s in (1, -1))
                fd.append(-(plus - minus) / (2 * h))
                fn.append(float(np.sum(item.forces * u)))
            fd, fn = np.array(fd), np.array(fn)
            ratio = float(fd @ fn / (fd @ fd))
            per_configuration.append(
                (len(item.positions), ratio, float(np.linalg.norm(fn - ratio * fd) / np.linalg.norm(fd)))
            )
            fd_all.append(fd)
            fn_all.append(fn)
    finally:
        cache.close()
        torch.set_num_threads(threads)
    fd_all, fn_all = np.concatenate(fd_all), np.concatenate(fn_all)
    forces = ForcesComparison(
        float(np.linalg.norm(fn_all - fd_all) / np.linalg.norm(fd_all)),
        float(fd_all @ fn_all / (fd_all @ fd_all)),
        True,
        float(np.linalg.norm(fn_all)),
        per_configuration,
    )
    # the energy term, exact and first order: ew·mean_c((Σᵢ net(B_ic))/N_c − y_c)²
    per_atom = network(torch.tensor(batch.descriptors)).squeeze(-1)
    e_per_atom = torch.stack([per_atom[a:b].sum() / (b - a) for a, b in zip(offsets[:-1], offsets[1:])])
    e_loss = batch.energy_weight * ((e_per_atom - torch.tensor(batch.target_energies)) ** 2).mean()
    energy_term = flat(torch.autograd.grad(e_loss, [p for _, p in params], allow_unused=True), params)
    test = flat([batch.grads[n] for n, _ in params], params)
    test_force = test - energy_term
    errors = per_tensor(test, choice.gradient + energy_term, parts)
    errors_force = {
        n: per_tensor(test_force[s], choice.gradient[s], {n: slice(None)})[n] if np.any(choice.gradient[s]) else np.nan
        for n, s in parts.items()
    }
    report = FitsnapReport(
        errors, errors_force, choice.epsilon, choice.bound, forces.relative_error, forces.ratio, mismatch, dtype
    )
    problems = []
    if mismatch > 1e-8:
        problems.append(
            f"snapcheck's LAMMPS descriptors differ from FitSNAP's by {mismatch:.1e}: settings or frame differ"
        )
    forces_problem = describe_forces(forces, 1e-5 if dtype == torch.float64 else 1e-3)
    if forces_problem is not None:
        problems.append(
            "FitSNAP's predicted forces: "
            + forces_problem.replace("forces_fn returns", "FitSNAP's forces are").replace(
                "forces_fn", "FitSNAP's forces"
            )
        )
    if np.linalg.norm(test_force) < 1e-6 * np.linalg.norm(choice.gradient):
        problems.append(
            "zero force-loss gradient: FitSNAP's parameters receive only the energy term's gradient; the predicted "
            "forces carry no graph to the parameters (dE/dD taken with create_graph=False, or detached)"
        )
    elif not problems and max(errors.values()) > rtol:
        worst = max(v for v in errors_force.values() if v == v)
        problems.append(
            "FitSNAP's force-loss gradient: "
            + describe_gradient(test_force, choice.gradient, worst, rtol, dtype, int(offsets[-1]), len(counts))
        )
    if problems:
        raise AssertionError("snapcheck/FitSNAP: " + "\n  ".join(problems) + "\n" + str(report))
    return report


# -- planted bugs (in copies of FitSNAP's force code; the installed files are untouched) -----------------
def plant_sign_flip(fitsnap) -> None:
    """FitSNAP's forward with the forces' sign flipped (forces = +dÊ/dr)."""
    model = fitsnap.solver.model
    forward = model.forward

    def flipped(*args, **kwargs):
        energies, forces = forward(*args, **kwargs)
        return energies, -forces

    model.forward = flipped


def plant_no_create_graph(fitsnap) -> None:
    """FitSNAP's force code with dE/dD taken without create_graph: the forces are detached from θ.

    With FitSNAP's own retain_graph default this crashes its backward ("backward through the graph a
    second time"), a loud failure; with retain_graph=True, as a user "fixing" that error writes, it is silent.
    """
    import fitsnap3lib.lib.neural_networks.pytorch as module

    real_torch = module.torch

    class Autograd:
        @staticmethod
        def grad(*args, create_graph=False, retain_graph=None, **kwargs):
            return real_torch.autograd.grad(*args, create_graph=False, retain_graph=True, **kwargs)

    class TorchProxy:
        autograd = Autograd

        def __getattr__(self, name):
            return getattr(real_torch, name)

    module.torch = TorchProxy()
    fitsnap._snapcheck_restore = lambda: setattr(module, "torch", real_torch)
