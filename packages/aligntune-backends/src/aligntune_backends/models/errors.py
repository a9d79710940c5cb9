"""Errors of model loading. Each names the config field it is about, the value, and what would work."""

from __future__ import annotations


class ModelLoadError(ValueError):
    """A model config that cannot be loaded here. ``field`` is the config path (``model.name_or_path``)."""

    def __init__(self, field: str, message: str):
        self.field = field
        super().__init__(f"{field}: {message}")
