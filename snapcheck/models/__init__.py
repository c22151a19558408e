"""Energy models Ê_θ(r): the linear SNAP oracle."""

from snapcheck.models.linear_snap import LinearSnap

__all__ = ["LinearSnap"]
