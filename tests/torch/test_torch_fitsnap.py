"""FitSNAP 3.1.0.4's PyTorch force training, checked against the paper's Eq. 7 with LAMMPS energies (no mocks)."""

from __future__ import annotations

import math

import pytest
import torch

from snapcheck.torch import fitsnap as fa


@pytest.fixture(scope="module")
def batch(fitsnap):
    return fa.run_one_batch()  # FCC_1 (48 atoms) + GSF_110 (24 atoms), one batch, FitSNAP's own backward


def test_fitsnap_gradient_agrees(batch):
    report = fa.check_fitsnap_gradient(batch)
    print(report)
    assert report.dtype == torch.float32  # FitSNAP's training dtype
    assert report.descriptor_mismatch < 1e-12  # SnapEngine's per-atom Bᵢ = FitSNAP's compute snap bikflag rows
    assert set(report.relative_errors) == {n for n, _ in batch.model.named_parameters()}
    assert max(report.relative_errors.values()) < 1e-5  # float32 trainer against the float64 reference
    assert max(v for v in report.force_term_relative_errors.values() if not math.isnan(v)) < 1e-5
    assert math.isnan(report.force_term_relative_errors["network_architecture0.5.bias"])  # energy only
    assert report.forces_directional_error < 1e-5 and report.error_bound < 1e-5


def test_workarounds_are_undone(batch):
    from fitsnap3lib.io.sections import sections
    from fitsnap3lib.scrapers import scrape

    assert torch.optim.lr_scheduler.ReduceLROnPlateau.__module__ == "torch.optim.lr_scheduler"
    assert sections.strtobool("True") is True  # setuptools ≥ 76: a bool again after the run
    assert scrape.shuffle.__module__ == "random"


def test_sign_flip_is_named(fitsnap):
    with pytest.raises(AssertionError, match=r"sign error: FitSNAP's forces are \+∂Ê/∂r"):
        fa.check_fitsnap_gradient(fa.run_one_batch(plant=fa.plant_sign_flip))


def test_forces_without_create_graph_are_named(fitsnap):
    with pytest.raises(AssertionError, match=r"zero force-loss gradient: .*create_graph=False"):
        fa.check_fitsnap_gradient(fa.run_one_batch(plant=fa.plant_no_create_graph))
