"""Model loading for AlignTune: embedded models, local folders and GGUF files, Hub ids; precision,
quantization, gradient checkpointing and LoRA from one :class:`~aligntune_config.model.ModelConfig`.

Importing this package imports neither torch nor transformers; they are imported when a model is
built or loaded. Importing it registers the ``embedded`` and ``gguf`` model sources in
``aligntune_config.registry.MODEL_SOURCES``.
"""

from __future__ import annotations

from .cache import CACHE_ENV, cache_dir
from .embedded import EMBEDDED_MODELS, TINY_PARAMETERS, resolve_embedded, smollm2_gguf_path
from .errors import ModelLoadError
from .gguf import resolve_gguf
from .loader import load_model_and_tokenizer, load_tokenizer
from .lora import default_target_modules, linear_module_names
from .precision import DeviceInfo, probe_device, resolve_precision
from .resolve import ModelLocation, locate_model
from .sources import (
    EMBEDDED_SOURCE,
    GGUF_SOURCE,
    EmbeddedModelSource,
    GGUFModelSource,
    register_model_sources,
)

register_model_sources()

__all__ = [
    "CACHE_ENV",
    "EMBEDDED_MODELS",
    "EMBEDDED_SOURCE",
    "GGUF_SOURCE",
    "TINY_PARAMETERS",
    "DeviceInfo",
    "EmbeddedModelSource",
    "GGUFModelSource",
    "ModelLoadError",
    "ModelLocation",
    "cache_dir",
    "default_target_modules",
    "linear_module_names",
    "load_model_and_tokenizer",
    "load_tokenizer",
    "locate_model",
    "probe_device",
    "register_model_sources",
    "resolve_embedded",
    "resolve_gguf",
    "resolve_precision",
    "smollm2_gguf_path",
]
