"""TrainingConfig: the ``train:`` section. One class for every algorithm; fields that an algorithm
does not use are rejected for it by its AlgorithmSpec when set, never silently ignored."""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import Field, field_validator

from .training_common import CommonTrainingFields

RESERVED_SPEC_FIELDS = {
    "grpo_alpha": 0.1,
    "grpo_beta": 0.1,
    "gspo_gamma": 0.1,
    "gspo_delta": 0.1,
}
"""Fields the spec lists without a definition in any paper. They are accepted with their spec default;
any other value is rejected, pointing at the parameters that do the job (see docs/configuration.md)."""


class TrainingConfig(CommonTrainingFields):
    """Training parameters (``train:``)."""

    _aliases: ClassVar[dict[str, str]] = {
        **CommonTrainingFields._aliases,
        "ppo_epochs": "num_ppo_epochs",
        "kl_penalty": "kl_estimator",
        "epsilon": "cliprange",
        "generations_per_prompt": "num_generations",
    }

    # --- online RL: rollouts -------------------------------------------------------------------
    rollout_batch_size: int = Field(1, gt=0, description="Prompts per rollout batch (PPO).")
    temperature: float = Field(0.6, gt=0, description="Sampling temperature of rollouts.")
    top_p: float = Field(0.95, gt=0, le=1, description="Nucleus sampling of rollouts.")
    top_k: int | None = Field(None, gt=0, description="Top-k sampling of rollouts (unset: no top-k).")
    response_length: int = Field(128, gt=0, description="Tokens generated per PPO response.")
    stop_token: str | None = Field("eos", description='Stop generating at this token ("eos" = the tokenizer\'s EOS).')
    missing_eos_penalty: float | None = Field(
        1.0, ge=0, description="Subtracted from the reward of a response that does not end with the stop token."
    )
    generation_kwargs: dict[str, Any] | None = Field(None, description="Extra generate() arguments for rollouts.")
    ds3_gather_for_generation: bool = Field(True, description="Gather ZeRO-3 weights for generation.")
    use_vllm: bool = Field(False, description="Generate rollouts with vLLM (CUDA, vllm installed).")
    vllm_mode: Literal["colocate", "server"] = Field("colocate", description="vLLM in the training process or a server.")
    vllm_server_base_url: str | None = Field(None, description="URL of a `trl vllm-serve` server (server mode).")
    vllm_gpu_memory_utilization: float = Field(0.7, gt=0, le=1, description="GPU memory share of vLLM.")
    fast_inference: bool = Field(False, description="Unsloth's vLLM generation (Unsloth backend).")
    enable_thinking: bool = Field(False, description="Qwen3 thinking mode in the chat template.")

    # --- PPO -----------------------------------------------------------------------------------
    num_ppo_epochs: int | None = Field(None, gt=0, description="PPO epochs per rollout batch. Alias: ppo_epochs. Default 4.")
    cliprange: float = Field(0.2, gt=0, description="Policy ratio clip ε (PPO and GRPO family; ε_low for DAPO).")
    cliprange_value: float = Field(0.2, gt=0, description="Value clip range (PPO).")
    vf_coef: float = Field(0.1, ge=0, description="Value loss coefficient (PPO).")
    ent_coef: float = Field(0.0, ge=0, description="Entropy bonus coefficient (PPO).")
    gamma: float = Field(1.0, ge=0, le=1, description="Discount factor (PPO GAE).")
    lam: float = Field(0.95, ge=0, le=1, description="GAE lambda (PPO).")
    whiten_rewards: bool = Field(False, description="Whiten rewards before GAE (PPO).")
    whiten_advantages: bool = Field(True, description="Whiten advantages (PPO).")
    kl_coef: float = Field(0.1, ge=0, description="KL penalty coefficient β (fixed; PPO without adaptive control, GRPO family).")
    kl_estimator: Literal["k1", "k2", "k3"] = Field("k1", description="KL estimator: k1 log-ratio, k2 squared, k3 unbiased.")
    adap_kl_ctrl: bool = Field(True, description="Adaptive KL controller (PPO): start at init_kl_coef, aim at target_kl.")
    init_kl_coef: float = Field(0.2, ge=0, description="Initial KL coefficient of the adaptive controller (PPO).")
    target_kl: float = Field(0.01, gt=0, description="Target KL of the adaptive controller (PPO).")
    kl_horizon: int = Field(10000, gt=0, description="Horizon of the adaptive KL controller (PPO).")

    # --- DPO family ----------------------------------------------------------------------------
    beta: float = Field(0.1, gt=0, description="DPO β (inverse temperature of the implicit reward).")
    loss_weights: dict[str, float] | list[float] | None = Field(
        None, description="Weights of the losses when loss_type is a list (mapping loss -> weight, or a list)."
    )
    f_divergence_type: Literal["reverse_kl", "forward_kl", "js_divergence", "alpha_divergence"] = Field(
        "reverse_kl", description="f-divergence of the DPO objective."
    )
    f_alpha_divergence_coef: float = Field(1.0, gt=0, description="α of the alpha divergence.")
    reference_free: bool = Field(False, description="DPO without a reference model.")
    label_smoothing: float = Field(0.0, ge=0, le=0.5, description="Conservative DPO / robust label smoothing.")
    use_weighting: bool = Field(False, description="WPO importance weighting.")
    rpo_alpha: float | None = Field(None, ge=0, description="RPO: weight of the NLL term on chosen.")
    ld_alpha: float | None = Field(None, ge=0, le=1, description="LD-DPO verbosity weight.")
    discopop_tau: float = Field(0.05, gt=0, description="τ of the DiscoPOP loss.")
    precompute_ref_log_probs: bool = Field(False, description="Compute reference log-probs once before training.")
    precompute_ref_batch_size: int | None = Field(None, gt=0, description="Batch size of that precomputation.")
    sync_ref_model: bool = Field(False, description="TR-DPO: mix the policy into the reference model periodically.")
    ref_model_mixup_alpha: float = Field(0.6, ge=0, le=1, description="TR-DPO mixing α.")
    ref_model_sync_steps: int = Field(512, gt=0, description="Steps between reference syncs.")

    # --- GRPO family ---------------------------------------------------------------------------
    num_generations: int | None = Field(
        None, gt=0, description="Completions per prompt (group size G). Default: the effective batch size "
        "(per_device_batch_size x gradient_accumulation_steps x processes)."
    )
    num_iterations: int = Field(1, gt=0, description="Policy updates per generation batch (μ).")
    scale_rewards: Literal["group", "batch", "none"] = Field(
        "group", description="Divide advantages by the std of the group, of the batch, or not at all (Dr. GRPO)."
    )
    mask_truncated_completions: bool = Field(
        True, description="Leave truncated completions out of the loss (DAPO's overlong filtering)."
    )
    reward_weights: list[float] | None = Field(None, description="Weights of the rewards, in order (same as rewards[i].weight).")
    epsilon_high: float | None = Field(
        None, gt=0, description="Upper clip ε_high (DAPO clip-higher). Default: 0.28 for DAPO, = cliprange otherwise."
    )
    dynamic_sampling: bool | None = Field(
        None, description="Drop groups whose rewards are all equal and refill the batch (DAPO). Default: on for DAPO."
    )
    max_resample_batches: int = Field(
        3, ge=1, description="Generation batches dynamic sampling may draw to fill one training batch."
    )
    overlong_buffer_length: int | None = Field(
        None, gt=0, description="DAPO soft overlong punishment: length of the buffer before max_completion_length "
        "in which the penalty grows linearly. Default: max_completion_length // 4 for DAPO, off otherwise."
    )
    overlong_penalty_factor: float = Field(1.0, ge=0, description="Largest soft overlong penalty.")
    gspo_clip_low: float = Field(3e-4, gt=0, description="GSPO: lower clip of the sequence-level ratio.")
    gspo_clip_high: float = Field(4e-4, gt=0, description="GSPO: upper clip of the sequence-level ratio.")
    grpo_alpha: float = Field(0.1, description="Spec parameter without a definition; only its default is accepted.")
    grpo_beta: float = Field(0.1, description="Spec parameter without a definition; only its default is accepted (use kl_coef).")
    gspo_gamma: float = Field(0.1, description="Spec parameter without a definition; only its default is accepted.")
    gspo_delta: float = Field(0.1, description="Spec parameter without a definition; only its default is accepted.")

    @field_validator("scale_rewards", mode="before")
    @classmethod
    def _scale_rewards_bool(cls, value: Any) -> Any:
        if value is True:
            return "group"
        if value is False or value is None:
            return "none"
        return value.lower() if isinstance(value, str) else value

    @field_validator("loss_type", mode="before")
    @classmethod
    def _loss_type_lower(cls, value: Any) -> Any:
        if isinstance(value, str):
            return value.strip().lower()
        if isinstance(value, list):
            return [v.strip().lower() if isinstance(v, str) else v for v in value]
        return value

    @property
    def effective_batch_per_process(self) -> int:
        return self.per_device_batch_size * self.gradient_accumulation_steps
