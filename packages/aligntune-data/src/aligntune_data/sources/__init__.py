"""Dataset sources: where raw rows come from. Tried in order: memory, built-in, local files, the Hub."""

from __future__ import annotations

from typing import Any

from .builtin import BUILTIN_SOURCE, BuiltinSource
from .files import LOCAL_SOURCE, LocalFileSource
from .hub import HUB_SOURCE, HubSource
from .memory import MEMORY_SOURCE, InMemorySource, register_in_memory

DEFAULT_ORDER = ("memory", "builtin", "local", "hub")


def find_source(config: Any) -> Any:
    """The source that loads ``config``: a registered third-party source that claims it, else the
    first built-in one of memory, builtin, local, hub."""
    from aligntune_config.registry import DATASET_SOURCES

    builtin = {s.name: s for s in (MEMORY_SOURCE, BUILTIN_SOURCE, LOCAL_SOURCE, HUB_SOURCE)}
    for name in DATASET_SOURCES.names():
        if name in builtin:
            continue
        source = DATASET_SOURCES.get(name)
        if source.can_load(config):
            return source
    for name in DEFAULT_ORDER:
        if builtin[name].can_load(config):
            return builtin[name]
    return HUB_SOURCE


__all__ = [
    "BUILTIN_SOURCE",
    "HUB_SOURCE",
    "LOCAL_SOURCE",
    "MEMORY_SOURCE",
    "BuiltinSource",
    "HubSource",
    "InMemorySource",
    "LocalFileSource",
    "find_source",
    "register_in_memory",
]
