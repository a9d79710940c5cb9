"""GGUF files converted once to ordinary (safetensors) model folders.

transformers reads GGUF files (with the ``gguf`` package) through ``from_pretrained(folder,
gguf_file=name)`` and dequantises the weights. That takes ~20 s for a 135M-parameter model, so the result
is saved with ``save_pretrained`` into the model cache and loaded from there afterwards.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import logging
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .cache import get_or_build

logger = logging.getLogger("aligntune.models.gguf")
_PATCH_LOCK = threading.Lock()


def gguf_cache_key(gguf_path: Path) -> str:
    """A cache key for a local GGUF file: its name plus a hash of its real path, size and mtime, so a
    changed file is converted again."""
    real = gguf_path.resolve()
    stat = real.stat()
    digest = hashlib.sha256(f"{real}|{stat.st_size}|{stat.st_mtime_ns}".encode()).hexdigest()[:16]
    return f"gguf-{real.stem}-{digest}"


@contextlib.contextmanager
def _parse_gguf_once() -> Iterator[None]:
    """Within the block, ``gguf.GGUFReader`` and ``gguf.get_tensor_name_map`` are memoised.

    transformers parses the GGUF file three times (tokenizer, config, weights) and rebuilds the tensor
    name map once per tensor (~400 times for SmolLM2); both dominate the conversion time on CPU. It
    imports both names from the ``gguf`` module when called, so swapping the module attributes for the
    duration of one conversion (under a lock) halves the time. Readers and maps are only read there.
    """
    import gguf

    with _PATCH_LOCK:
        real_reader, real_name_map = gguf.GGUFReader, gguf.get_tensor_name_map
        readers: dict[tuple[str, str], Any] = {}

        def reader(path: Any, mode: str = "r") -> Any:
            key = (str(Path(path).resolve()), mode)
            if key not in readers:
                readers[key] = real_reader(path, mode)
            return readers[key]

        gguf.GGUFReader = reader
        gguf.get_tensor_name_map = functools.lru_cache(maxsize=8)(real_name_map)
        try:
            yield
        finally:
            gguf.GGUFReader, gguf.get_tensor_name_map = real_reader, real_name_map
            readers.clear()


def convert_gguf(gguf_path: Path, out_dir: Path, *, torch_dtype: str = "float32") -> None:
    """Load ``gguf_path`` with transformers (dequantised) and save model and tokenizer to ``out_dir``.

    The weights are kept as dequantised (float32 by default: every dequantised Q4/Q8 value is exact in
    float32). The tokenizer, chat template included, comes from the GGUF metadata.
    """
    with _parse_gguf_once():
        _convert(gguf_path, out_dir, torch_dtype)


def _convert(gguf_path: Path, out_dir: Path, torch_dtype: str) -> None:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    folder, name = str(gguf_path.parent), gguf_path.name
    start = time.monotonic()
    logger.info("converting GGUF %s (one time, ~20-40 s on CPU); result cached in %s", gguf_path, out_dir.parent)
    tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=name)
    logger.info("GGUF tokenizer read in %.1f s; dequantising weights ...", time.monotonic() - start)
    kwargs: dict = {"gguf_file": name, "dtype": getattr(torch, torch_dtype)}
    try:  # transformers >= 5 keeps GGUF blocks packed unless told to dequantise
        from transformers import GgufConfig

        kwargs["quantization_config"] = GgufConfig(dequantize=True)
    except ImportError:  # older transformers always dequantise
        pass
    model = AutoModelForCausalLM.from_pretrained(folder, **kwargs)
    quantizer = getattr(model, "hf_quantizer", None)
    if quantizer is not None:  # a fully dequantised model: drop the marker that blocks saving and training
        packed = [n for n, m in model.named_modules() if type(m).__name__.lower().startswith("gguf")]
        if packed:
            raise RuntimeError(f"GGUF {gguf_path}: weights stayed packed in {packed[:3]}...; cannot convert")
        quantizer.remove_quantization_config(model)
    logger.info("GGUF weights dequantised in %.1f s; saving ...", time.monotonic() - start)
    model.save_pretrained(out_dir, safe_serialization=True)
    tokenizer.save_pretrained(out_dir)
    logger.info("GGUF %s converted in %.1f s", gguf_path.name, time.monotonic() - start)


def resolve_gguf(gguf_path: str | os.PathLike[str]) -> Path:
    """The cached, converted model folder of a local GGUF file (converted on first use)."""
    path = Path(gguf_path).expanduser()
    if not path.is_file():
        raise FileNotFoundError(f"GGUF file {str(path)!r} does not exist")
    return get_or_build(gguf_cache_key(path), lambda out: convert_gguf(path, out))
