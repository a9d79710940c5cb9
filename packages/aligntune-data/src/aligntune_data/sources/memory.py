"""In-memory data: a list of dicts or a ``datasets.Dataset``, registered under ``memory:NAME``."""

from __future__ import annotations

import hashlib
import json
import threading
from typing import Any

from ..errors import DataError
from .base import SplitSource
from .rows import rows_to_dataset

PREFIX = "memory:"
_LOCK = threading.Lock()
_DATA: dict[str, Any] = {}


def is_in_memory(obj: Any) -> bool:
    """Whether ``obj`` is in-memory data (a ``datasets.Dataset``/``DatasetDict`` or a list of dicts)."""
    if isinstance(obj, list):
        return bool(obj) and all(isinstance(row, dict) for row in obj)
    return type(obj).__name__ in ("Dataset", "DatasetDict") and hasattr(obj, "column_names")


def fingerprint(data: Any) -> str:
    """A content hash of in-memory data (the Dataset's own fingerprint when it has one)."""
    if hasattr(data, "_fingerprint"):
        return str(data._fingerprint)
    if hasattr(data, "column_names") and hasattr(data, "keys"):  # DatasetDict
        return hashlib.blake2b("".join(fingerprint(data[k]) for k in sorted(data)).encode(), digest_size=16).hexdigest()
    text = json.dumps(data, sort_keys=True, default=repr, ensure_ascii=False)
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


def register_in_memory(name: str, data: Any) -> str:
    """Make ``data`` loadable as ``memory:NAME``; returns that dataset name."""
    key = name.removeprefix(PREFIX)
    if not key:
        raise DataError("an in-memory dataset needs a non-empty name")
    if not is_in_memory(data):
        raise DataError(f"in-memory dataset {key!r}: expected a non-empty list of dicts or a datasets.Dataset, "
                        f"got {type(data).__name__}")
    with _LOCK:
        _DATA[key] = data
    return PREFIX + key


class InMemorySource(SplitSource):
    """Rows registered with :func:`register_in_memory` (``name`` = ``memory:NAME``)."""

    name = "memory"

    def can_load(self, config: Any) -> bool:
        return config.name.startswith(PREFIX)

    def _data(self, config: Any) -> Any:
        key = config.name[len(PREFIX):]
        with _LOCK:
            if key not in _DATA:
                known = ", ".join(sorted(_DATA)) or "none"
                raise DataError(f"dataset {config.name!r}: no in-memory dataset {key!r} is registered "
                                f"(known: {known}); use aligntune_data.register_in_memory")
            return _DATA[key]

    def load_split(self, config: Any, split: str, seed: int = 47) -> Any:
        data = self._data(config)
        if isinstance(data, list):
            return rows_to_dataset(data, f"in-memory dataset {config.name!r}")
        if hasattr(data, "keys") and not hasattr(data, "features"):  # DatasetDict
            if split not in data:
                raise DataError(f"dataset {config.name!r} has no split {split!r} (splits: {', '.join(data)})")
            return data[split]
        return data

    def identity(self, config: Any, split: str, seed: int = 47) -> dict[str, Any]:
        return {"source": self.name, "content": fingerprint(self._data(config))}


MEMORY_SOURCE = InMemorySource()
