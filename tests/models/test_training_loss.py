"""FitSNAP's whole training loss of linear SNAP (energy, force and stress rows, the dataset's own weights) and its
exact gradient ``LinearSnap.training_loss_from``: against central differences in θ (the loss is quadratic in θ),
against FitSNAP's rows ½ Σ w² (Aθ − b)², and its ∂L/∂Ê, ∂L/∂f̂ and ∂L/∂P̂ against differences in the predictions."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from snapcheck.data import load_configurations
from snapcheck.data.datasets import resolve_dataset
from snapcheck.data.fitsnap_input import GroupWeights
from snapcheck.data.units import voigt_from_tensor
from snapcheck.descriptors import SnapEngine
from snapcheck.models.linear_fit import configuration_rows, training_loss
from snapcheck.models.registry import ModelRequest, load_model

#: Dataset → groups of the configurations checked: Ta's displaced crystals and liquid, InP's sheared cells (rotated
#: into LAMMPS's frame, where FitSNAP's Voigt stress rows live) and strained ones; every term is non-zero in each.
GROUPS = {"ta-jcp2014": {"Displaced_BCC", "Liquid"}, "inp-jpca2020": {"Shear", "Strain", "s_vIn"}}


@pytest.fixture(scope="module", params=list(GROUPS))
def case(request, shared_datasets):
    """(trained model, FitSNAP input, [(configuration, its descriptors)]) for one dataset."""
    name = request.param
    model = load_model("trained", ModelRequest(data=name)).model
    fit_input = resolve_dataset(name).read_fit_input()
    evaluated = []
    for configuration in load_configurations(name, count=3, groups=GROUPS[name]):
        with SnapEngine(configuration, model.parameters, model.reference) as engine:
            evaluated.append((configuration, engine.evaluate()))
    return model, fit_input, evaluated


TERMS = ("energy", "force", "stress")


def test_each_terms_gradient_matches_a_central_difference_in_theta(case):
    """L is quadratic in θ, so the central difference is exact up to round-off; each term is compared on its own
    (their sizes differ by orders of magnitude under the dataset's weights), one norm over every θ component
    of every configuration (Eq. 11's error)."""
    model, fit_input, evaluated = case
    theta, step = model.theta, 1e-3
    exact = {term: [] for term in TERMS}
    difference = {term: [] for term in TERMS}
    for configuration, descriptors in evaluated:
        result = training_loss(model, configuration, descriptors, fit_input)
        assert result.loss == pytest.approx(result.energy_loss + result.force_loss + result.stress_loss, rel=1e-15)
        np.testing.assert_allclose(
            result.gradient,
            result.energy_loss_gradient + result.force_loss_gradient + result.stress_loss_gradient,
            rtol=0,
            atol=1e-15 * np.abs(result.gradient).max(),
        )
        for term in TERMS:
            exact[term].append(getattr(result, f"{term}_loss_gradient"))
        for shift in np.eye(len(theta)) * step:
            plus = training_loss(model.with_theta(theta + shift), configuration, descriptors, fit_input)
            minus = training_loss(model.with_theta(theta - shift), configuration, descriptors, fit_input)
            for term in TERMS:
                difference[term].append((getattr(plus, f"{term}_loss") - getattr(minus, f"{term}_loss")) / (2 * step))
    for term in TERMS:
        mine, theirs = np.array(exact[term]).ravel(), np.array(difference[term])
        error = np.linalg.norm(theirs - mine) / np.linalg.norm(mine)
        assert error < 1e-8, f"{term}: relative error {error:.2e}"


def test_the_loss_is_fitsnaps_row_loss_and_the_gradient_its_normal_equations(case):
    """L = ½ Σ w² (aθ − b)² over the configuration's rows (checked against FitSNAP's own rows elsewhere) and
    ∇θL = Aᵀ W² (Aθ − b); the energy, force and stress terms are the three row types."""
    model, fit_input, evaluated = case
    for configuration, descriptors in evaluated:
        rows = configuration_rows(configuration, descriptors, fit_input)
        result = training_loss(model, configuration, descriptors, fit_input)
        for term, row_type in zip(TERMS, ("Energy", "Force", "Stress")):
            mine = (rows.index["row_type"] == row_type).to_numpy()
            weighted = rows.weights[mine] * (rows.matrix[mine] @ model.theta - rows.truth[mine])
            assert getattr(result, f"{term}_loss") == pytest.approx(0.5 * weighted @ weighted, rel=1e-10)
            gradient = rows.matrix[mine].T @ (rows.weights[mine] * weighted)
            np.testing.assert_allclose(
                getattr(result, f"{term}_loss_gradient"), gradient, rtol=0, atol=1e-10 * np.abs(gradient).max()
            )


def test_the_derivatives_by_the_predictions_match_central_differences(case):
    """∂L/∂Ê, ∂L/∂f̂ and ∂L/∂P̂ (the directions of the generalised Eq. 7): shifting the reference potential's
    energy, forces or pressure shifts Ê, f̂ or P̂ by exactly that amount."""
    model, fit_input, evaluated = case
    configuration, descriptors = evaluated[-1]
    result = training_loss(model, configuration, descriptors, fit_input)
    rng = np.random.default_rng(0)

    def loss_along(field: str, delta) -> float:
        """(L(+δ) − L(−δ)) / 2 for a shift δ of one reference term."""
        shifted = [
            training_loss(
                model,
                configuration,
                replace(descriptors, **{field: getattr(descriptors, field) + sign * delta}),
                fit_input,
            ).loss
            for sign in (1.0, -1.0)
        ]
        return (shifted[0] - shifted[1]) / 2

    energy_step = 1e-3 * configuration.n_atoms  # eV
    assert loss_along("reference_energy", energy_step) == pytest.approx(result.loss_by_energy * energy_step, rel=1e-7)
    force_step = 1e-4 * rng.normal(size=configuration.forces.shape)  # eV/Å
    assert loss_along("reference_forces", force_step) == pytest.approx(
        np.sum(result.loss_by_forces * force_step), rel=1e-7
    )
    pressure_step = rng.normal(size=(3, 3))  # bar, symmetric
    pressure_step = pressure_step + pressure_step.T
    assert loss_along("reference_stress", voigt_from_tensor(pressure_step)) == pytest.approx(
        np.sum(result.loss_by_pressure * pressure_step), rel=1e-7
    )
    np.testing.assert_array_equal(result.loss_by_pressure, result.loss_by_pressure.T)


def test_forces_alone_with_unit_weight_are_the_force_loss(case):
    model, _, evaluated = case
    for configuration, descriptors in evaluated:
        result = model.training_loss_from(configuration, descriptors, GroupWeights(energy=0.0, force=1.0, virial=0.0))
        force = model.force_loss_from(configuration, descriptors)
        assert result.loss == pytest.approx(force.loss, rel=1e-14)
        np.testing.assert_allclose(result.gradient, force.gradient, rtol=1e-13, atol=0)
        assert result.stress_loss == result.energy_loss == 0.0
