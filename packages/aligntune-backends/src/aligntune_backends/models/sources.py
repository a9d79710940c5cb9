""":class:`~aligntune_config.interfaces.ModelSource` implementations, registered in ``MODEL_SOURCES``.

- ``embedded``: ``embedded:<name>`` -> the cached folder of an embedded model.
- ``gguf``: a local ``*.gguf`` file -> the cached folder of its conversion.

Both are registered in code by :func:`register_model_sources` (called when
``aligntune_backends.models`` is imported) and can be declared as entry points of the
``aligntune.model_sources`` group pointing at :data:`EMBEDDED_SOURCE` / :data:`GGUF_SOURCE`.
"""

from __future__ import annotations

import logging
from pathlib import Path

from .embedded import EMBEDDED_MODELS, SCHEME, embedded_name, resolve_embedded
from .gguf import resolve_gguf

logger = logging.getLogger("aligntune.models.sources")


class EmbeddedModelSource:
    """Resolves ``embedded:smollm2-135m-instruct`` and ``embedded:tiny-random`` to local folders."""

    scheme = "embedded"
    description = "models shipped with AlignTune's dependencies: " + ", ".join(SCHEME + n for n in EMBEDDED_MODELS)

    def can_resolve(self, name_or_path: str) -> bool:
        return embedded_name(name_or_path) is not None

    def resolve(self, name_or_path: str) -> str:
        return str(resolve_embedded(name_or_path))

    def __repr__(self) -> str:
        return "EmbeddedModelSource()"


class GGUFModelSource:
    """Resolves a local ``.gguf`` file to a cached folder holding its conversion."""

    scheme = "gguf"
    description = "local GGUF files, converted once by transformers and cached"

    def can_resolve(self, name_or_path: str) -> bool:
        return name_or_path.lower().endswith(".gguf") and Path(name_or_path).expanduser().is_file()

    def resolve(self, name_or_path: str) -> str:
        return str(resolve_gguf(name_or_path))

    def __repr__(self) -> str:
        return "GGUFModelSource()"


EMBEDDED_SOURCE = EmbeddedModelSource()
GGUF_SOURCE = GGUFModelSource()


def register_model_sources() -> None:
    """Register the sources in ``aligntune_config.registry.MODEL_SOURCES`` (idempotent; an entry point
    that already provides a name is kept)."""
    from aligntune_config.registry import MODEL_SOURCES

    for source in (EMBEDDED_SOURCE, GGUF_SOURCE):
        try:
            MODEL_SOURCES.register(source.scheme, source)
        except ValueError:  # already provided (by our own entry point, or registered before)
            logger.debug("model source %r already registered; keeping it", source.scheme)
