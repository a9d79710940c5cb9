"""``load_model_and_tokenizer``: one ModelConfig in, a ready (model, tokenizer) pair out.

Order: everything that can be checked without weights is checked first (path, device, precision,
quantization), then the tokenizer and model are loaded, then pad token, gradient checkpointing, device
placement and LoRA are applied.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from .errors import ModelLoadError
from .lora import apply_lora
from .precision import bitsandbytes_config, check_quantization, probe_device, resolve_precision
from .resolve import FIELD, ModelLocation, locate_model

if TYPE_CHECKING:
    from aligntune_config.model import ModelConfig

logger = logging.getLogger("aligntune.models.loader")


def _hub_error(location: ModelLocation, what: str, exc: Exception) -> ModelLoadError:
    import os

    offline = os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes", "on")
    why = "HF_HUB_OFFLINE is set, and it is not in the local Hugging Face cache" if offline else (
        "it is not in the local Hugging Face cache and the Hub could not be reached or has no such repo")
    return ModelLoadError(
        FIELD,
        f"could not load the {what} of Hub model {location.path!r}: {why} ({type(exc).__name__}: "
        f"{str(exc).splitlines()[0] if str(exc) else ''}). Offline, use a local folder, a .gguf file or "
        "embedded:smollm2-135m-instruct / embedded:tiny-random",
    )


def load_tokenizer(model_config: ModelConfig, location: ModelLocation | None = None) -> Any:
    """The tokenizer of ``model_config`` (``tokenizer_name_or_path`` when set), with a pad token."""
    from transformers import AutoTokenizer

    location = location or locate_model(model_config.name_or_path, model_config.gguf_file)
    kwargs: dict[str, Any] = {"trust_remote_code": model_config.trust_remote_code}
    if model_config.tokenizer_name_or_path:
        location = locate_model(model_config.tokenizer_name_or_path, field="model.tokenizer_name_or_path")
    if location.is_hub:
        if model_config.revision and not model_config.tokenizer_name_or_path:
            kwargs["revision"] = model_config.revision
        if location.gguf_file:
            kwargs["gguf_file"] = location.gguf_file
    try:
        tokenizer = AutoTokenizer.from_pretrained(location.path, **kwargs)
    except OSError as exc:
        if location.is_hub:
            raise _hub_error(location, "tokenizer", exc) from exc
        raise
    if tokenizer.pad_token is None:
        if tokenizer.eos_token is not None:
            tokenizer.pad_token = tokenizer.eos_token
            logger.info("tokenizer of %s has no pad token; using its eos token %r", location.path, tokenizer.eos_token)
        else:
            logger.warning("tokenizer of %s has neither pad nor eos token; batches cannot be padded", location.path)
    return tokenizer


def _dequantize_gguf() -> dict[str, Any]:
    """transformers >= 5 may keep a GGUF's blocks packed (not trainable); ask for dense weights."""
    try:
        from transformers import GgufConfig
    except ImportError:  # older transformers always dequantise
        return {}
    return {"quantization_config": GgufConfig(dequantize=True)}


def _model_kwargs(model_config: ModelConfig, location: ModelLocation, dtype_name: str, device: Any) -> dict:
    import torch

    kwargs: dict[str, Any] = {"dtype": getattr(torch, dtype_name), "trust_remote_code": model_config.trust_remote_code}
    if location.is_hub:
        if model_config.revision:
            kwargs["revision"] = model_config.revision
        if location.gguf_file:
            kwargs["gguf_file"] = location.gguf_file
            kwargs.update(_dequantize_gguf())
    if model_config.attn_implementation != "auto":
        kwargs["attn_implementation"] = model_config.attn_implementation
    if model_config.device_map is not None:
        kwargs["device_map"] = model_config.device_map
    if model_config.max_memory is not None:
        kwargs["max_memory"] = {int(k) if str(k).isdigit() else k: v for k, v in model_config.max_memory.items()}
        kwargs.setdefault("device_map", "auto")
    if model_config.quantization.enabled:
        kwargs["quantization_config"] = bitsandbytes_config(model_config.quantization, dtype_name)
        if "device_map" not in kwargs:
            kwargs["device_map"] = {"": str(device) if device is not None else "cuda:0"}
    if model_config.num_labels is not None:
        kwargs["num_labels"] = model_config.num_labels
    return with_init_kwargs(kwargs, model_config.model_init_kwargs)


def with_init_kwargs(kwargs: dict, model_init_kwargs: dict) -> dict:
    """``kwargs`` updated with the user's ``model.model_init_kwargs`` (which win; overrides are logged)."""
    overridden = sorted(set(kwargs) & set(model_init_kwargs))
    if overridden:
        logger.info("model.model_init_kwargs overrides %s", overridden)
    kwargs.update(model_init_kwargs)
    return kwargs


