"""UnifiedConfig: one resolved configuration for every algorithm, backend and entry point."""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import Field, field_validator, model_validator

from ._base import StrictModel
from .dataset import DatasetConfig
from .distributed import DistributedConfig
from .enums import AlgorithmType, ExecutionBackend, TaskType
from .evaluation import EvaluationConfig
from .logging_config import LoggingConfig
from .meta_es import MetaESConfig, NeuralMirrorConfig
from .model import ModelConfig
from .rewards import RewardConfig
from .training import TrainingConfig


class TaskConfig(StrictModel):
    """A task of a multi-task run: its name picks default adapters, rewards and metrics."""

    name: TaskType = Field(..., description="conversation, classification, summarization, math, code, ...")
    weight: float = Field(1.0, gt=0, description="Share of this task in the mix.")
    rewards: list[str] | None = Field(None, description="Reward specs of this task (default: the task's own).")
    metrics: list[str] | None = Field(None, description="Metric names of this task (default: the task's own).")


class CachingConfig(StrictModel):
    """Dataset cache (``caching:``)."""

    enabled: bool = Field(True, description="Cache processed datasets.")
    root: str = Field("./cache", min_length=1, description="Cache folder.")
    max_size_gb: float | None = Field(None, gt=0, description="Cleanup trims the cache to this size.")
    max_age_days: float | None = Field(None, gt=0, description="Cleanup removes entries older than this.")


class UnifiedConfig(StrictModel):
    """The whole configuration of a run (see docs/configuration.md for every field)."""

    model_config = {**StrictModel.model_config, "validate_assignment": False}
    _aliases: ClassVar[dict[str, str]] = {"algorithm": "algo", "dataset": "datasets", "training": "train",
                                          "eval_dataset": "eval_datasets"}

    algo: AlgorithmType = Field(..., description="sft, dpo, ppo, grpo, gspo, dapo, drgrpo, nmgrpo, meta_es, reward_model.")
    backend: ExecutionBackend = Field(ExecutionBackend.AUTO, description="Execution engine: trl, unsloth or auto.")
    model: ModelConfig = Field(..., description="The model and how it is loaded.")
    datasets: list[DatasetConfig] = Field(..., min_length=1, description="One or more datasets (mixed by weight).")
    eval_datasets: list[DatasetConfig] = Field(
        default_factory=list, description="Evaluation data (spec strings or dataset configs), mixed like datasets. "
        "Without it (and without evaluation.holdout_fraction) evaluation during training is off by default."
    )
    train: TrainingConfig = Field(default_factory=TrainingConfig, description="Training parameters.")
    rewards: list[RewardConfig] = Field(default_factory=list, description="Reward functions (online RL).")
    tasks: list[TaskConfig] = Field(default_factory=list, description="Task definitions of a multi-task run.")
    distributed: DistributedConfig = Field(default_factory=DistributedConfig, description="Parallelism.")
    logging: LoggingConfig = Field(default_factory=LoggingConfig, description="Outputs and tracking.")
    evaluation: EvaluationConfig = Field(default_factory=EvaluationConfig, description="Evaluation metrics.")
    mirror: NeuralMirrorConfig = Field(default_factory=NeuralMirrorConfig, description="NM-GRPO mirror map.")
    meta_es: MetaESConfig = Field(default_factory=MetaESConfig, description="Meta-ES outer loop.")
    chat_template: str | None = Field(
        None, description="Chat template for every dataset without its own: 'auto' (the tokenizer's), a named "
        "template, or a Jinja string."
    )
    caching: CachingConfig = Field(default_factory=CachingConfig, description="Dataset cache.")

    @field_validator("datasets", "eval_datasets", "rewards", "tasks", mode="before")
    @classmethod
    def _one_to_list(cls, value: Any) -> Any:
        if value is None:
            return []
        if isinstance(value, (str, dict)) or isinstance(value, StrictModel):
            return [value]
        return value

    @field_validator("tasks", mode="before")
    @classmethod
    def _task_names(cls, value: Any) -> Any:
        if isinstance(value, list):
            return [{"name": v} if isinstance(v, str) else v for v in value]
        return value

    @model_validator(mode="before")
    @classmethod
    def _mirror_keys_in_meta_es(cls, data: Any) -> Any:
        """The spec lists mirror_coefficient and init_scale among Meta-ES parameters; accept them there."""
        if isinstance(data, dict) and isinstance(data.get("meta_es"), dict):
            meta = dict(data["meta_es"])
            moved = {k: meta.pop(k) for k in ("mirror_coefficient", "init_scale") if k in meta}
            if moved:
                mirror = data.get("mirror") or {}
                if isinstance(mirror, dict):
                    for key, value in moved.items():
                        if key in mirror and mirror[key] != value:
                            raise ValueError(f"meta_es.{key} and mirror.{key} are both given with different values")
                    data = {**data, "meta_es": meta, "mirror": {**mirror, **moved}}
        return data

    @model_validator(mode="after")
    def _resolve(self) -> "UnifiedConfig":
        from .resolve import resolve_in_place

        resolve_in_place(self)
        return self

    @property
    def has_eval_data(self) -> bool:
        return bool(self.eval_datasets) or self.evaluation.holdout_fraction is not None

    @property
    def training_type(self):
        return self.algo.training_type

    @property
    def world_size(self) -> int:
        return self.distributed.world_size

    @property
    def effective_batch_size(self) -> int:
        return self.train.effective_batch_per_process * self.world_size
