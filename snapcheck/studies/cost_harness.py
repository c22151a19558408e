"""The cost benchmark's measuring instruments: interleaved median wall times and the peak memory of one call.

**Time.**  :func:`median_times` calls every function once to warm up, then
``repeats`` rounds of one call each, interleaved, so that a load from other
processes on a shared machine falls on all of them alike; each time is the
median, in s.

**Peak memory** is what a call allocates beyond its inputs, at its peak:
for numpy, :mod:`tracemalloc` (numpy reports every array buffer to it),
traced from zero after the inputs exist (:func:`numpy_peak_bytes`); for torch,
whose CPU allocator tracemalloc does not see, the allocator's own events from
``torch.profiler.profile(profile_memory=True)``: every allocation and free, in
time order, summed, and the maximum of the running sum taken
(:func:`torch_peak_bytes`; the tests check both trackers on buffers of known
size).
"""

from __future__ import annotations

import importlib.util
import time
import tracemalloc
from collections.abc import Callable

import numpy as np


def torch_available() -> bool:
    return importlib.util.find_spec("torch") is not None


def median_times(functions: dict[str, Callable[[], object]], repeats: int) -> dict[str, float]:
    """The median wall time of each function over ``repeats`` calls after one warm-up call, in s.

    The calls are interleaved (one of each function per round), so that a
    load from other processes on a shared machine falls on all of them alike.
    """
    for function in functions.values():
        function()
    times: dict[str, list[float]] = {name: [] for name in functions}
    for _ in range(repeats):
        for name, function in functions.items():
            start = time.perf_counter()
            function()
            times[name].append(time.perf_counter() - start)
    return {name: float(np.median(values)) for name, values in times.items()}


def numpy_peak_bytes(function: Callable[[], object]) -> tuple[int, object]:
    """(bytes allocated by ``function`` beyond what existed before, at the peak, by tracemalloc; its result)."""
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        result = function()
        return tracemalloc.get_traced_memory()[1] - base, result
    finally:
        tracemalloc.stop()


def torch_peak_bytes(function: Callable[[], object]) -> tuple[int, object]:
    """(the peak of the running sum of torch's CPU allocations and frees during ``function``, bytes; its result)."""
    from torch.profiler import ProfilerActivity, profile

    with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as profiler:
        result = function()
    events = sorted(
        (event.start_ns(), event.nbytes())
        for event in profiler.profiler.kineto_results.events()
        if event.name() == "[memory]"
    )
    running = np.cumsum([nbytes for _, nbytes in events]) if events else np.zeros(1)
    return int(max(0, running.max())), result
