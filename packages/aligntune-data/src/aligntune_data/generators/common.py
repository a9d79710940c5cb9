"""Helpers shared by the built-in generators."""

from __future__ import annotations

import random

from ..errors import DataError

SPLIT_SIZES = {"train": 2000, "test": 200, "validation": 200}
_SPLIT_STREAM = {"train": 0, "test": 1, "validation": 1}


def rng_for(name: str, split: str, seed: int) -> random.Random:
    """A random generator for split ``split`` of built-in ``name``; :class:`DataError` for unknown splits."""
    if split not in SPLIT_SIZES:
        raise DataError(f"built-in dataset {name!r} has no split {split!r} (splits: train, test, validation)")
    return random.Random(f"{name}/{_SPLIT_STREAM[split]}/{int(seed)}")
