"""Model loading with Unsloth's ``FastLanguageModel``: one ModelConfig (plus the train fields that
decide vLLM generation) in, Unsloth's (model, tokenizer) out.

``load_kwargs`` and ``peft_kwargs`` are the exact arguments of ``FastLanguageModel.from_pretrained``
and ``FastLanguageModel.get_peft_model``; they are plain functions so that the mapping can be checked
without unsloth or a GPU.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from ..models.errors import ModelLoadError
from ..models.lora import (
    ALL_LINEAR,
    DEFAULT_LORA_DROPOUT,
    check_target_modules,
    default_target_modules,
    linear_module_names,
)
from ..models.resolve import locate_model
from ..trl.args import GRPO_LIKE

if TYPE_CHECKING:
    from aligntune_config import UnifiedConfig

logger = logging.getLogger("aligntune.backends.unsloth")


def uses_vllm(config: UnifiedConfig) -> bool:
    """Whether the run generates with Unsloth's colocated vLLM engine: ``train.fast_inference``, or
    ``train.use_vllm`` (colocate) for the GRPO family."""
    t = config.train
    return bool(t.fast_inference or (t.use_vllm and config.algo in GRPO_LIKE))


def model_path(config: UnifiedConfig) -> str:
    """What ``FastLanguageModel.from_pretrained`` loads: a Hub id or a model folder (``model.sft_path``
    when set; embedded models and local GGUF files resolve to their converted, cached folder)."""
    m = config.model
    name = m.sft_path or m.name_or_path
    field = "model.sft_path" if m.sft_path else "model.name_or_path"
    location = locate_model(name, None if m.sft_path else m.gguf_file, field=field)
    if location.gguf_file:  # a GGUF inside a Hub repo: transformers converts it, Unsloth cannot load it
        raise ModelLoadError("model.gguf_file", f"the Unsloth engine cannot load {m.gguf_file!r} from the Hub repo "
                                                f"{name!r}; download the .gguf file and point {field} at it (it is "
                                                "converted to a model folder), or use backend: trl")
    return location.path


def load_kwargs(config: UnifiedConfig, dtype: Any, quantization_config: Any = None) -> dict[str, Any]:
    """Arguments of ``FastLanguageModel.from_pretrained`` for ``config``. ``dtype``: the torch dtype of
    the weights (``None``: Unsloth's choice); ``quantization_config``: the BitsAndBytesConfig of
    ``model.quantization`` when it is enabled."""
    m, t = config.model, config.train
    peft = bool(m.use_peft)
    vllm = uses_vllm(config)
    kwargs: dict[str, Any] = {
        "model_name": model_path(config),
        "max_seq_length": m.max_seq_length,
        "dtype": dtype,
        "load_in_4bit": m.quantization.load_in_4bit,  # Unsloth's default is True: always given
        "load_in_8bit": m.quantization.load_in_8bit,
        "full_finetuning": not peft,
        "trust_remote_code": m.trust_remote_code,
        "use_gradient_checkpointing": "unsloth" if m.gradient_checkpointing else False,
        "revision": m.revision,
        "fast_inference": vllm,
        "gpu_memory_utilization": t.vllm_gpu_memory_utilization,
        "random_state": t.seed,
    }
    if vllm and peft:
        kwargs["max_lora_rank"] = m.lora_r  # vLLM's LoRA slots must hold the adapter's rank
    if quantization_config is not None:
        kwargs["quantization_config"] = quantization_config
    if m.device_map is not None:
        kwargs["device_map"] = m.device_map
    if m.max_memory is not None:
        kwargs["max_memory"] = {int(k) if str(k).isdigit() else k: v for k, v in m.max_memory.items()}
    if m.attn_implementation != "auto":
        kwargs["attn_implementation"] = m.attn_implementation
    from ..models.loader import with_init_kwargs

    return with_init_kwargs(kwargs, m.model_init_kwargs)


def lora_targets(config: UnifiedConfig, model: Any) -> list[str] | str:
    """``model.lora_target_modules`` checked against ``model`` (default: its attention projections);
    ``all-linear`` written out as the model's linear layer names."""
    targets = config.model.lora_target_modules
    if targets is None or (not isinstance(targets, str) and len(targets) == 0):
        targets = default_target_modules(model)
        logger.info("LoRA target modules (default for %s): %s", type(model).__name__, targets)
    check_target_modules(model, targets)
    if targets == ALL_LINEAR:
        return linear_module_names(model)
    return targets if isinstance(targets, str) else list(targets)


def peft_kwargs(config: UnifiedConfig, model: Any) -> dict[str, Any]:
    """Arguments of ``FastLanguageModel.get_peft_model`` (after ``model``) for ``config``."""
    m = config.model
    return {
        "r": m.lora_r,
        "lora_alpha": m.lora_alpha,
        "lora_dropout": m.lora_dropout if m.lora_dropout is not None else DEFAULT_LORA_DROPOUT,
        "target_modules": lora_targets(config, model),
        "bias": m.bias,
        "use_gradient_checkpointing": "unsloth" if m.gradient_checkpointing else False,
        "random_state": config.train.seed,
        "max_seq_length": m.max_seq_length,
    }


def _dtype_and_quantization(config: UnifiedConfig) -> tuple[Any, Any]:
    import torch

    from ..models.precision import bitsandbytes_config, check_quantization, probe_device, resolve_precision

    device = probe_device(None, config.model.device_map)
    dtype_name = resolve_precision(config.model.precision, device, for_training=True)
    check_quantization(config.model.quantization, device)
    quantization = bitsandbytes_config(config.model.quantization, dtype_name) if config.model.quantization.enabled else None
    return getattr(torch, dtype_name), quantization


def fast_language_model() -> Any:
    """unsloth's FastLanguageModel. Importing unsloth patches transformers and TRL (its fused kernels
    and trainer patches): this is the one place AlignTune imports it."""
    try:
        from unsloth import FastLanguageModel
    except ImportError as exc:
        raise ModelLoadError("backend", f"unsloth could not be imported ({exc}); install the extra "
                                        "aligntune[unsloth] or use backend: trl") from exc
    return FastLanguageModel


def load_with_unsloth(config: UnifiedConfig, fast_model: Any = None) -> tuple[Any, Any]:
    """Load ``config.model`` with ``FastLanguageModel.from_pretrained`` and, with ``model.use_peft``,
    add LoRA adapters with ``FastLanguageModel.get_peft_model``. ``fast_model``: the FastLanguageModel
    class (default: imported from unsloth)."""
    fast_model = fast_model if fast_model is not None else fast_language_model()
    dtype, quantization = _dtype_and_quantization(config)
    kwargs = load_kwargs(config, dtype, quantization)
    logger.info("loading %s with Unsloth (max_seq_length %d, 4-bit %s, vLLM generation %s)", kwargs["model_name"],
                kwargs["max_seq_length"], kwargs["load_in_4bit"], kwargs["fast_inference"])
    model, tokenizer = fast_model.from_pretrained(**kwargs)
    m = config.model
    if m.tokenizer_name_or_path:
        from ..models.loader import load_tokenizer

        tokenizer = load_tokenizer(m)
    if tokenizer.pad_token is None and tokenizer.eos_token is not None:
        tokenizer.pad_token = tokenizer.eos_token
    if m.use_peft:
        lora = peft_kwargs(config, model)
        model = fast_model.get_peft_model(model, **lora)
        logger.info("Unsloth LoRA r=%d alpha=%d on %s", lora["r"], lora["lora_alpha"], lora["target_modules"])
    return model, tokenizer
