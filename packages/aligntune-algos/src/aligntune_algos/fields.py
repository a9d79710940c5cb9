"""Which ``train`` fields each algorithm uses. A field outside an algorithm's set that is given a value
other than its default is rejected for that algorithm (it would otherwise be silently ignored)."""

from __future__ import annotations

COMMON = frozenset({
    "per_device_batch_size", "per_device_eval_batch_size", "gradient_accumulation_steps", "max_steps", "epochs",
    "learning_rate", "weight_decay", "warmup_steps", "warmup_ratio", "max_grad_norm", "optimizer", "lr_scheduler",
    "fp16", "bf16", "seed", "data_seed", "eval_interval", "save_interval", "logging_steps", "logging_strategy",
    "eval_strategy", "save_strategy", "save_total_limit", "load_best_model_at_end", "metric_for_best_model",
    "greater_is_better", "early_stopping_patience", "early_stopping_threshold", "resume_from_checkpoint",
    "dataloader_num_workers", "dataloader_drop_last", "remove_unused_columns",
    "eval_accumulation_steps", "dataset_num_proc", "gradient_checkpointing", "gradient_checkpointing_kwargs",
    "use_trl", "use_liger_kernel", "max_length", "truncation_mode", "pad_to_multiple_of",
    "use_flash_attention_2", "grpo_alpha", "grpo_beta", "gspo_gamma", "gspo_delta",
})
SFT = frozenset({
    "packing", "packing_strategy", "eval_packing", "padding_free", "completion_only_loss", "assistant_only_loss",
    "dataset_kwargs", "label_smoothing_factor", "use_liger_loss", "activation_offloading", "loss_type",
    "group_by_length",
})
DPO = frozenset({
    "beta", "loss_weights", "f_divergence_type", "f_alpha_divergence_coef", "reference_free", "label_smoothing",
    "use_weighting", "rpo_alpha", "ld_alpha", "discopop_tau", "precompute_ref_log_probs", "precompute_ref_batch_size",
    "sync_ref_model", "ref_model_mixup_alpha", "ref_model_sync_steps", "max_prompt_length", "padding_free",
    "use_liger_loss", "activation_offloading", "loss_type", "group_by_length",
    # sampling of the generations of DPO evaluation (evaluation.dpo_eval_enabled: zero/few-shot, win rate)
    "temperature", "top_p", "top_k", "max_completion_length",
})
REWARD_MODEL = frozenset({"activation_offloading", "group_by_length"})
ROLLOUT = frozenset({
    "temperature", "top_p", "top_k", "generation_kwargs", "ds3_gather_for_generation", "use_vllm", "vllm_mode",
    "vllm_server_base_url", "vllm_gpu_memory_utilization", "fast_inference", "enable_thinking", "max_prompt_length",
    "max_completion_length",
})
PPO = frozenset({
    "rollout_batch_size", "response_length", "stop_token", "missing_eos_penalty", "num_ppo_epochs", "cliprange",
    "cliprange_value", "vf_coef", "ent_coef", "gamma", "lam", "whiten_rewards", "whiten_advantages", "kl_coef",
    "kl_estimator", "adap_kl_ctrl", "init_kl_coef", "target_kl", "kl_horizon",
})
GRPO_FAMILY = frozenset({
    "num_generations", "num_iterations", "scale_rewards", "mask_truncated_completions", "reward_weights",
    "cliprange", "epsilon_high", "kl_coef", "kl_estimator", "sync_ref_model", "ref_model_mixup_alpha",
    "ref_model_sync_steps", "dynamic_sampling", "max_resample_batches", "overlong_buffer_length",
    "overlong_penalty_factor", "use_liger_loss", "loss_type",
})
GSPO = frozenset({"gspo_clip_low", "gspo_clip_high"})
