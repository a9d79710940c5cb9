"""The ``train`` fields PPO honours beyond its own (optimizer, schedule, checkpoints), and the refusal of
those the PPO loop does not build, so no field is silently ignored."""

from __future__ import annotations

import logging
import math
import shutil
from pathlib import Path
from typing import Any

logger = logging.getLogger("aligntune.backends.ppo")

ADAMW = ("adamw_torch", "adamw_torch_fused", "adamw_hf", "adamw")
"""Optimizer names that mean torch's AdamW, the optimizer of the PPO loop."""

NOT_BUILT = {
    "use_vllm": "vLLM rollouts are not built for PPO (generation uses the policy's generate)",
    "fast_inference": "Unsloth's vLLM generation is not built for PPO",
    "enable_thinking": "PPO prompts go through the tokenizer's chat template as they are",
    "load_best_model_at_end": "PPO keeps the last policy",
    "metric_for_best_model": "PPO keeps the last policy",
    "early_stopping_patience": "PPO has no early stopping",
    "resume_from_checkpoint": "resuming a PPO run is not built",
    "dataloader_num_workers": "PPO batches prompts in the training process",
    "dataloader_drop_last": "PPO fills a short batch of prompts by cycling",
    "eval_accumulation_steps": "PPO evaluation samples and scores, it accumulates no logits",
    "pad_to_multiple_of": "PPO pads each batch to its longest sequence",
    "use_liger_kernel": "the PPO loop computes its losses itself",
    "gradient_checkpointing_kwargs": "set model.gradient_checkpointing (use_reentrant=False)",
}
"""Fields that apply to trainers in general but not to the PPO loop, with why; given a value other than
their default, they are refused."""


def check_train_fields(train: Any) -> None:
    """Refuse ``train`` fields the PPO loop does not use (set to a value other than the default), an
    optimizer other than AdamW, ``eval_strategy: epoch``/``save_strategy: epoch|best`` and a
    ``max_completion_length`` that differs from ``response_length``."""
    fields = type(train).model_fields
    problems = []
    for name, why in NOT_BUILT.items():
        if name in train.model_fields_set and getattr(train, name) != fields[name].get_default(call_default_factory=True):
            problems.append(f"train.{name}={getattr(train, name)!r}: {why}")
    if train.optimizer.lower() not in ADAMW:
        problems.append(f"train.optimizer={train.optimizer!r}: the PPO loop uses AdamW ({', '.join(ADAMW)})")
    if train.eval_strategy == "epoch":
        problems.append("train.eval_strategy='epoch': PPO evaluates every eval_interval steps ('steps') or not ('no')")
    if train.save_strategy in ("epoch", "best"):
        problems.append(f"train.save_strategy={train.save_strategy!r}: PPO saves every save_interval steps ('steps') "
                        "or not ('no')")
    if "max_completion_length" in train.model_fields_set and train.max_completion_length != train.response_length:
        problems.append(f"train.max_completion_length={train.max_completion_length}: PPO samples response_length "
                        f"({train.response_length}) tokens; set train.response_length instead")
    if problems:
        raise ValueError("PPO does not use: " + "; ".join(problems))


def updates_per_step(train: Any) -> int:
    """Optimizer updates in one PPO step: per epoch, one per ``gradient_accumulation_steps`` minibatches."""
    minibatches = math.ceil(train.rollout_batch_size / train.per_device_batch_size)
    return (train.num_ppo_epochs or 4) * math.ceil(minibatches / train.gradient_accumulation_steps)


def build_scheduler(train: Any, optimizer: Any, total_steps: int) -> Any:
    """transformers' ``lr_scheduler`` over all optimizer updates of the run, with ``warmup_steps`` (or
    ``warmup_ratio`` of the updates) of linear warmup."""
    from transformers import get_scheduler

    total = total_steps * updates_per_step(train)
    warmup = train.warmup_steps or math.ceil((train.warmup_ratio or 0.0) * total)
    try:
        return get_scheduler(train.lr_scheduler, optimizer, num_warmup_steps=warmup, num_training_steps=total)
    except ValueError as exc:
        raise ValueError(f"train.lr_scheduler={train.lr_scheduler!r}: {exc}") from exc


def prune_checkpoints(output_dir: Path, limit: int | None) -> None:
    """Keep the ``limit`` newest ``checkpoint-N`` folders (``save_total_limit``)."""
    if limit is None:
        return
    found = sorted((p for p in output_dir.glob("checkpoint-*") if p.name.split("-")[-1].isdigit()),
                   key=lambda p: int(p.name.split("-")[-1]))
    for old in found[:-limit]:
        shutil.rmtree(old)
        logger.info("removed %s (save_total_limit=%d)", old, limit)
