"""Enumerations of the configuration system.

Every enum accepts its member name or its value as a string, in any case, plus a few documented
spellings (``"dr_grpo"``, ``"Dr. GRPO"``, ``"meta-es"``). Unknown strings raise ``ValueError`` listing
the valid values.
"""

from __future__ import annotations

import re
from enum import Enum
from typing import Any, ClassVar


def _norm(text: str) -> str:
    return re.sub(r"[\s_\-.]+", "", text).lower()


class CaseInsensitiveEnum(str, Enum):
    """A string enum that accepts names, values and registered spellings in any case."""

    _spellings: ClassVar[dict[str, str]]

    @classmethod
    def _missing_(cls, value: Any) -> "CaseInsensitiveEnum | None":
        if isinstance(value, Enum):
            value = value.value
        if not isinstance(value, str):
            return None
        key = _norm(value)
        for member in cls:
            if key in (_norm(member.value), _norm(member.name)):
                return member
        extra = getattr(cls, "_spellings_map", lambda: {})()
        if key in extra:
            return cls(extra[key])
        return None

    @classmethod
    def values(cls) -> list[str]:
        return [m.value for m in cls]

    def __str__(self) -> str:  # "grpo", not "AlgorithmType.GRPO", in messages and files
        return self.value


class AlgorithmType(CaseInsensitiveEnum):
    """The training algorithm of a run."""

    SFT = "sft"
    PPO = "ppo"
    DPO = "dpo"
    GRPO = "grpo"
    GSPO = "gspo"
    DAPO = "dapo"
    DRGRPO = "drgrpo"
    NMGRPO = "nmgrpo"
    META_ES = "meta_es"
    REWARD_MODEL = "reward_model"

    @classmethod
    def _spellings_map(cls) -> dict[str, str]:
        return {
            "drgrpo": "drgrpo",
            "grpodoneright": "drgrpo",
            "neuralmirrorgrpo": "nmgrpo",
            "neuralmirror": "nmgrpo",
            "metaes": "meta_es",
            "rm": "reward_model",
            "reward": "reward_model",
            "rewardmodeling": "reward_model",
            "supervisedfinetuning": "sft",
        }

    @property
    def training_type(self) -> "TrainingType":
        return TrainingType.SFT if self is AlgorithmType.SFT else TrainingType.RL

    @property
    def is_grpo_family(self) -> bool:
        return self in GRPO_FAMILY

    @property
    def is_online(self) -> bool:
        """Algorithms that generate completions during training (and so need a reward)."""
        return self is AlgorithmType.PPO or self in GRPO_FAMILY or self is AlgorithmType.META_ES


GRPO_FAMILY = frozenset(
    {AlgorithmType.GRPO, AlgorithmType.GSPO, AlgorithmType.DAPO, AlgorithmType.DRGRPO, AlgorithmType.NMGRPO}
)


class RLAlgorithm(CaseInsensitiveEnum):
    """The reinforcement-learning algorithms (every AlgorithmType except SFT and reward modelling)."""

    PPO = "ppo"
    DPO = "dpo"
    GRPO = "grpo"
    GSPO = "gspo"
    DAPO = "dapo"
    DRGRPO = "drgrpo"
    NMGRPO = "nmgrpo"
    META_ES = "meta_es"

    @classmethod
    def _spellings_map(cls) -> dict[str, str]:
        return AlgorithmType._spellings_map()


class TrainingType(CaseInsensitiveEnum):
    """Supervised fine-tuning or reinforcement learning (preference optimisation included)."""

    SFT = "sft"
    RL = "rl"


class PrecisionType(CaseInsensitiveEnum):
    """Numeric precision of the model weights and training."""

    BF16 = "bf16"
    FP16 = "fp16"
    FP32 = "fp32"
    AUTO = "auto"

    @classmethod
    def _spellings_map(cls) -> dict[str, str]:
        return {"bfloat16": "bf16", "float16": "fp16", "half": "fp16", "float32": "fp32", "float": "fp32"}


