"""Loss and batching bugs of the field: every derivative is right, the trainer minimises another loss.

Only a comparison of the trainer's own step with the loss it was meant to minimise sees these, so each
case hands snapcheck its ``trainer_step`` (``loss_under_test``) and the specified loss as ``loss_fn``.
The batches mix configurations of different sizes, as real batches do.
"""

from __future__ import annotations

import warnings

import torch

from snapcheck.torch.zoo.potentials import EAM, Pair, TinyMPNN, energy_fn, strain_derivative, stress_fn
from snapcheck.torch.zoo.registry import STRESS_SET, Case, Entry, configurations, force_stress_loss, predictions

MIXED_TA = (("ta", "GSF_110", 0), ("ta", "GSF_112", 0), ("ta", "Displaced_FCC", 0))  # N = 24, 30, 48
MIXED_INP = (("inp-jpca2020", "s_aIn", 0), ("inp-jpca2020", "s_vv", 0), ("inp-jpca2020", "Shear", 0))  # 64, 62, 8


def fairchem_343(buggy: bool, dtype) -> Case:
    """fairchem's atomwise L2 loss multiplied each atom's force-error norm by its structure's N and averaged
    over all atoms of the batch: structure c weighs N_c/N̄, not 1 as in the per-structure loss
    (1/M) Σ_c Σ_i |f̂_i − f_i| written down in the thread (the maintainers kept it as a design choice)."""
    batch = configurations(*MIXED_TA)
    m, n_batch = len(batch), sum(len(a) for a in batch)

    def loss(predicted, reference, atoms):  # the per-structure specification
        return (predicted - reference).norm(dim=-1).sum() / m

    def trainer_loss(case, model, configurations):
        total = 0
        for atoms in configurations:
            predicted, reference = predictions(case, model, atoms)
            distances = (predicted["forces"] - reference["forces"]).norm(dim=-1)
            total = total + ((len(atoms) if buggy else n_batch / m) * distances).sum()
        return total / n_batch

    return Case(Pair(dtype), batch, loss_fn=loss, trainer_loss=trainer_loss, loss_under_test=True)


def deepmd_kit_5738(buggy: bool, dtype) -> Case:
    """DeePMD-kit padded the short frames of a mixed_type batch with ghost atoms and took the force MSE over
    the padded array: each frame's force term was divided by N_pad, not by its own N."""
    batch = configurations(*MIXED_INP)
    m = len(batch)

    def loss(predicted, reference, atoms):  # per frame, the mean over its own 3N components; then over frames
        return ((predicted - reference) ** 2).sum() / (3 * len(atoms) * m)

    def trainer_loss(case, model, configurations):
        n_pad = max(len(a) for a in configurations)
        errors, masks = [], []
        for atoms in configurations:
            predicted, reference = predictions(case, model, atoms)
            ghosts = n_pad - len(atoms)  # ghost atoms: zero error, mask 0
            errors.append(torch.nn.functional.pad(predicted["forces"] - reference["forces"], (0, 0, 0, ghosts)))
            masks.append(torch.nn.functional.pad(torch.ones(len(atoms), dtype=errors[-1].dtype), (0, ghosts)))
        squared, mask = (torch.stack(errors) ** 2).sum(-1), torch.stack(masks)
        if buggy:  # the pooled mean over the padded frames
            return squared.sum() / (3 * n_pad * len(configurations))
        return ((squared * mask).sum(1) / (3 * mask.sum(1))).mean()

    model = TinyMPNN(species=(49, 15), dtype=dtype)
    return Case(model, batch, loss_fn=loss, trainer_loss=trainer_loss, loss_under_test=True)


WEIGHTS = {"energy": 1.0, "forces": 10.0, "stress": 1000.0}  # 1/eV², Å²/eV², Å⁶/eV²


def mace_437(buggy: bool, dtype) -> Case:
    """MACE's weighted stress MSE squared (σ̂ − σ)/N: the stress, intensive, was divided by the number of
    atoms, so each configuration's stress error weighed 1/N² in the energy + forces + stress loss."""
    batch = configurations(*STRESS_SET)
    m, n_batch = len(batch), sum(len(a) for a in batch)

    def loss(predicted, reference, atoms):  # WeightedEnergyForcesStressLoss as specified
        n = len(atoms)
        return (
            WEIGHTS["energy"] * ((predicted["energy"] - reference["energy"]) / n) ** 2 / m
            + WEIGHTS["forces"] * ((predicted["forces"] - reference["forces"]) ** 2).sum() / (3 * n_batch)
            + WEIGHTS["stress"] * ((predicted["stress"] - reference["stress"]) ** 2).sum() / (9 * m)
        )

    def trainer_loss(case, model, configurations):
        total = 0
        for atoms in configurations:
            predicted, reference = predictions(case, model, atoms)
            if buggy:
                predicted["stress"] = predicted["stress"] / len(atoms)
                reference["stress"] = reference["stress"] / len(atoms)
            total = total + loss(predicted, reference, atoms)
        return total

    return Case(
        TinyMPNN(dtype=dtype),
        batch,
        stress_fn=stress_fn,
        loss_fn=loss,
        terms=("energy", "forces", "stress"),
        trainer_loss=trainer_loss,
        loss_under_test=True,
    )


