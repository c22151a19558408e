"""A trainer's own test of its force training, as a user of ``snapcheck[torch]`` writes it.

The model is a Morse pair potential in PyTorch, φ(r) = D (e^{−2a(r−r₀)} − 2 e^{−a(r−r₀)}) f_c(r)
with f_c(r) = (1 − (r/r_c)²)³, θ = (D eV, a 1/Å, r₀ Å); the data are rattled bcc Ta cells whose
reference energy and forces come from ASE's Lennard-Jones calculator.  Nothing of snapcheck is
imported: the ``force_training_check`` fixture comes from its pytest plugin, through the entry point.
"""

import numpy as np
import pytest

torch = pytest.importorskip("torch")
from ase.build import bulk  # noqa: E402
from ase.calculators.lj import LennardJones  # noqa: E402
from ase.calculators.singlepoint import SinglePointCalculator  # noqa: E402
from ase.neighborlist import neighbor_list  # noqa: E402

CUTOFF = 4.5  # Å
SKIN = 0.5  # Å: snapcheck displaces atoms by far less, so the pair list stays complete


class MorsePair(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.depth = torch.nn.Parameter(torch.tensor(0.4, dtype=torch.float64))
        self.stiffness = torch.nn.Parameter(torch.tensor(1.4, dtype=torch.float64))
        self.r0 = torch.nn.Parameter(torch.tensor(2.9, dtype=torch.float64))

    def forward(self, positions, i, j, shift):
        r = torch.linalg.norm(positions[j] - positions[i] + shift, dim=1)
        inside = r < CUTOFF
        cutoff = torch.where(inside, (1 - (r / CUTOFF) ** 2) ** 3, torch.zeros_like(r))
        decay = torch.exp(-self.stiffness * (r - self.r0))
        return 0.5 * (self.depth * (decay**2 - 2 * decay) * cutoff).sum()


def pairs(atoms):
    """(i, j, image shift in Å) within CUTOFF + SKIN at the atoms' own positions."""
    i, j, images = neighbor_list("ijS", atoms, CUTOFF + SKIN)
    shift = torch.tensor(images @ np.asarray(atoms.cell), dtype=torch.float64)
    return torch.tensor(i), torch.tensor(j), shift


def energy_fn(model, atoms, positions):
    return model(positions, *pairs(atoms))


def forces_fn(model, atoms, positions):
    return -torch.autograd.grad(energy_fn(model, atoms, positions), positions, create_graph=True)[0]


def forces_without_graph(model, atoms, positions):
    """The classic bug: forces taken without create_graph, so the force loss has no θ-gradient."""
    return -torch.autograd.grad(energy_fn(model, atoms, positions), positions)[0]


def configurations(count=2):
    """Rattled 16-atom bcc Ta cells with Lennard-Jones energies and forces attached."""
    result = []
    for seed in range(count):
        atoms = bulk("Ta", "bcc", a=3.31, cubic=True).repeat(2)
        atoms.rattle(stdev=0.05, seed=seed)
        atoms.calc = LennardJones(sigma=2.6, epsilon=0.3, rc=CUTOFF, smooth=True)
        energy, forces = atoms.get_potential_energy(), atoms.get_forces()
        atoms.calc = SinglePointCalculator(atoms, energy=energy, forces=forces)
        result.append(atoms)
    return result


def test_force_training(force_training_check):
    force_training_check(MorsePair(), energy_fn, configurations(), forces_fn=forces_fn)


def test_force_training_catches_forces_without_create_graph(force_training_check):
    with pytest.raises(AssertionError, match="create_graph"):
        force_training_check(MorsePair(), energy_fn, configurations(), forces_fn=forces_without_graph)