class TaskType(CaseInsensitiveEnum):
    """What a dataset is for. Picks default schema adapters, rewards and metrics."""

    # SFT task types (spec/parameters.md, "Task Types (SFT)")
    INSTRUCTION_FOLLOWING = "instruction_following"
    SUPERVISED_FINE_TUNING = "supervised_fine_tuning"
    TEXT_CLASSIFICATION = "text_classification"
    TOKEN_CLASSIFICATION = "token_classification"
    TEXT_GENERATION = "text_generation"
    CHAT_COMPLETION = "chat_completion"
    # RL task types (spec/unified-rlhf-api.md, "Tasks")
    CONVERSATION = "conversation"
    CLASSIFICATION = "classification"
    SUMMARIZATION = "summarization"
    MATH = "math"
    CODE = "code"

    @classmethod
    def _spellings_map(cls) -> dict[str, str]:
        return {"sft": "supervised_fine_tuning", "chat": "conversation", "instruction": "instruction_following"}


class DistributedBackend(CaseInsensitiveEnum):
    """How training is spread over processes (the spec's BackendType.SINGLE/DDP/FSDP/DEEPSPEED)."""

    SINGLE = "single"
    DDP = "ddp"
    FSDP = "fsdp"
    DEEPSPEED = "deepspeed"


class ExecutionBackend(CaseInsensitiveEnum):
    """Which engine runs the training loop (the spec's BackendType.TRL/UNSLOTH and "auto")."""

    TRL = "trl"
    UNSLOTH = "unsloth"
    AUTO = "auto"


class RewardType(CaseInsensitiveEnum):
    """Names of the reward functions the spec documents. ``RewardConfig.type`` also accepts any
    name registered in the reward registry; this enum only lists the spec's spellings."""

    LENGTH = "length"
    SENTIMENT = "sentiment"
    COHERENCE = "coherence"
    MATH = "math"
    MATH_ACCURACY = "math_accuracy"
    CODE = "code"
    CODE_EXECUTION = "code_execution"
    CODE_QUALITY = "code_quality"
    SAFETY = "safety"
    TOXICITY = "toxicity"
    BIAS = "bias"
    PRIVACY = "privacy"
    HARMFUL_CONTENT = "harmful_content"
    HELPFULNESS = "helpfulness"
    RELEVANCE = "relevance"
    FLUENCY = "fluency"
    FORMALITY = "formality"
    TONE = "tone"
    STRUCTURE = "structure"
    FACTUAL_CORRECTNESS = "factual_correctness"
    ACCURACY = "accuracy"
    CUSTOM = "custom"


class BackendTypeMeta(type):
    """Lets ``BackendType.SINGLE`` and ``BackendType.TRL`` both work, as in the spec, while the two
    meanings stay two distinct enums (:class:`DistributedBackend` and :class:`ExecutionBackend`)."""

    def __getattr__(cls, name: str) -> Enum:
        for enum_cls in (DistributedBackend, ExecutionBackend):
            if name in enum_cls.__members__:
                return enum_cls[name]
        valid = list(DistributedBackend.__members__) + list(ExecutionBackend.__members__)
        raise AttributeError(f"BackendType has no member {name!r}; valid: {', '.join(valid)}")

    def __iter__(cls):
        yield from DistributedBackend
        yield from ExecutionBackend

    def __call__(cls, value: Any) -> Enum:
        for enum_cls in (DistributedBackend, ExecutionBackend):
            try:
                return enum_cls(value)
            except ValueError:
                continue
        valid = DistributedBackend.values() + ExecutionBackend.values()
        raise ValueError(f"{value!r} is not a BackendType; valid: {', '.join(valid)}")


class BackendType(metaclass=BackendTypeMeta):
    """Compatibility name of the spec. ``BackendType.SINGLE`` is ``DistributedBackend.SINGLE`` and
    ``BackendType.TRL`` is ``ExecutionBackend.TRL``; ``BackendType("ddp")`` finds the right enum."""
