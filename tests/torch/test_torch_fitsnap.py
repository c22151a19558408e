"""FitSNAP 3.1.0.4's PyTorch force training, checked against the paper's Eq. 7 with LAMMPS energies (no mocks)."""

from __future__ import annotations

import math

import pytest
import torch

from snapcheck.torch import fitsnap as fa
from snapcheck.torch import fitsnap_run


# -- planted bugs, in copies of FitSNAP's force code (the installed files are untouched) -----------------------
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

    module.torch = fitsnap_run._Proxy(real_torch, autograd=Autograd)
    fitsnap._snapcheck_restore = lambda: setattr(module, "torch", real_torch)


@pytest.fixture(scope="module")
def batch(fitsnap):
    return fitsnap_run.run_one_batch()  # FCC_1 (48 atoms) + GSF_110 (24 atoms), one batch, FitSNAP's own backward


def test_fitsnap_gradient_agrees(batch):
    report = fa.check_fitsnap_gradient(batch)
    print(report)
    assert report.precision == "float32" and report.reference_precision == "float64"  # FitSNAP trains in float32
    assert report.measurements["descriptor_mismatch"] < 1e-12  # SnapEngine's per-atom Bᵢ = FitSNAP's bikflag rows
    assert set(report.relative_errors) == {n for n, _ in batch.model.named_parameters()}
    assert max(report.relative_errors.values()) < 1e-5  # float32 trainer against the float64 reference
    assert max(v for v in report.estimate_errors.values() if not math.isnan(v)) < 1e-5  # the force term alone
    assert math.isnan(report.estimate_errors["network_architecture0.5.bias"])  # energy only
    assert report.energy_only == ["network_architecture0.5.bias"]
    assert report.measurements["forces_directional_error"] < 1e-5 and report.error_bound < 1e-5


def test_workarounds_stay_inside_fitsnap(batch):
    from fitsnap3lib.io.sections import sections
    from fitsnap3lib.scrapers import scrape
    from fitsnap3lib.solvers import pytorch as solver_module

    assert torch.optim.lr_scheduler.ReduceLROnPlateau.__module__ == "torch.optim.lr_scheduler"
    assert solver_module.torch is torch and scrape.shuffle.__module__ == "random"
    assert sections.strtobool("True") is True  # setuptools ≥ 76: a bool again after the run


def test_sign_flip_is_named(fitsnap):
    with pytest.raises(AssertionError, match=r"FitSNAP's force code has a sign error \(factor −1\) against −∂Ê/∂r"):
        fa.check_fitsnap_gradient(fitsnap_run.run_one_batch(plant=plant_sign_flip))


def test_forces_without_create_graph_are_named(fitsnap):
    with pytest.raises(AssertionError, match=r"zero force-loss gradient: .*create_graph=False"):
        fa.check_fitsnap_gradient(fitsnap_run.run_one_batch(plant=plant_no_create_graph))