def enable_gradient_checkpointing(model: Any) -> None:
    """Turn on activation (gradient) checkpointing with ``use_reentrant=False`` (transformers >= 5.x
    names it ``activation_checkpointing_enable``; older versions ``gradient_checkpointing_enable``)."""
    kwargs = {"use_reentrant": False}
    if hasattr(model, "activation_checkpointing_enable"):
        model.activation_checkpointing_enable(activation_checkpointing_kwargs=kwargs)
    else:
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs=kwargs)


def load_model_and_tokenizer(model_config: ModelConfig, *, for_training: bool = True,
                             device: Any = None) -> tuple[Any, Any]:
    """Load the model and tokenizer ``model_config`` describes.

    ``name_or_path`` may be an embedded model (``embedded:tiny-random``), a local folder, a local GGUF
    file (or ``gguf_file`` inside a folder or Hub repo), or a Hub id (``revision``,
    ``trust_remote_code`` and ``model_init_kwargs`` are passed to ``from_pretrained``). A causal LM is
    loaded, or a sequence classifier when ``num_labels`` is set.

    With ``for_training`` the model is in train mode, gradient checkpointing is enabled when asked
    (``use_reentrant=False``) and LoRA adapters are added when ``use_peft`` is true; otherwise the model
    is in eval mode without adapters. ``device`` ("cpu", "cuda:0") places the model when no
    ``device_map`` is set; by default it stays where transformers loads it (CPU, or per device_map).

    Raises :class:`ModelLoadError` (naming the config field) for what cannot work here: a missing local
    path, fp16 training or quantization without CUDA, a LoRA target the model lacks, a Hub model that
    cannot be fetched.
    """
    # 1. checks that need no weights
    if model_config.sft_path:  # start from the SFT checkpoint: its weights (and tokenizer) replace name_or_path's
        logger.info("model.sft_path set: loading %s instead of %s", model_config.sft_path, model_config.name_or_path)
        locate_model(model_config.sft_path, None, field="model.sft_path")
        model_config = model_config.model_copy(update={"name_or_path": model_config.sft_path, "sft_path": None,
                                                       "gguf_file": None})
    location = locate_model(model_config.name_or_path, model_config.gguf_file)
    target = probe_device(device, model_config.device_map)
    dtype_name = resolve_precision(model_config.precision, target, for_training=for_training)
    check_quantization(model_config.quantization, target)
    if model_config.quantization.enabled and location.gguf_file:
        raise ModelLoadError("model.quantization", "bitsandbytes quantization cannot be combined with a GGUF file "
                                                   "loaded from the Hub (model.gguf_file); remove one of them")
    if model_config.tokenizer_name_or_path:
        locate_model(model_config.tokenizer_name_or_path, field="model.tokenizer_name_or_path")

    # 2. tokenizer and model
    tokenizer = load_tokenizer(model_config, location)
    from transformers import AutoModelForCausalLM, AutoModelForSequenceClassification

    auto_class = AutoModelForSequenceClassification if model_config.num_labels is not None else AutoModelForCausalLM
    kwargs = _model_kwargs(model_config, location, dtype_name, device)
    logger.info("loading %s (%s) as %s, dtype %s", model_config.name_or_path, location.kind, auto_class.__name__,
                dtype_name)
    try:
        model = auto_class.from_pretrained(location.path, **kwargs)
    except OSError as exc:
        if location.is_hub:
            raise _hub_error(location, "weights", exc) from exc
        raise

    # 3. what the weights need around them
    if getattr(model.config, "pad_token_id", None) is None and tokenizer.pad_token_id is not None:
        model.config.pad_token_id = tokenizer.pad_token_id
    if device is not None and "device_map" not in kwargs:
        model.to(device)
    quantized = model_config.quantization.enabled
    checkpointing = bool(model_config.gradient_checkpointing) and for_training
    if checkpointing:
        enable_gradient_checkpointing(model)
        model.config.use_cache = False
        logger.info("gradient checkpointing enabled (use_reentrant=False)")
    if model_config.use_peft and for_training:
        task_type = "SEQ_CLS" if model_config.num_labels is not None else "CAUSAL_LM"
        model = apply_lora(model, model_config, task_type=task_type, quantized=quantized,
                           gradient_checkpointing=checkpointing)
    elif model_config.use_peft:
        logger.info("model.use_peft is set but for_training=False: no adapters added")
    model.train(for_training)
    return model, tokenizer


__all__ = ["ModelLoadError", "load_model_and_tokenizer", "load_tokenizer"]
