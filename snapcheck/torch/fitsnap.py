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
same energies along seeded random directions (:func:`snapcheck.gradients.forces_check.directional_check`).

FitSNAP itself is run by :mod:`snapcheck.torch.fitsnap_run`, whose docstring lists the workarounds it needs on
current torch and Python.
"""

from __future__ import annotations

import copy

import numpy as np
import torch

from snapcheck.data.configuration import Configuration
from snapcheck.descriptors.cache import EngineCache
from snapcheck.gradients.backend import Term
from snapcheck.gradients.checks import CheckFailure, GradientReport, default_rtol, per_tensor
from snapcheck.gradients.diagnosis import describe_gradient
from snapcheck.gradients.forces_check import compare_forces, describe_forces, directional_check
from snapcheck.gradients.paper import Evaluation, LossPath
from snapcheck.gradients.reference import Reference
from snapcheck.torch.backend import flat
from snapcheck.torch.determinism import one_thread
from snapcheck.torch.fitsnap_run import FitsnapBatch, snap_parameters


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
    settings = snap_parameters(batch.fitsnap)
    # one thread: ~1 ms per backward pass of this small network; 2 threads beside LAMMPS: ~200 ms
    with one_thread(), EngineCache(settings) as cache:
        backend = FitsnapBackend(batch, cache)
        ours = np.concatenate([cache.per_atom_values(c).descriptors for c in batch.configurations])
        per_atom = np.abs(ours - batch.descriptors).max(axis=1)
        mismatch = float(per_atom.max() / np.abs(batch.descriptors).max())
        starts = np.cumsum([0] + [c.n_atoms for c in batch.configurations])
        worst_configuration = batch.configurations[int(np.searchsorted(starts, np.argmax(per_atom), side="right")) - 1]
        reference = Reference(backend, batch.configurations)
        choice = reference.choose()
        check = directional_check(
            ((lambda r, c=t.configuration: backend.energy(c, r), t.path.positions, t.forces) for t in reference.terms),
            directions,
            1e-4,
            seed,
        )
        energy_term = backend.energy_term()
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
            f"snapcheck's LAMMPS descriptors differ from FitSNAP's by {mismatch:.1e} (relative to the largest Bᵢ), "
            f"most on {worst_configuration.label}: compare FitSNAP's [BISPECTRUM] rcutfac, twojmax, radelem, wj, "
            "rfac0, rmin0, switchflag, bzeroflag, quadraticflag, chemflag, bnormflag and wselfallflag with what "
            f"snapcheck read from them ({settings}), and that configuration's positions and lattice in FitSNAP's "
            "JSON with snapcheck's"
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
