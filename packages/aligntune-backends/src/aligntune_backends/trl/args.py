"""Map a resolved UnifiedConfig onto the arguments of TRL's config classes (SFTConfig, DPOConfig,
GRPOConfig, RewardConfig).

``build_args(config)`` returns an :class:`EngineArgs`: ``trl`` holds the keyword arguments of the TRL
config class; ``extra`` holds what AlignTune applies itself around TRL (prompt truncation, resuming,
early stopping, dynamic sampling, ...). Every ``train`` field an algorithm uses ends up in one of the two
-- ``tests/test_trl_args.py`` changes each field and checks that the output changes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aligntune_config import AlgorithmType, PrecisionType

if TYPE_CHECKING:
    from aligntune_config import UnifiedConfig

GRPO_LIKE = {AlgorithmType.GRPO, AlgorithmType.GSPO, AlgorithmType.DAPO, AlgorithmType.DRGRPO, AlgorithmType.NMGRPO,
             AlgorithmType.META_ES}


@dataclass
class EngineArgs:
    trl: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)


def resolve_precision(precision: PrecisionType | None, cuda_available: bool, bf16_supported: bool) -> PrecisionType:
    """auto -> bf16 where the GPU supports it, else fp32 (CPU training runs in fp32)."""
    if precision in (None, PrecisionType.AUTO):
        return PrecisionType.BF16 if cuda_available and bf16_supported else PrecisionType.FP32
    return precision


def _common(config: "UnifiedConfig", cuda: bool, bf16_ok: bool) -> dict[str, Any]:
    t, lg = config.train, config.logging
    precision = resolve_precision(config.model.precision, cuda, bf16_ok)
    return {
        "output_dir": lg.output_dir,
        "run_name": lg.run_name,
        "per_device_train_batch_size": t.per_device_batch_size,
        "per_device_eval_batch_size": t.per_device_eval_batch_size,
        "gradient_accumulation_steps": t.gradient_accumulation_steps,
        "max_steps": t.max_steps if t.max_steps is not None else -1,
        "num_train_epochs": float(t.epochs) if t.epochs is not None else 1.0,
        "learning_rate": t.learning_rate,
        "weight_decay": t.weight_decay,
        # transformers 5: warmup_steps takes an int (steps) or a float in [0, 1) (ratio)
        "warmup_steps": t.warmup_steps if t.warmup_steps > 0 else float(t.warmup_ratio or 0.0),
        "max_grad_norm": t.max_grad_norm,
        "optim": t.optimizer,
        "lr_scheduler_type": t.lr_scheduler,
        "bf16": precision is PrecisionType.BF16,
        "fp16": precision is PrecisionType.FP16,
        "seed": t.seed,
        "data_seed": t.data_seed,
        "eval_strategy": t.eval_strategy,
        "eval_steps": t.eval_interval,
        "save_strategy": t.save_strategy,
        "save_steps": t.save_interval,
        "save_total_limit": t.save_total_limit,
        "logging_strategy": t.logging_strategy,
        "logging_steps": t.logging_steps,
        "logging_first_step": True,
        "load_best_model_at_end": bool(t.load_best_model_at_end),
        "metric_for_best_model": t.metric_for_best_model,
        "greater_is_better": t.greater_is_better,
        "dataloader_num_workers": t.dataloader_num_workers,
        "dataloader_drop_last": t.dataloader_drop_last,
        "remove_unused_columns": t.remove_unused_columns,
        "eval_accumulation_steps": t.eval_accumulation_steps,
        "gradient_checkpointing": bool(config.model.gradient_checkpointing),
        "gradient_checkpointing_kwargs": dict(t.gradient_checkpointing_kwargs or {}),
        # TRL 1.x enables Liger's fused losses through use_liger_kernel
        "use_liger_kernel": t.use_liger_kernel or bool(t.use_liger_loss),
        # trackers are added as callbacks built from logging.* (trl/tracking.py), not through report_to
        "report_to": "none",
        "disable_tqdm": lg.disable_tqdm,
        "log_level": lg.log_level.lower(),
        "push_to_hub": lg.push_to_hub,
        "hub_model_id": lg.hub_model_id,
        "hub_token": lg.hub_token.get_secret_value() if lg.hub_token else None,
        "hub_private_repo": lg.hub_private_repo,
        "use_cpu": not cuda,
        "pad_to_multiple_of": t.pad_to_multiple_of,
    }


def _common_extra(config: "UnifiedConfig") -> dict[str, Any]:
    t = config.train
    return {
        "resume_from_checkpoint": t.resume_from_checkpoint,
        "early_stopping": (t.early_stopping_patience, t.early_stopping_threshold) if t.early_stopping_patience else None,
        "dataset_num_proc": t.dataset_num_proc,
        "truncation_mode": t.truncation_mode,
        "loggers": list(config.logging.loggers),
    }


def _sft(config: "UnifiedConfig") -> dict[str, Any]:
    t = config.train
    return {
        "packing": t.packing,
        "packing_strategy": t.packing_strategy,
        "eval_packing": t.eval_packing,
        "padding_free": t.padding_free,
        "completion_only_loss": t.completion_only_loss,
        "assistant_only_loss": t.assistant_only_loss,
        "loss_type": t.loss_type,
        "dataset_num_proc": t.dataset_num_proc,
        "dataset_kwargs": dict(t.dataset_kwargs),
        "dataset_text_field": config.datasets[0].dataset_text_field,
        "truncation_mode": t.truncation_mode,
        "label_smoothing_factor": t.label_smoothing_factor,
        "train_sampling_strategy": "group_by_length" if t.group_by_length else "random",
        "max_length": t.max_length,
        "activation_offloading": t.activation_offloading,
    }


def _dpo(config: "UnifiedConfig") -> tuple[dict[str, Any], dict[str, Any]]:
    t = config.train
    losses = list(t.loss_type) if isinstance(t.loss_type, list) else [t.loss_type or "sigmoid"]
    if isinstance(t.loss_weights, dict):
        weights: list[float] | None = [float(t.loss_weights.get(name, 1.0)) for name in losses]
    else:
        weights = list(t.loss_weights) if t.loss_weights is not None else None
    if t.rpo_alpha is not None:  # RPO = the DPO loss plus rpo_alpha x NLL of the chosen completion
        weights = (weights or [1.0] * len(losses)) + [t.rpo_alpha]
        losses = losses + ["sft"]
    trl = {
        "beta": t.beta,
        "loss_type": losses if len(losses) > 1 else losses[0],
        "loss_weights": weights,
        "f_divergence_type": t.f_divergence_type,
        "f_alpha_divergence_coef": t.f_alpha_divergence_coef,
        "label_smoothing": t.label_smoothing,
        "use_weighting": t.use_weighting,
        "ld_alpha": t.ld_alpha,
        "discopop_tau": t.discopop_tau,
        "precompute_ref_log_probs": t.precompute_ref_log_probs,
        "precompute_ref_batch_size": t.precompute_ref_batch_size,
        "sync_ref_model": t.sync_ref_model,
        "ref_model_mixup_alpha": t.ref_model_mixup_alpha,
        "ref_model_sync_steps": t.ref_model_sync_steps,
        "padding_free": t.padding_free,
        "truncation_mode": t.truncation_mode,
        "dataset_num_proc": t.dataset_num_proc,
        "disable_dropout": config.model.disable_dropout,
        "max_length": t.max_length,
        "activation_offloading": t.activation_offloading,
        # preference rows are grouped by the token length AlignTune writes to a "length" column
        "train_sampling_strategy": "group_by_length" if t.group_by_length else "random",
        "length_column_name": "length",
    }
    extra = {
        "reference_free": t.reference_free,
        "max_prompt_length": t.max_prompt_length,
        "dpo_eval_generation": {"temperature": t.temperature, "top_p": t.top_p, "top_k": t.top_k,
                                "max_new_tokens": t.max_completion_length},
    }
    return trl, extra


def _grpo(config: "UnifiedConfig") -> tuple[dict[str, Any], dict[str, Any]]:
    t = config.train
    algo = config.algo
    gspo = algo is AlgorithmType.GSPO
    trl = {
        "num_generations": t.num_generations,
        "max_completion_length": t.max_completion_length,
        "temperature": t.temperature,
        "top_p": t.top_p,
        "top_k": t.top_k or 0,
        "generation_kwargs": dict(t.generation_kwargs) if t.generation_kwargs else None,
        "beta": t.kl_coef,
        "epsilon": t.gspo_clip_low if gspo else t.cliprange,
        "epsilon_high": t.gspo_clip_high if gspo else t.epsilon_high,
        "importance_sampling_level": "sequence" if gspo else "token",
        "loss_type": t.loss_type,
        "scale_rewards": t.scale_rewards,
        "mask_truncated_completions": t.mask_truncated_completions,
        "num_iterations": t.num_iterations,
        "sync_ref_model": t.sync_ref_model,
        "ref_model_mixup_alpha": t.ref_model_mixup_alpha,
        "ref_model_sync_steps": t.ref_model_sync_steps,
        "use_vllm": t.use_vllm,
        "vllm_mode": t.vllm_mode,
        "vllm_server_base_url": t.vllm_server_base_url,
        "vllm_gpu_memory_utilization": t.vllm_gpu_memory_utilization,
        # vLLM's context: prompt + completion (AlignTune's max_length), not the model's maximum (less KV cache)
        "vllm_max_model_length": t.max_length,
        "ds3_gather_for_generation": t.ds3_gather_for_generation,
        "disable_dropout": config.model.disable_dropout,
        "chat_template_kwargs": {"enable_thinking": t.enable_thinking},
    }
    extra = {
        # TRL's GRPO has no prompt limit: AlignTune truncates prompts to
        # min(max_prompt_length, max_length - max_completion_length) tokens
        "max_prompt_length": min(t.max_prompt_length, max(1, t.max_length - t.max_completion_length)),
        "dynamic_sampling": bool(t.dynamic_sampling),
        "max_resample_batches": t.max_resample_batches,
        "overlong": (t.overlong_buffer_length, t.overlong_penalty_factor) if t.overlong_buffer_length else None,
        "kl_estimator": t.kl_estimator,
        "fast_inference": t.fast_inference,
        "reward_weights": [r.weight for r in config.rewards],
    }
    return trl, extra


def build_args(config: "UnifiedConfig", *, cuda_available: bool | None = None,
               bf16_supported: bool | None = None) -> EngineArgs:
    """The TRL config arguments and AlignTune's own settings for ``config``."""
    if cuda_available is None or bf16_supported is None:
        import torch

        cuda_available = torch.cuda.is_available() if cuda_available is None else cuda_available
        bf16_supported = (cuda_available and torch.cuda.is_bf16_supported()) if bf16_supported is None else bf16_supported
    out = EngineArgs(_common(config, cuda_available, bf16_supported), _common_extra(config))
    algo = config.algo
    if algo is AlgorithmType.SFT:
        out.trl.update(_sft(config))
    elif algo is AlgorithmType.DPO:
        trl, extra = _dpo(config)
        out.trl.update(trl)
        out.extra.update(extra)
    elif algo is AlgorithmType.REWARD_MODEL:
        t = config.train
        out.trl.update({"disable_dropout": config.model.disable_dropout, "dataset_num_proc": t.dataset_num_proc,
                        "max_length": t.max_length, "activation_offloading": t.activation_offloading,
                        "train_sampling_strategy": "group_by_length" if t.group_by_length else "random",
                        "length_column_name": "length"})
    elif algo in GRPO_LIKE:
        trl, extra = _grpo(config)
        out.trl.update(trl)
        out.extra.update(extra)
    else:
        raise ValueError(f"the TRL engine has no argument mapping for {algo.value}")
    return out
