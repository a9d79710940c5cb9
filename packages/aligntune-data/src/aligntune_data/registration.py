"""Registering this package's sources, schema adapters and built-in datasets in the aligntune_config
registries, in code (the same objects the package's entry points name)."""

from __future__ import annotations

import logging
from typing import Any

logger = logging.getLogger("aligntune.data")


# The entry points of aligntune-data (group -> name -> object path); pyproject.toml declares the same.
ENTRY_POINTS: dict[str, dict[str, str]] = {
    "aligntune.dataset_sources": {
        "memory": "aligntune_data.sources.memory:MEMORY_SOURCE",
        "builtin": "aligntune_data.sources.builtin:BUILTIN_SOURCE",
        "local": "aligntune_data.sources.files:LOCAL_SOURCE",
        "hub": "aligntune_data.sources.hub:HUB_SOURCE",
    },
    "aligntune.schema_adapters": {
        name: f"aligntune_data.adapters:{const}" for name, const in (
            ("humaneval", "HUMANEVAL"), ("mbpp", "MBPP"), ("gsm8k", "GSM8K"), ("ultrafeedback", "ULTRAFEEDBACK"),
            ("preference", "PREFERENCE"), ("hh-rlhf", "HH_RLHF"), ("alpaca", "ALPACA"), ("dolly", "DOLLY"),
            ("sharegpt", "SHAREGPT"), ("chat", "CHAT"), ("prompt_completion", "PROMPT_COMPLETION"),
            ("classification", "CLASSIFICATION"), ("prompt", "PROMPT"), ("text", "TEXT"))
    },
    "aligntune.datasets": {
        "arithmetic": "aligntune_data.generators.arithmetic:arithmetic",
        "arithmetic-preferences": "aligntune_data.generators.arithmetic:arithmetic_preferences",
        "instructions": "aligntune_data.generators.instructions:instructions",
    },
}


def entry_points_toml() -> str:
    """The ``[project.entry-points...]`` tables of :data:`ENTRY_POINTS`, as pyproject.toml text."""
    lines = []
    for group, entries in ENTRY_POINTS.items():
        lines.append(f'[project.entry-points."{group}"]')
        lines.extend(f'"{name}" = "{target}"' for name, target in entries.items())
        lines.append("")
    return "\n".join(lines)


def _register(registry: Any, name: str, obj: Any) -> None:
    """Register ``obj`` unless user code already registered something else under ``name``."""
    try:
        registry.register(name, obj)
    except ValueError:
        entry = getattr(registry, "_entries", {}).get(registry._normalize(name))
        if entry is not None and entry.source == "code":
            logger.debug("%s %r is already registered in code; keeping it", registry.kind, name)
            return
        registry.register(name, obj, replace=True)  # our own entry point, not yet loaded: same object


def register_all() -> None:
    """Put every source, adapter and built-in dataset of aligntune-data in the registries."""
    from aligntune_config.registry import BUILTIN_DATASETS, DATASET_SOURCES, SCHEMA_ADAPTERS

    from .adapters import BUILTIN_ADAPTERS
    from .generators import BUILTINS
    from .sources import BUILTIN_SOURCE, HUB_SOURCE, LOCAL_SOURCE, MEMORY_SOURCE

    for source in (MEMORY_SOURCE, BUILTIN_SOURCE, LOCAL_SOURCE, HUB_SOURCE):
        _register(DATASET_SOURCES, source.name, source)
    for name, adapter in BUILTIN_ADAPTERS.items():
        _register(SCHEMA_ADAPTERS, name, adapter)
    for name, generator in BUILTINS.items():
        _register(BUILTIN_DATASETS, name, generator)
