"""Reward configuration: reward functions, and reward models (pretrained or trained by AlignTune)."""

from __future__ import annotations

import math
from typing import Any, ClassVar, Literal

from pydantic import Field, field_serializer, field_validator, model_validator

from ._base import StrictModel, callable_path
from .enums import RewardType


class RewardConfig(StrictModel):
    """One reward function with its weight and post-processing.

    The total reward of a completion is ``sum(weight_i * post_i(raw_i))`` where ``post_i`` applies, in
    order, ``normalize`` (running mean/std) and ``clip``. A ``shield`` reward is a safety gate: when it
    fails, the total is floored (see the rewards package docs).
    """

    _aliases: ClassVar[dict[str, str]] = {"reward_type": "type", "name": "type"}

    type: str = Field(
        ..., min_length=1, description="Reward name from the reward registry (`aligntune list rewards`), or "
        "`custom` with params.reward_function. Alias: reward_type (RewardType values accepted)."
    )
    weight: float = Field(1.0, description="Weight of this reward in the total.")
    params: dict[str, Any] = Field(default_factory=dict, description="Parameters of the reward function.")
    shield: bool = Field(False, description="Safety gate: a failing score floors the total reward.")
    clip: float | None = Field(None, gt=0, description="Clip this reward's values to [-clip, clip].")
    normalize: bool = Field(False, description="Normalise with a running mean and standard deviation.")
    model_name: str | None = Field(
        None, description="Classifier model for model-based rewards (switches heuristic rewards to a model)."
    )
    device: str = Field("auto", description="Device for model-based rewards (auto, cpu, cuda, cuda:N).")
    cache_dir: str | None = Field(None, description="Cache directory for reward models.")

    @model_validator(mode="before")
    @classmethod
    def _from_spec_string(cls, data: Any) -> Any:
        if isinstance(data, str):
            from .spec_strings import parse_reward_spec

            return parse_reward_spec(data)
        return data

    def to_spec(self) -> str:
        """This reward as a spec string."""
        from .spec_strings import format_reward_spec

        return format_reward_spec(self)

    @field_validator("type", mode="before")
    @classmethod
    def _type_name(cls, value: Any) -> Any:
        if isinstance(value, RewardType):
            return value.value
        if isinstance(value, str):
            return value.strip().lower().replace("-", "_")
        return value

    @field_validator("weight")
    @classmethod
    def _finite(cls, value: float) -> float:
        if not math.isfinite(value):
            raise ValueError(f"must be a finite number, got {value}")
        return value

    @model_validator(mode="after")
    def _custom_needs_function(self) -> "RewardConfig":
        if self.type == "custom" and "reward_function" not in self.params:
            raise ValueError(
                "a custom reward needs params.reward_function: a callable fn(text, reference=None, **kw) -> float "
                "or its import path 'module:function'"
            )
        return self

    @field_serializer("params")
    def _serialize_params(self, params: dict[str, Any]) -> dict[str, Any]:
        return {k: callable_path(v) if callable(v) else v for k, v in params.items()}


class RewardModelTrainingConfig(StrictModel):
    """Train a reward model with AlignTune: from texts scored by reward functions (regression), or from
    a preference dataset (pairwise Bradley-Terry) when ``preference_dataset`` is given."""

    base_model_name: str = Field(..., min_length=1, description="Model the reward model starts from.")
    training_texts: list[str] | None = Field(
        None, description="Texts to score with reward_functions and regress on (at least 10)."
    )
    reward_functions: list[str] = Field(
        default_factory=list, description="Reward names (or spec strings) that label training_texts."
    )
    output_dir: str = Field(..., min_length=1, description="Where the trained reward model is saved.")
    reference_texts: list[str] | None = Field(None, description="References passed to the reward functions.")
    reward_weights: list[float] | None = Field(None, description="Weights of reward_functions (default all 1).")
    preference_dataset: str | None = Field(
        None, description="Dataset spec of prompt/chosen/rejected pairs for pairwise training."
    )
    num_epochs: int = Field(3, gt=0, description="Training epochs.")
    learning_rate: float = Field(1e-5, gt=0, description="Learning rate.")
    batch_size: int = Field(8, gt=0, description="Batch size.")
    gradient_accumulation_steps: int = Field(4, gt=0, description="Gradient accumulation steps.")
    max_length: int = Field(512, gt=0, description="Max sequence length.")

    @model_validator(mode="after")
    def _consistent(self) -> "RewardModelTrainingConfig":
        problems = []
        if self.preference_dataset is None:
            if not self.training_texts or len(self.training_texts) < 10:
                got = len(self.training_texts or [])
                problems.append(f"training_texts needs at least 10 texts (got {got}), or give preference_dataset")
            if not self.reward_functions:
                problems.append("reward_functions must name at least one reward to label training_texts")
        if self.reward_weights is not None and len(self.reward_weights) != len(self.reward_functions):
            problems.append(
                f"reward_weights has {len(self.reward_weights)} values for {len(self.reward_functions)} reward_functions"
            )
        if self.reference_texts is not None and self.training_texts is not None and len(
            self.reference_texts
        ) != len(self.training_texts):
            problems.append(
                f"reference_texts has {len(self.reference_texts)} texts for {len(self.training_texts)} training_texts"
            )
        if problems:
            raise ValueError("; ".join(problems))
        return self


class RewardModelSourceConfig(StrictModel):
    """Where a reward model comes from."""

    source_type: Literal["pretrained_hf", "pretrained_local", "custom_trained"] = Field(
        ..., description="pretrained_hf (model_name), pretrained_local (model_path) or custom_trained (training_config)."
    )
    model_name: str | None = Field(None, description="Hub id (pretrained_hf).")
    model_path: str | None = Field(None, description="Local folder (pretrained_local).")
    training_config: RewardModelTrainingConfig | None = Field(None, description="How to train it (custom_trained).")
    fine_tune_with_rewards: bool = Field(False, description="Fine-tune a pretrained reward model on reward-function scores.")

    @model_validator(mode="after")
    def _source_fields(self) -> "RewardModelSourceConfig":
        needs = {"pretrained_hf": "model_name", "pretrained_local": "model_path", "custom_trained": "training_config"}
        field = needs[self.source_type]
        if getattr(self, field) is None:
            raise ValueError(f"source_type {self.source_type!r} needs {field}")
        if self.fine_tune_with_rewards and self.training_config is None:
            raise ValueError("fine_tune_with_rewards needs training_config (which reward functions, which texts)")
        return self
