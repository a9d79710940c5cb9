"""Training fields shared by every algorithm: batches, optimisation, schedule, checkpoints, data."""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import Field

from ._base import StrictModel


class CommonTrainingFields(StrictModel):
    """Fields used by SFT and by every RL algorithm."""

    _aliases: ClassVar[dict[str, str]] = {
        "batch_size": "per_device_batch_size",
        "per_device_train_batch_size": "per_device_batch_size",
        "eval_batch_size": "per_device_eval_batch_size",
        "num_epochs": "epochs",
        "num_train_epochs": "epochs",
        "eval_steps": "eval_interval",
        "save_steps": "save_interval",
        "lr_scheduler_type": "lr_scheduler",
        "optim": "optimizer",
    }

    per_device_batch_size: int = Field(1, gt=0, description="Batch size per device. Alias: batch_size.")
    per_device_eval_batch_size: int = Field(1, gt=0, description="Evaluation batch size per device.")
    gradient_accumulation_steps: int = Field(1, gt=0, description="Gradient accumulation steps.")
    max_steps: int | None = Field(None, gt=0, description="Optimizer steps to train; overrides epochs.")
    epochs: float | None = Field(
        None, gt=0, description="Epochs when max_steps is unset. Alias: num_epochs. Default: 3 for SFT, 1 for RL."
    )
    learning_rate: float = Field(1e-5, gt=0, description="Peak learning rate.")
    weight_decay: float = Field(0.01, ge=0, description="Weight decay.")
    warmup_steps: int = Field(0, ge=0, description="Linear warmup steps (takes precedence over warmup_ratio).")
    warmup_ratio: float | None = Field(
        None, ge=0, lt=1, description="Warmup as a fraction of total steps. Default: 0.1 for SFT, 0.0 for RL."
    )
    max_grad_norm: float = Field(1.0, gt=0, description="Gradient clipping norm.")
    optimizer: str = Field("adamw_torch", min_length=1, description="Optimizer name (transformers OptimizerNames).")
    lr_scheduler: str = Field("cosine", min_length=1, description="Learning-rate schedule (transformers SchedulerType).")
    fp16: bool = Field(False, description="Train in fp16 (same as model.precision: fp16).")
    bf16: bool = Field(False, description="Train in bf16 (same as model.precision: bf16).")
    seed: int = Field(42, ge=0, description="Random seed (model init, sampling, dropout).")
    data_seed: int = Field(47, ge=0, description="Seed of data shuffling and mixing.")

    eval_interval: int = Field(100, gt=0, description="Steps between evaluations. Alias: eval_steps.")
    save_interval: int = Field(500, gt=0, description="Steps between checkpoints. Alias: save_steps.")
    logging_steps: int = Field(10, gt=0, description="Steps between log lines (logging.log_interval sets the same).")
    logging_strategy: Literal["no", "steps", "epoch"] = Field("steps", description="When to log.")
    eval_strategy: Literal["no", "steps", "epoch"] | None = Field(
        None, description="When to evaluate. Default: steps for SFT, no for RL."
    )
    save_strategy: Literal["no", "steps", "epoch", "best"] = Field("steps", description="When to save checkpoints.")
    save_total_limit: int | None = Field(None, gt=0, description="Keep at most this many checkpoints.")
    load_best_model_at_end: bool | None = Field(
        None, description="Reload the best checkpoint at the end. Default: true for SFT (when evaluating), false for RL."
    )
    metric_for_best_model: str | None = Field(None, description="Metric of the best checkpoint. Default: eval_loss for SFT.")
    greater_is_better: bool = Field(False, description="Whether a larger metric_for_best_model is better.")
    early_stopping_patience: int | None = Field(None, gt=0, description="Stop after this many evaluations without improvement.")
    early_stopping_threshold: float = Field(0.0, ge=0, description="Minimum improvement that resets patience.")
    resume_from_checkpoint: str | bool | None = Field(
        None, description="Checkpoint folder to resume from, or true for the latest in the output folder."
    )

    dataloader_num_workers: int = Field(0, ge=0, description="Dataloader worker processes.")
    dataloader_drop_last: bool = Field(False, description="Drop the last incomplete batch.")
    remove_unused_columns: bool = Field(False, description="Drop dataset columns the model does not take.")
    group_by_length: bool | None = Field(
        None, description="Batch sequences of similar length. Default: false for SFT, true for RL."
    )
    eval_accumulation_steps: int | None = Field(None, gt=0, description="Evaluation accumulation steps.")
    label_smoothing_factor: float = Field(0.0, ge=0, lt=1, description="Label smoothing of the LM loss.")
    dataset_num_proc: int | None = Field(None, gt=0, description="Processes for dataset mapping.")
    dataset_kwargs: dict[str, Any] = Field(default_factory=dict, description="Extra dataset preparation arguments of the trainer.")
    max_length: int = Field(
        1024, gt=0, description="Longest tokenised sequence (prompt + completion). Default: model.max_seq_length "
        "for SFT, min(1024, model.max_seq_length) for RL."
    )
    max_prompt_length: int = Field(
        512, gt=0, description="Longest prompt; longer prompts are truncated. Default: min(512, max_length // 2)."
    )
    max_target_length: int | None = Field(None, gt=0, description="Longest target (encoder-decoder models).")
    max_completion_length: int = Field(256, gt=0, description="Longest completion (generated or trained on).")
    truncation_mode: Literal["keep_end", "keep_start"] = Field("keep_end", description="Which end of a long prompt is kept.")
    padding_free: bool = Field(False, description="Pack a batch into one row without padding (flash attention).")
    pad_to_multiple_of: int | None = Field(None, gt=0, description="Pad sequences to a multiple of N.")
    packing: bool = Field(False, description="Pack several examples into one sequence (SFT).")
    packing_strategy: Literal["bfd", "wrapped"] = Field("bfd", description="Packing strategy.")
    eval_packing: bool | None = Field(None, description="Pack the evaluation set too (default: as packing).")
    completion_only_loss: bool | None = Field(
        None, description="Loss only on completion tokens of prompt/completion data (default: yes when such data)."
    )
    assistant_only_loss: bool = Field(False, description="Loss only on assistant turns of conversations.")
    loss_type: str | list[str] | None = Field(
        None, description="Loss of the algorithm: SFT nll|dft; DPO sigmoid, hinge, ipo, ... (list for a weighted "
        "mix); GRPO family grpo|bnpo|dr_grpo|dapo. Default chosen by the algorithm."
    )
    activation_offloading: bool = Field(False, description="Offload activations to CPU memory.")
    use_flash_attention_2: bool | None = Field(None, description="Shorthand for model.attn_implementation: flash_attention_2.")
    gradient_checkpointing: bool | None = Field(None, description="Same as model.gradient_checkpointing (set one).")
    gradient_checkpointing_kwargs: dict[str, Any] | None = Field(
        None, description='Gradient checkpointing arguments. Default: {} for SFT, {"use_reentrant": false} for RL.'
    )
    use_trl: bool = Field(False, description="Run on the TRL backend (same as backend: trl).")
    use_liger_kernel: bool = Field(False, description="Use Liger kernels (CUDA).")
    use_liger_loss: bool | None = Field(None, description="Use Liger's fused loss (CUDA).")
