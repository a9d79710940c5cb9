"""LoRA adapters with peft: target modules checked against the model, defaults per architecture."""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from .errors import ModelLoadError

if TYPE_CHECKING:
    from aligntune_config.model import ModelConfig

logger = logging.getLogger("aligntune.models.lora")

FIELD = "model.lora_target_modules"
ALL_LINEAR = "all-linear"
DEFAULT_LORA_DROPOUT = 0.05
# Attention projections by architecture family, most common first. The first family whose names all
# exist in the model is the default; otherwise the attention-like names the model has; else all-linear.
ATTENTION_FAMILIES: tuple[tuple[str, ...], ...] = (
    ("q_proj", "k_proj", "v_proj", "o_proj"),  # Llama, Mistral, Qwen, SmolLM, Gemma, Phi-3 (qkv_proj below)
    ("q_proj", "k_proj", "v_proj", "out_proj"),  # OPT, BART-like
    ("qkv_proj", "o_proj"),  # Phi-3
    ("c_attn", "c_proj"),  # GPT-2 (Conv1D)
    ("query_key_value", "dense"),  # Falcon, GPT-NeoX, BLOOM
    ("Wqkv", "out_proj"),  # MPT, ModernBERT
    ("query", "key", "value"),  # BERT-likes
)
OUTPUT_HEADS = ("lm_head", "score", "classifier", "embed_out", "output")


def linear_module_names(model: Any) -> list[str]:
    """The distinct leaf names of the model's linear layers (``torch.nn.Linear``, GPT-2's ``Conv1D``,
    bitsandbytes' ``Linear4bit/8bitLt``), output heads excluded."""
    names = set()
    for full_name, module in model.named_modules():
        kind = type(module).__name__
        if kind in ("Linear", "Conv1D", "Linear4bit", "Linear8bitLt") or _is_linear(module):
            leaf = full_name.rsplit(".", 1)[-1]
            if leaf and leaf not in OUTPUT_HEADS:
                names.add(leaf)
    return sorted(names)


def _is_linear(module: Any) -> bool:
    import torch

    return isinstance(module, torch.nn.Linear)


def default_target_modules(model: Any) -> list[str] | str:
    """The attention projections of ``model``'s architecture (see ``ATTENTION_FAMILIES``)."""
    names = set(linear_module_names(model))
    for family in ATTENTION_FAMILIES:
        if set(family) <= names:
            return list(family)
    attention_like = sorted(n for n in names if re.search(r"(^|_)(q|k|v|o|qkv|query|key|value|attn)(_|$)", n))
    if attention_like:
        return attention_like
    logger.info("no known attention projections in %s; LoRA targets all linear layers",
                type(model).__name__)
    return ALL_LINEAR


def check_target_modules(model: Any, targets: Sequence[str] | str) -> None:
    """Raise :class:`ModelLoadError` naming ``model.lora_target_modules`` when a target matches no
    linear layer of ``model``; the message lists the linear layer names it has."""
    available = linear_module_names(model)
    listing = ", ".join(available) or "none"
    if isinstance(targets, str):
        if targets == ALL_LINEAR:
            return
        module_names = [n for n, _ in model.named_modules()]
        if not any(re.fullmatch(targets, n) for n in module_names):
            raise ModelLoadError(FIELD, f"the pattern {targets!r} matches no module of {type(model).__name__}; "
                                        f"its linear modules are: {listing} (or use 'all-linear')")
        return
    missing = [t for t in targets if t not in available]
    if missing:
        raise ModelLoadError(
            FIELD,
            f"{', '.join(repr(m) for m in missing)} {'is' if len(missing) == 1 else 'are'} not a linear module "
            f"of {type(model).__name__}; its linear modules are: {listing} (or use 'all-linear')",
        )


def lora_config(model_config: ModelConfig, model: Any, *, task_type: str = "CAUSAL_LM") -> Any:
    """The ``peft.LoraConfig`` of ``model_config`` for ``model`` (targets checked)."""
    from peft import LoraConfig

    targets = model_config.lora_target_modules
    if targets is None or (not isinstance(targets, str) and len(targets) == 0):
        targets = default_target_modules(model)
        logger.info("LoRA target modules (default for %s): %s", type(model).__name__, targets)
    check_target_modules(model, targets)
    dropout = model_config.lora_dropout if model_config.lora_dropout is not None else DEFAULT_LORA_DROPOUT
    return LoraConfig(
        r=model_config.lora_r,
        lora_alpha=model_config.lora_alpha,
        lora_dropout=dropout,
        target_modules=targets if isinstance(targets, str) else list(targets),
        bias=model_config.bias,
        task_type=task_type,
    )


def apply_lora(model: Any, model_config: ModelConfig, *, task_type: str = "CAUSAL_LM",
               quantized: bool = False, gradient_checkpointing: bool = False) -> Any:
    """Wrap ``model`` in a peft model with LoRA adapters; only adapter (and, per ``bias``, bias)
    parameters stay trainable."""
    from peft import get_peft_model, prepare_model_for_kbit_training

    config = lora_config(model_config, model, task_type=task_type)
    if quantized:
        model = prepare_model_for_kbit_training(
            model, use_gradient_checkpointing=gradient_checkpointing,
            gradient_checkpointing_kwargs={"use_reentrant": False},
        )
    elif gradient_checkpointing:
        model.enable_input_require_grads()  # frozen embeddings: let checkpointed blocks get gradients
    peft_model = get_peft_model(model, config)
    trainable = sum(p.numel() for p in peft_model.parameters() if p.requires_grad)
    total = sum(p.numel() for p in peft_model.parameters())
    logger.info("LoRA r=%d alpha=%d on %s: %d of %d parameters trainable (%.2f%%)", config.r, config.lora_alpha,
                sorted(config.target_modules) if not isinstance(config.target_modules, str)
                else config.target_modules, trainable, total, 100.0 * trainable / max(total, 1))
    return peft_model
