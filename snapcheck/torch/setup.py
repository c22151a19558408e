"""What every torch check starts from: the configurations as ase.Atoms, the model's backend, and the backend the
reference runs on (a float64 copy of a low-precision model whenever ``energy_fn`` follows the dtype it is given).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from snapcheck.gradients.checks import default_rtol
from snapcheck.torch.backend import TorchPotential, as_atoms_list

ENERGY_IGNORES_POSITIONS = (
    "energy_fn does not depend on the positions tensor snapcheck passes: Ê has no gradient with respect to it in "
    "any configuration. "
    "Build Ê from the `positions` argument (not from atoms.positions, a graph or neighbour data built "
    "beforehand, a detached copy, a numpy round trip, or under torch.no_grad())"
)


@dataclass(frozen=True)
class Setup:
    """What every torch check starts from: the configurations as ase.Atoms, the model's backend, the backend
    the reference runs on (a float64 copy when ``energy_fn`` allows one), ``rtol`` and the warnings so far."""

    atoms: list
    potential: TorchPotential
    checked: TorchPotential
    rtol: float
    warnings: list[str]

    @property
    def n_atoms(self) -> list[int]:
        return [len(a) for a in self.atoms]

    def energy_ignores_positions(self) -> bool:
        return not any(self.checked.depends_on_positions(atoms) for atoms in self.atoms)


def setup(model, energy_fn: Callable, configurations, rtol: float | None, **potential_options) -> Setup:
    """:class:`Setup` for a check; a warning when the reference cannot run in float64."""
    atoms_list = as_atoms_list(configurations)
    potential = TorchPotential(model, energy_fn, **potential_options)
    warnings: list[str] = []
    checked = potential.float64(atoms_list[0])
    if checked is None:
        warnings.append(
            f"the reference runs in {potential.precision}: energy_fn does not follow the dtype of the model and "
            "positions (it builds tensors in a fixed dtype), so errors below single-precision round-off (~1e-3) "
            "are invisible; create tensors with positions.dtype to get a float64 reference"
        )
        checked = potential
    rtol = default_rtol(potential.precision) if rtol is None else rtol
    return Setup(atoms_list, potential, checked, rtol, warnings)