def batched_stress(model, batch, positions, cells, buggy: bool) -> list[torch.Tensor]:
    """σ̂_c = W_c/V_c for a batch, the volumes V_c = a·(b × c) computed for the whole batch at once.
    ``torch.cross`` without ``dim`` crosses along the first axis of size 3: the batch axis of a batch of 3."""
    stacked = torch.stack(cells)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # torch's deprecation warning, which went unread
        cross = torch.cross(stacked[:, 1], stacked[:, 2]) if buggy else torch.linalg.cross(stacked[:, 1], stacked[:, 2])
    volumes = (stacked[:, 0] * cross).sum(-1).abs()
    derivatives = [
        strain_derivative(lambda r, h, a=a: energy_fn(model, a, r, h), r, h) for a, r, h in zip(batch, positions, cells)
    ]
    return [w / v for w, v in zip(derivatives, volumes)]


def schnetpack_216(buggy: bool, dtype) -> Case:
    """SchNetPack's stress divided the virial by volumes from ``torch.cross(cell[:, 1], cell[:, 2])`` without
    ``dim``: wrong only in batches of exactly three structures, where the batch axis has size 3."""
    batch = configurations(*STRESS_SET)

    def stress(model, atoms, positions, cell):  # the trainer's stress code on a batch of one
        return batched_stress(model, [atoms], [positions], [cell], buggy)[0]

    def trainer_loss(case, model, configurations):
        dtype = next(model.parameters()).dtype
        positions = [torch.tensor(a.get_positions(), dtype=dtype, requires_grad=True) for a in configurations]
        cells = [torch.tensor(a.cell.array, dtype=dtype) for a in configurations]
        stresses = batched_stress(model, configurations, positions, cells, buggy)
        total = 0
        for atoms, r, sigma in zip(configurations, positions, stresses):
            predicted = {"forces": case.forces_fn(model, atoms, r), "stress": sigma}
            reference = {
                "forces": torch.tensor(atoms.get_forces(), dtype=dtype),
                "stress": torch.tensor(atoms.get_stress(voigt=False), dtype=dtype),
            }
            total = total + force_stress_loss(predicted, reference, atoms)
        return total

    return Case(
        EAM(dtype),
        batch,
        stress_fn=stress,
        loss_fn=force_stress_loss,
        terms=("forces", "stress"),
        trainer_loss=trainer_loss,
        loss_under_test=True,
    )


ENTRIES = (
    Entry(
        "fairchem-343",
        "https://github.com/facebookresearch/fairchem/pull/343",
        "Atomwise L2 loss: per-atom against per-structure weighting in batches of mixed sizes",
        "loss-normalisation",
        "loss code",
        "Pair",
        fairchem_343,
        r"the gradient has a factor [^:]*N per configuration",
        related=("https://github.com/facebookresearch/fairchem/pull/896",),
    ),
    Entry(
        "deepmd-kit-5738",
        "https://github.com/deepmodeling/deepmd-kit/pull/5738",
        "exclude mixed_type padding atoms from the training loss",
        "loss-normalisation",
        "batching",
        "TinyMPNN",
        deepmd_kit_5738,
        r"the gradient has a factor [^:]*N per configuration",
        related=("https://github.com/deepmodeling/deepmd-kit/issues/5760",),
    ),
    Entry(
        "mace-437",
        "https://github.com/ACEsuit/mace/issues/437",
        "Stress / num_atoms in loss?",
        "stress-per-atom",
        "loss code",
        "TinyMPNN",
        mace_437,
        r"N² per configuration|stress divided by the number of atoms",
        quantities=("stress",),
        related=("https://github.com/ACEsuit/mace/pull/438", "https://github.com/ACEsuit/mace/pull/443"),
    ),
    Entry(
        "schnetpack-216",
        "https://github.com/atomistic-machine-learning/schnetpack/pull/216",
        "Fixed volume computation in stress tensor (torch.cross without dim, batches of three)",
        "stress-volume",
        "batching",
        "EAM",
        schnetpack_216,
        r"volume",
        quantities=("stress",),
        related=("https://github.com/atomistic-machine-learning/schnetpack/issues/165",),
    ),
)
