"""Runs that repeat and leave the host's torch as they found it: a private seed, one intra-op thread.

A model built by snapcheck (the Ta :class:`~snapcheck.torch.potential.RadialPotential`, the MACE,
TorchANI and hippynn adapters, FitSNAP's network) draws its initial weights inside :func:`seeded`, so
its weights depend on the seed alone and the caller's torch random stream is untouched.  The studies
that time or compare small models run inside :func:`one_thread` (one intra-op thread is fastest for
them, and their sums are then reduced in one order), and the caller's thread count comes back after.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch


@contextlib.contextmanager
def seeded(seed: int) -> Iterator[None]:
    """Inside the block, torch's CPU generator starts from ``seed``; after it, the generator is back where it was.

    The same draws as ``torch.manual_seed(seed)`` on the CPU (so seeded weights are unchanged), without
    reseeding the host's global random stream or any CUDA generator.
    """
    with torch.random.fork_rng(devices=[]):
        torch.default_generator.manual_seed(seed)
        yield


@contextlib.contextmanager
def one_thread() -> Iterator[None]:
    """Inside the block, torch uses one intra-op thread; after it, the caller's thread count again."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)
