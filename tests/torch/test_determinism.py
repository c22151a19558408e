"""Building a model leaves the host's torch as it was: its weights depend on the seed alone, its random
stream and thread count are untouched (snapcheck.torch.determinism)."""

from __future__ import annotations

import importlib
import importlib.util

import pytest
import torch

from snapcheck.torch.determinism import one_thread, seeded
from snapcheck.torch.potential import RadialPotential

# what e3nn (TorchScript, torch.load) and TorchANI (its CUDA extensions) say on import, none about snapcheck
pytestmark = [
    pytest.mark.filterwarnings(r"ignore:`torch\.jit\.\w+` is deprecated:DeprecationWarning"),
    pytest.mark.filterwarnings("ignore:The TorchScript type system doesn't support:UserWarning"),
    pytest.mark.filterwarnings("ignore:Environment variable TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD:UserWarning"),
    pytest.mark.filterwarnings("ignore:The extensions.*are not installed:UserWarning"),
]

#: snapcheck's model builders: (module that must be installed, builder's module, builder).
BUILDERS = (
    (None, "snapcheck.torch.potential", "RadialPotential"),
    ("hippynn", "snapcheck.torch.hippynn", "build"),
    ("torchani", "snapcheck.torch.torchani", "ta_model"),
    ("mace", "snapcheck.torch.mace", "ta_model"),
)


@pytest.mark.parametrize(("needs", "module", "builder"), BUILDERS, ids=[b[1].rsplit(".", 1)[-1] for b in BUILDERS])
def test_building_a_model_leaves_the_global_random_stream_alone(needs, module, builder):
    if needs is not None and importlib.util.find_spec(needs) is None:
        pytest.fail(f"{needs} is not installed: pip install 'snapcheck[trainers]'")
    build = getattr(importlib.import_module(module), builder)
    torch.manual_seed(1234)
    expected = torch.rand(3)  # what the host's stream gives next when nothing else draws from it
    torch.manual_seed(1234)
    first, second = build(seed=3), build(seed=3)
    assert torch.equal(torch.rand(3), expected)
    assert all(torch.equal(a, b) for a, b in zip(first.state_dict().values(), second.state_dict().values()))


def test_the_weights_are_those_of_the_seed():
    torch.manual_seed(5)  # the draws torch.manual_seed gave before: seeded weights did not change
    expected = torch.nn.Linear(8, 16).to(torch.float64).weight.detach()
    assert torch.equal(RadialPotential(seed=5).net[0].weight.detach(), expected)
    assert not torch.equal(RadialPotential(seed=6).net[0].weight.detach(), expected)


def test_seeded_restores_the_stream_and_one_thread_the_thread_count():
    state, threads = torch.get_rng_state(), torch.get_num_threads()
    torch.set_num_threads(2)  # the tests run on one thread: start from another count
    try:
        with seeded(0):
            torch.rand(10)
        with pytest.raises(RuntimeError), one_thread():
            assert torch.get_num_threads() == 1
            raise RuntimeError("the thread count comes back after an error too")
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(threads)
    assert torch.equal(torch.get_rng_state(), state)
