"""Checkpoints of a training run: everything needed to continue it exactly, written atomically.

A :class:`Checkpoint` holds θ, Adam's moments and step, the epoch, the
generator state, the loss history and the training wall time so far, keyed by
:func:`run_key` (a digest of the spec, the seed, the member and the training
configurations).  A run that finds a checkpoint with its own key resumes from
it and continues exactly as if it had not stopped; one with another key starts
over.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from snapcheck.base.files import atomic_path
from snapcheck.data.configuration import Configuration
from snapcheck.studies.adam import AdamState


@dataclass(frozen=True)
class Checkpoint:
    """Everything needed to continue a run exactly: θ, Adam, the epoch, the generator, the losses.

    It also holds the training wall time so far (s).
    """

    key: str
    theta: np.ndarray
    adam: AdamState
    epoch: int
    rng_state: dict
    history: np.ndarray
    seconds: float

    def save(self, path: Path) -> None:
        with atomic_path(path) as temporary, open(temporary, "wb") as handle:
            np.savez(
                handle,
                key=self.key,
                theta=self.theta,
                first=self.adam.first,
                second=self.adam.second,
                step=self.adam.step,
                epoch=self.epoch,
                rng_state=json.dumps(self.rng_state),
                history=self.history,
                seconds=self.seconds,
            )

    @classmethod
    def load(cls, path: Path, key: str) -> Checkpoint | None:
        """The checkpoint at ``path`` if it exists and belongs to ``key``, else None."""
        if not path.is_file():
            return None
        with np.load(path) as stored:
            if str(stored["key"]) != key:
                return None
            return cls(
                key=key,
                theta=stored["theta"],
                adam=AdamState(stored["first"], stored["second"], int(stored["step"])),
                epoch=int(stored["epoch"]),
                rng_state=json.loads(str(stored["rng_state"])),
                history=stored["history"],
                seconds=float(stored["seconds"]),
            )


def run_key(spec, seed: int, member: int, training: Sequence[Configuration]) -> str:
    """A digest of all that determines a run: spec (a dataclass), seed, member and the training configurations."""
    text = json.dumps(
        {"spec": asdict(spec), "seed": seed, "member": member, "train": [c.label for c in training]}, sort_keys=True
    )
    return hashlib.sha256(text.encode()).hexdigest()
