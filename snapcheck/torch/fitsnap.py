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

(Eq. 7, ε by the proxy through :class:`snapcheck.gradients.reference.Reference`, FitSNAP's batch
being a backend of its own, :class:`FitsnapBackend`), plus the energy term of FitSNAP's loss, which
is first order and computed exactly.  FitSNAP's forces are checked by central differences of the
same energies along seeded random directions (:func:`snapcheck.gradients.checks.directional_check`).

Workarounds, all confined to FitSNAP's own modules inside :func:`fitsnap_compatibility` and undone
afterwards (no installed file is edited, no other module sees them):

1. ``sections.strtobool`` returns an int (:func:`snapcheck.studies.fitsnap_crosscheck`'s patch):
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
from snapcheck.gradients.backend import Term
from snapcheck.gradients.checks import (
    CheckFailure,
    GradientReport,
    compare_forces,
    default_rtol,
    describe_forces,
    directional_check,
    per_tensor,
)
from snapcheck.gradients.diagnosis import describe_gradient
from snapcheck.gradients.paper import Evaluation, LossPath
from snapcheck.gradients.reference import Reference
from snapcheck.studies.fitsnap_crosscheck import require_fitsnap, settings_as_integers
from snapcheck.torch.backend import flat


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


class FitsnapBackend:
    """FitSNAP's batch as a backend of the paper's estimate (:mod:`snapcheck.gradients.backend`).

    Ê_c(r) = Σᵢ net(Bᵢ(r)) with Bᵢ from :class:`~snapcheck.descriptors.cache.EngineCache` at any
    positions, and ∇θÊ by one backward pass through a float64 copy of FitSNAP's network.  The loss
    direction is FitSNAP's force term fw·mean((f̂ − f)²): g = 2·fw·(f̂ − f)/(3 N_batch), with f̂
    FitSNAP's own predicted forces.
    """

    precision = "float64"
    paper_loss = False

    def __init__(self, batch: FitsnapBatch, cache: EngineCache):
        self.batch, self.cache = batch, cache
        model = copy.deepcopy(batch.model).double()  # the float64 reference; FitSNAP's float32 .grad is under test
        self.network = model.network_architecture0
        self.params = list(model.named_parameters())
        bounds = np.cumsum([0] + [p.numel() for _, p in self.params])
        self.parameter_slices = {n: slice(int(a), int(b)) for (n, _), a, b in zip(self.params, bounds, bounds[1:])}
        counts = [c.n_atoms for c in batch.configurations]
        self.offsets = np.cumsum([0] + counts)
        self.g = 2.0 * batch.force_weight * (batch.forces - batch.target_forces) / (3 * self.offsets[-1])

    def term(self, configuration: Configuration) -> Term:
        index = next(k for k, c in enumerate(self.batch.configurations) if c is configuration)
        a, b = self.offsets[index], self.offsets[index + 1]
        forces, g = self.batch.forces[a:b], self.g[a:b]
        errors = forces - self.batch.target_forces[a:b]
        loss = self.batch.force_weight * float(np.sum(errors**2)) / (3 * self.offsets[-1])
        return Term(configuration, LossPath(configuration.positions, g), forces, loss, float(np.sum(g * forces)))

    def energy(self, configuration: Configuration, positions: np.ndarray) -> float:
        with torch.no_grad():
            return float(
                self.network(torch.tensor(self.cache.per_atom_values(configuration, positions).descriptors)).sum()
            )

    def evaluate(self, configuration: Configuration, positions: np.ndarray, cell) -> Evaluation:
        b = torch.tensor(self.cache.per_atom_values(configuration, positions).descriptors)
        energy = self.network(b).sum()
        return Evaluation(
            float(energy.detach()), flat(torch.autograd.grad(energy, [p for _, p in self.params]), self.params)
        )

    def exact(self, term: Term) -> None:
        return None

    def energy_term(self) -> np.ndarray:
        """∇θ of FitSNAP's energy term ew·mean_c((Σᵢ net(B_ic))/N_c − y_c)², exact and first order."""
        per_atom = self.network(torch.tensor(self.batch.descriptors)).squeeze(-1)
        bounds = zip(self.offsets[:-1], self.offsets[1:])
        e_per_atom = torch.stack([per_atom[a:b].sum() / (b - a) for a, b in bounds])
        loss = self.batch.energy_weight * ((e_per_atom - torch.tensor(self.batch.target_energies)) ** 2).mean()
        return flat(torch.autograd.grad(loss, [p for _, p in self.params], allow_unused=True), self.params)


def check_fitsnap_gradient(batch: FitsnapBatch, *, rtol: float | None = None, directions: int = 4, seed: int = 0):
    """FitSNAP's captured ∇θL against its energy term (exact) + force term (Eq. 7 on LAMMPS energies).

    Raises :class:`~snapcheck.gradients.checks.CheckFailure` naming the bug; returns the report, whose
    ``estimate_errors`` hold the force term's own relative errors (NaN for energy-only tensors).
    """
    __tracebackhide__ = True
    dtype = next(batch.model.parameters()).dtype
    precision = str(dtype).removeprefix("torch.")
    rtol = default_rtol(precision) if rtol is None else rtol
    cache = EngineCache(snap_parameters(batch.fitsnap))
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # ~1 ms per backward pass of this small network; 2 threads beside LAMMPS: ~200 ms
    try:
        backend = FitsnapBackend(batch, cache)
        ours = np.concatenate([cache.per_atom_values(c).descriptors for c in batch.configurations])
        mismatch = float(np.abs(ours - batch.descriptors).max() / np.abs(batch.descriptors).max())
        reference = Reference(backend, batch.configurations)
        choice = reference.choose()
        check = directional_check(
            ((lambda r, c=t.configuration: backend.energy(c, r), t.path.positions, t.forces) for t in reference.terms),
            directions,
            1e-4,
            seed,
        )
        energy_term = backend.energy_term()
    finally:
        cache.close()
        torch.set_num_threads(threads)
    forces = compare_forces(check.projections, check.differences)
    force_term = choice.estimate.gradients.sum(axis=0)
    test = flat([batch.grads[n] for n, _ in backend.params], backend.params)
    parts = backend.parameter_slices
    report = GradientReport.from_choice(
        choice,
        relative_errors=per_tensor(test, force_term + energy_term, parts),
        compared_with=f"FitSNAP's energy term (exact) + force term (Eq. 7 on LAMMPS energies, {backend.precision})",
        rtol=rtol,
        tolerance=rtol,
        precision=precision,
        reference_precision="float64",
        loss=reference.loss,
        n_atoms=reference.n_atoms,
        estimate_errors={
            n: per_tensor((test - energy_term)[s], force_term[s], {n: slice(None)})[n]
            if np.any(force_term[s])
            else np.nan
            for n, s in parts.items()
        },
    )
    report.energy_only = [n for n, s in parts.items() if not np.any(force_term[s])]
    report.measurements = {
        "descriptor_mismatch": mismatch,  # snapcheck's LAMMPS Bᵢ against FitSNAP's, relative
        "forces_directional_error": forces.relative_error,  # FitSNAP's forces against central differences
        "forces_ratio": float(np.mean(forces.scales)),
    }
    if mismatch > 1e-8:
        report.problems.append(
            f"snapcheck's LAMMPS descriptors differ from FitSNAP's by {mismatch:.1e}: settings or frame differ"
        )
    forces_problem = describe_forces(
        forces, 1e-5 if dtype == torch.float64 else 1e-3, reference.n_atoms, "FitSNAP's force code"
    )
    if forces_problem is not None:
        report.problems.append(forces_problem)
    if np.linalg.norm(test - energy_term) < 1e-6 * np.linalg.norm(force_term):
        report.problems.append(
            "zero force-loss gradient: FitSNAP's parameters receive only the energy term's gradient; the predicted "
            "forces carry no graph to the parameters (dE/dD taken with create_graph=False, or detached)"
        )
    elif not report.problems and report.worst > rtol:
        worst = max(v for v in report.estimate_errors.values() if v == v)
        report.problems.append(
            "FitSNAP's force-loss gradient: "
            + describe_gradient(
                test - energy_term,
                choice.estimate.gradients,
                reference.n_atoms,
                worst=worst,
                rtol=rtol,
                low_precision=dtype != torch.float64,
            )
        )
    if report.problems:
        raise CheckFailure(report)
    return report
