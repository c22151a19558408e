"""Which loss a command checks: the paper's force loss, or a trainer's loss over energy, forces and stress.

The paper's loss is L = ½ Σᵢ |f̂ᵢ − fᵢ|² (Eq. 2), in eV²/Å², with no weights.  A training loss is FitSNAP's,
L = ½ Σ_rows w²(Aθ − b)², over the energy, force and stress rows that ``terms`` names, with each group's weights
``eweight fweight vweight`` and the ESHIFT of a FitSNAP input (the dataset's own, or ``--fit-input``).  Its
gradient is the generalised Eq. 7 of docs/theory.md: the energy term is first order and exact, the force and
stress terms one strained central difference.

``--loss`` names the terms (``energy,forces,stress``, ``all`` for the three) or ``dataset``: the dataset's own
training loss, every term its input weighs and its configurations hold (energy, forces and stress for the Ta
and InP data), or the paper's force loss when the data comes without a FitSNAP input.

A loss is the paper's exactly when no FitSNAP input weighs it (``fit_input`` None, the fact
:attr:`snapcheck.studies.sweep.SweepSpec.paper` also reads): ``--loss forces`` is the paper's loss, while the
training loss of an input that weighs force rows alone is FitSNAP's weighted force term, L dimensionless and
∇θL in 1/eV, labelled ``forces`` in file names (``fig1_forces.csv``), never written under the paper's names.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from snapcheck.base.errors import InputError
from snapcheck.data.configuration import Configuration
from snapcheck.data.fitsnap_input import LOSS_TERMS, FitInput, read_fitsnap_input
from snapcheck.data.locations import resolve_dataset
from snapcheck.runtime.flag_types import DATASET_LOSS
from snapcheck.studies.sweep import PAPER_LOSS

#: Which FitSNAP row type (``[CALCULATOR]``) each term of the loss is.
ROW_TYPES = {"energy": "energy", "forces": "force", "stress": "stress"}


def weighed_terms(fit_input: FitInput) -> tuple[str, ...]:
    """The terms of the loss whose rows the FitSNAP input fits (its ``[CALCULATOR]``), in the order of LOSS_TERMS."""
    return tuple(term for term in LOSS_TERMS if ROW_TYPES[term] in fit_input.row_types)


@dataclass(frozen=True)
class LossChoice:
    """The terms of the loss and the FitSNAP input that weighs them (None for the paper's force loss)."""

    terms: tuple[str, ...]
    fit_input: FitInput | None

    def __post_init__(self) -> None:
        assert self.fit_input is not None or self.terms == PAPER_LOSS, "a training loss needs a FitSNAP input"

    @property
    def paper(self) -> bool:
        """True for the paper's force loss (Eq. 2): no FitSNAP input weighs it (as
        :attr:`snapcheck.studies.sweep.SweepSpec.paper`)."""
        return self.fit_input is None

    @property
    def label(self) -> str:
        """The name of the loss in file names: empty for the paper's loss, ``all`` for every term, else the terms
        joined by ``-`` (``forces`` for the weighted force term alone)."""
        if self.paper:
            return ""
        return "all" if self.terms == LOSS_TERMS else "-".join(self.terms)

    def describe(self) -> str:
        if self.paper:
            return "the paper's force loss ½Σ|f̂ − f|² (Eq. 2)"
        assert self.fit_input is not None
        return f"the training loss over {', '.join(self.terms)} with the weights of {self.fit_input.path.name}"


def choose_loss(
    loss: tuple[str, ...] | str,
    *,
    data: str | Path | None,
    fit_input: Path | None,
    configurations: Sequence[Configuration],
) -> LossChoice:
    """The loss ``--loss`` names, with its weights: from ``fit_input`` if given, else from the dataset's input."""
    if loss == PAPER_LOSS:
        return LossChoice(PAPER_LOSS, None)
    if fit_input is not None:
        weights = read_fitsnap_input(fit_input)
    elif loss == DATASET_LOSS:
        dataset = resolve_dataset(data)
        if dataset.fit_input is None:
            return LossChoice(PAPER_LOSS, None)
        weights = dataset.read_fit_input()
    else:
        weights = resolve_dataset(data).read_fit_input()
    with_stress = [c for c in configurations if c.stress is not None]
    if loss == DATASET_LOSS:
        terms = weighed_terms(weights)
        if len(with_stress) < len(configurations):
            terms = tuple(term for term in terms if term != "stress")
        return LossChoice(terms or PAPER_LOSS, weights if terms else None)
    assert isinstance(loss, tuple)
    if "stress" in loss:
        without = [c for c in configurations if c.stress is None]
        if without:
            raise InputError(
                f"{without[0].source or data}: configuration {without[0].name!r}: no Stress, which --loss "
                f"{','.join(loss)} needs ({len(without)} of {len(configurations)} configurations have none); "
                "leave stress out of --loss"
            )
    return LossChoice(loss, weights)
