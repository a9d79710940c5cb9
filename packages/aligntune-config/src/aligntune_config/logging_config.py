"""LoggingConfig and SampleLoggingConfig: where outputs go, what is logged, and sample generations."""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import Field, SecretStr, field_validator, model_validator

from ._base import StrictModel

LOGGERS = ("tensorboard", "wandb", "jsonl")


class SampleLoggingConfig(StrictModel):
    """Generate from fixed prompts during training and log the samples (logs and samples.jsonl)."""

    enabled: bool = Field(False, description="Turn sample logging on.")
    prompts: list[str] | None = Field(None, description="Prompts to sample (default: the first prompts of the eval data).")
    interval_steps: int | None = Field(None, gt=0, description="Steps between samples.")
    percent_of_max_steps: float | None = Field(None, gt=0, le=1, description="Sample every this fraction of max_steps.")
    max_new_tokens: int = Field(80, gt=0, description="Tokens generated per sample.")
    temperature: float = Field(0.6, ge=0, description="Sampling temperature (0 = greedy).")
    top_p: float = Field(0.9, gt=0, le=1, description="Nucleus sampling.")
    num_samples: int = Field(3, gt=0, description="Samples per prompt.")

    @model_validator(mode="after")
    def _schedule(self) -> "SampleLoggingConfig":
        if self.interval_steps is not None and self.percent_of_max_steps is not None:
            raise ValueError("give interval_steps or percent_of_max_steps, not both")
        return self


class LoggingConfig(StrictModel):
    """Outputs and experiment tracking (``logging:``)."""

    _aliases: ClassVar[dict[str, str]] = {"level": "log_level", "report_to": "loggers"}

    output_dir: str = Field("./output", min_length=1, description="Folder of checkpoints, the final model and logs.")
    run_name: str | None = Field(None, description="Name of the run (default: algorithm-model-time).")
    loggers: list[str] = Field(
        default_factory=lambda: ["tensorboard"],
        description='Trackers: tensorboard, wandb, jsonl; [] or "none" for none. Alias: report_to.',
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = Field("INFO", description="Log level. Alias: level.")
    log_interval: int | None = Field(None, gt=0, description="Same as train.logging_steps (set one of them).")
    save_strategy: Literal["no", "steps", "epoch", "best"] | None = Field(None, description="Same as train.save_strategy.")
    eval_strategy: Literal["no", "steps", "epoch"] | None = Field(None, description="Same as train.eval_strategy.")
    save_steps: int | None = Field(None, gt=0, description="Same as train.save_interval.")
    eval_steps: int | None = Field(None, gt=0, description="Same as train.eval_interval.")
    logging_dir: str | None = Field(None, description="TensorBoard folder (default: <output_dir>/logs).")
    disable_tqdm: bool = Field(False, description="Hide progress bars.")
    push_to_hub: bool = Field(False, description="Push the final model to the Hugging Face Hub.")
    hub_model_id: str | None = Field(None, description="Hub repository id (user/name).")
    hub_token: SecretStr | None = Field(None, description="Hub token (never written to files or logs; or set HF_TOKEN).")
    hub_private_repo: bool = Field(False, description="Create the Hub repository as private.")
    wandb_project: str | None = Field(None, description="W&B project (default: aligntune).")
    wandb_entity: str | None = Field(None, description="W&B entity.")
    wandb_mode: Literal["online", "offline", "disabled"] | None = Field(None, description="W&B mode (WANDB_MODE).")
    wandb_api_key: SecretStr | None = Field(None, description="W&B key (never written to files or logs; or set WANDB_API_KEY).")
    sample_logging: SampleLoggingConfig = Field(default_factory=SampleLoggingConfig, description="Sample generations during training.")

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value

    @field_validator("loggers", mode="before")
    @classmethod
    def _loggers(cls, value: Any) -> Any:
        if value is None:
            return []
        if isinstance(value, str):
            value = [v for v in value.replace(",", " ").split() if v]
        if isinstance(value, (list, tuple)):
            names = [str(v).strip().lower() for v in value]
            if names in (["none"], ["no"]):
                return []
            unknown = [n for n in names if n not in LOGGERS and n not in ("none",)]
            if unknown:
                raise ValueError(f"unknown logger(s) {unknown}; valid: {', '.join(LOGGERS)} or none")
            return [n for n in names if n != "none"]
        return value

    @model_validator(mode="after")
    def _hub(self) -> "LoggingConfig":
        if self.push_to_hub and not self.hub_model_id:
            raise ValueError("push_to_hub needs hub_model_id (user/name)")
        return self
