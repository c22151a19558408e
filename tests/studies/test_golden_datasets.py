"""``oracle export``, ``oracle compare`` and ``fig2`` on the InP, quadratic-Ta and extxyz-Ta datasets (small
stratified subsets): the oracle file holds the model's exact A_fᵀg, compare passes the reference against itself and
fails a copy perturbed by 1e-5, and Fig. 2's sweep reaches the exact gradient."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from snapcheck import fig2, oracle
from snapcheck.data import load_configurations
from snapcheck.descriptors.engine import SnapEngine
from snapcheck.models.registry import ModelRequest, load_model

#: Configurations per dataset (stratified: the first of the first groups) and what the model is.
SUBSETS = {"inp-jpca2020": 3, "ta-quadratic-jcp2018": 4, "ta-xyz": 4}
PARAMETERS = {"inp-jpca2020": 2 * 241, "ta-quadratic-jcp2018": 1 + 55 + 55 * 56 // 2, "ta-xyz": 31}


@pytest.fixture(scope="module", params=list(SUBSETS))
def exported(request, shared_datasets, tmp_path_factory):
    """(dataset name, its trained model, the reference file ``oracle export`` wrote for its subset)."""
    name = request.param
    out = tmp_path_factory.mktemp(name)
    arguments = ["--data", name, "--configs", str(SUBSETS[name]), "--jobs", "1", "--out-dir", str(out)]
    assert oracle.main(["export", *arguments, "--out", str(out / "reference.npz")]) == 0
    return name, load_model("trained", ModelRequest(data=name)).model, out / "reference.npz"


def test_the_oracle_file_holds_the_models_exact_gradient(exported):
    name, model, path = exported
    reference = dict(np.load(path, allow_pickle=False))
    configurations = load_configurations(name, count=SUBSETS[name])
    assert reference["names"].tolist() == [c.label for c in configurations]
    assert reference["theta"].shape == (PARAMETERS[name],)
    np.testing.assert_array_equal(reference["theta"], model.theta)
    offsets = reference["atom_offsets"]
    n_elements = len(model.parameters.elements)
    for k, configuration in enumerate(configurations):
        with SnapEngine(configuration, model.parameters, model.reference) as engine:
            exact = model.force_loss_from(configuration, engine.evaluate())
        gradient = reference["gradient"][k]
        # the model's own A_fᵀg, and the same product from the file's arrays alone (β₀ columns are zero)
        np.testing.assert_allclose(gradient, exact.gradient, rtol=0, atol=1e-12 * np.abs(exact.gradient).max())
        atoms = slice(offsets[k], offsets[k + 1])
        product = np.einsum("iak,ia->k", reference["force_rows"][atoms], reference["force_errors"][atoms])
        per_element = gradient.reshape(n_elements, -1)
        np.testing.assert_allclose(per_element[:, 1:].ravel(), product, rtol=1e-12, atol=1e-12 * np.abs(product).max())
        assert not per_element[:, 0].any()
        assert reference["loss"][k] == pytest.approx(exact.loss, rel=1e-12, abs=1e-30)
    assert np.linalg.norm(reference["gradient"]) > 1.0  # not a subset of perfect crystals


def test_compare_passes_the_reference_and_fails_a_perturbed_copy(exported, tmp_path, capsys):
    _, _, path = exported
    force_loss = ["--loss", "forces", "--out-dir", str(tmp_path)]  # the file's own loss and gradient: the force loss
    assert oracle.main(["compare", str(path), str(path), *force_loss]) == 0
    assert capsys.readouterr().out.splitlines()[-1].startswith("PASS: Err[∇θL] = 0 and Err[L] = 0 both ≤ 1e-06")
    reference = np.load(path, allow_pickle=False)
    gradient = reference["gradient"].copy()
    largest = np.argmax(np.linalg.norm(gradient, axis=1))
    gradient[largest] *= 1 + 1e-5
    candidate = tmp_path / "candidate.npz"
    np.savez(candidate, names=reference["names"], loss=reference["loss"], gradient=gradient)
    assert oracle.main(["compare", str(path), str(candidate), *force_loss]) == 1
    assert capsys.readouterr().out.splitlines()[-1].startswith("FAIL: Err[∇θL] = ")
    table = pd.read_csv(tmp_path / "reports" / "oracle_compare.csv")
    assert 1e-6 < table.loc[table["level"] == "all", "gradient_error"].item() <= 1e-5


def test_fig2_reaches_the_exact_gradient(exported, tmp_path, capsys):
    """Fig. 2 (fixed g₀ = 1 eV/Å) on the same subset: each model's best ε agrees with A_fᵀg; |∇θL| is the oracle's.

    The untrained quadratic model's forces are ~1e5 times the trained one's, so its best ε is orders of
    magnitude smaller (the paper's Appendix A)."""
    name, _, path = exported
    arguments = ["--data", name, "--configs", str(SUBSETS[name]), "--epsilons", "1e-10,1e-8,1e-6,1e-4"]
    assert fig2.main([*arguments, "--jobs", "1", "--out-dir", str(tmp_path)]) == 0
    assert f"{name}'s stored FitSNAP fit" in capsys.readouterr().out
    table = pd.read_csv(tmp_path / "reports" / "fig2.csv")
    assert set(table["model"]) == {"trained", "untrained"} and set(table["n_configurations"]) == {SUBSETS[name]}
    assert table.groupby("model")["err_grad"].min().max() < 1e-6
    best = table.loc[table.groupby("model")["err_grad"].idxmin()].set_index("model")["epsilon"]
    if name == "ta-quadratic-jcp2018":
        assert best["untrained"] <= 1e-4 * best["trained"]
    trained = table[table["model"] == "trained"]
    oracle_norm = np.linalg.norm(np.load(path, allow_pickle=False)["gradient"])
    assert trained["grad_norm"].iloc[0] == pytest.approx(oracle_norm, rel=1e-12)
