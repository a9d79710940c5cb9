"""Choosing rows: split slicing (``train[:10%]``, ``train[10:20]``), ``percent``, ``max_samples``,
shuffling with the data seed, and mixing several datasets by weight.

Order for one dataset: the split's slice, then ``percent`` (of what the slice left), then
``max_samples``, then (``shuffle=True``) a permutation seeded by ``data_seed``.

Mixing rule (several datasets): with sizes ``n_i`` and weights ``w_i`` (``W = sum w_i``), dataset ``i``
contributes ``floor(T * w_i / W)`` rows, where ``T = min_i(n_i * W / w_i)`` is the largest total for
which no dataset is asked for more rows than it has. Rows are taken without replacement (a seeded
random subset when the dataset shuffles, else its first rows), and the mix is shuffled with
``data_seed`` unless every dataset has ``shuffle=False`` (then datasets follow each other in order).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from .errors import DataError

_SPLIT_RE = re.compile(r"^\s*([A-Za-z0-9_\-.]+)\s*(?:\[\s*([^\[\]]*)\s*\])?\s*$")
_BOUND_RE = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s*(%?)\s*$")


@dataclass(frozen=True)
class SplitPart:
    """One part of a split expression: a split name and an optional ``[start:stop]`` slice."""

    name: str
    start: tuple[float, bool] | None = None  # (value, is_percent)
    stop: tuple[float, bool] | None = None
    sliced: bool = False

    def indices(self, n: int) -> range:
        """The row indices of this slice in a split of ``n`` rows."""
        if not self.sliced:
            return range(n)
        return range(*slice(_bound(self.start, n), _bound(self.stop, n)).indices(n))


def _bound(bound: tuple[float, bool] | None, n: int) -> int | None:
    if bound is None:
        return None
    value, percent = bound
    return round(value * n / 100) if percent else int(value)


def _parse_bound(text: str, split: str) -> tuple[float, bool] | None:
    if not text.strip():
        return None
    match = _BOUND_RE.match(text)
    if not match:
        raise DataError(f"split {split!r}: slice bound {text.strip()!r} is not an integer or a percentage like 10%")
    value, percent = float(match.group(1)), bool(match.group(2))
    if not percent and not value.is_integer():
        raise DataError(f"split {split!r}: row bound {text.strip()!r} must be an integer (or use a percentage)")
    if percent and not -100 <= value <= 100:
        raise DataError(f"split {split!r}: percentage {text.strip()!r} must be within [-100%, 100%]")
    return value, percent


def parse_split(split: str) -> list[SplitPart]:
    """Parse ``train``, ``train[:10%]``, ``train[10:20]``, ``train+validation[:50]``."""
    parts = []
    for piece in str(split).split("+"):
        match = _SPLIT_RE.match(piece)
        if not match:
            raise DataError(f"split {split!r} is malformed; expected NAME or NAME[start:stop] (e.g. train[:10%]), "
                            "parts joined by '+'")
        name, inner = match.group(1), match.group(2)
        if inner is None:
            parts.append(SplitPart(name))
            continue
        if inner.count(":") != 1:
            raise DataError(f"split {split!r}: the slice [{inner}] must be [start:stop] (one ':')")
        start, stop = inner.split(":")
        parts.append(SplitPart(name, _parse_bound(start, split), _parse_bound(stop, split), sliced=True))
    return parts


def select_rows(dataset: Any, *, percent: float | None, max_samples: int | None, shuffle: bool, seed: int) -> Any:
    """Apply ``percent``, ``max_samples`` and the seeded shuffle to a ``datasets.Dataset``."""
    import numpy as np

    n = len(dataset)
    keep = n
    if percent is not None:
        keep = max(1, round(n * percent / 100)) if n else 0
    if max_samples is not None:
        keep = min(keep, max_samples)
    indices = np.arange(keep)
    if shuffle:
        indices = np.random.default_rng(seed).permutation(keep)
    if keep == n and not shuffle:
        return dataset
    return dataset.select(indices.tolist(), new_fingerprint=cheap_fingerprint(dataset, "select", keep, shuffle, seed))


def cheap_fingerprint(dataset: Any, *parts: Any) -> str:
    """A fingerprint for a row selection, derived from the dataset's own one (hashing a long index list
    with ``datasets``' default fingerprinting is slow)."""
    import hashlib

    text = "/".join([str(getattr(dataset, "_fingerprint", id(dataset)))] + [str(p) for p in parts])
    return hashlib.blake2b(text.encode(), digest_size=8).hexdigest()


def mix_counts(sizes: list[int], weights: list[float]) -> list[int]:
    """Rows taken from each dataset under the mixing rule (see the module docstring)."""
    if len(sizes) != len(weights):
        raise ValueError("sizes and weights differ in length")
    if len(sizes) == 1:
        return list(sizes)
    total_weight = float(sum(weights))
    total = min(n * total_weight / w for n, w in zip(sizes, weights))
    # a tiny epsilon keeps exact products (e.g. 300 * 1/3 * 3) from flooring one short
    return [min(n, math.floor(total * w / total_weight + 1e-9)) for n, w in zip(sizes, weights)]


def take(dataset: Any, count: int, *, shuffle: bool, seed: int) -> Any:
    """``count`` rows of ``dataset`` without replacement: a seeded random subset, or the first rows."""
    import numpy as np

    if count >= len(dataset):
        return dataset
    if shuffle:
        chosen = np.sort(np.random.default_rng(seed).choice(len(dataset), size=count, replace=False))
        return dataset.select(chosen.tolist(), new_fingerprint=cheap_fingerprint(dataset, "take", count, seed))
    return dataset.select(range(count))
