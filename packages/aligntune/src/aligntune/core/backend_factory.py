"""``aligntune.core.backend_factory`` (the spec's path): create_sft_trainer, create_rl_trainer,
TrainerFactory and BackendFactory. Every entry resolves to one UnifiedConfig (see ConfigLoader) and
then to a trainer through :func:`aligntune.run.build_trainer`."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aligntune_config import (AlgorithmType, ConfigIssue, ConfigLoader, ConfigValidationError, DistributedBackend,
                              ExecutionBackend, RLAlgorithm, TrainingType, UnifiedConfig)

from ..run import build_trainer

ConfigSource = str | Path | dict | UnifiedConfig | None


def _resolve(config: ConfigSource, default_algo: str | None, overrides: dict[str, Any]) -> UnifiedConfig:
    return ConfigLoader.from_kwargs(config, default_algo=default_algo, **overrides)


def create_sft_trainer(config: ConfigSource = None, *, backend: str | None = None, **kwargs: Any) -> Any:
    """An SFT trainer from a config (object, mapping or YAML/JSON path) and/or keyword arguments
    (``model_name=..., dataset_name=..., batch_size=...``); keywords override the config."""
    overrides = dict(kwargs)
    if backend is not None:
        overrides["backend"] = backend
    resolved = _resolve(config, "sft", overrides)
    if resolved.algo is not AlgorithmType.SFT:
        raise ConfigValidationError([ConfigIssue("algo", f"create_sft_trainer trains sft, got {resolved.algo.value}; "
                                                 "use create_rl_trainer")])
    return build_trainer(resolved)


def create_rl_trainer(config: ConfigSource = None, *, algorithm: str | None = None, backend: str | None = None,
                      **kwargs: Any) -> Any:
    """An RL trainer (dpo, ppo, grpo, gspo, dapo, drgrpo, nmgrpo, meta_es, reward_model) from a config
    and/or keyword arguments; keywords (algorithm and backend included) override the config."""
    overrides = dict(kwargs)
    if algorithm is not None:
        overrides["algo"] = algorithm
    if backend is not None:
        overrides["backend"] = backend
    resolved = _resolve(config, None, overrides)
    if resolved.algo is AlgorithmType.SFT:
        raise ConfigValidationError([ConfigIssue("algo", "create_rl_trainer trains RL algorithms; use create_sft_trainer for sft")])
    return build_trainer(resolved)


class TrainerFactory:
    """``TrainerFactory.create_trainer(config)``: the trainer a UnifiedConfig describes."""

    @staticmethod
    def create_trainer(config: ConfigSource, **overrides: Any) -> Any:
        return build_trainer(_resolve(config, None, overrides))


@dataclass
class BackendConfig:
    """Which training type, engine and algorithm to use (the spec's BackendFactory input). ``backend``
    takes an execution backend (trl, unsloth, auto); a distribution strategy (single, ddp, ...) belongs
    in ``UnifiedConfig.distributed``."""

    training_type: TrainingType | str
    backend: ExecutionBackend | str = ExecutionBackend.AUTO
    algorithm: RLAlgorithm | AlgorithmType | str | None = None

    def __post_init__(self) -> None:
        self.training_type = TrainingType(self.training_type)
        if isinstance(self.backend, DistributedBackend) or str(self.backend).lower() in DistributedBackend.values():
            raise ValueError(f"BackendConfig.backend is the execution engine (trl, unsloth, auto), got "
                             f"{self.backend}; set distribution in UnifiedConfig.distributed")
        self.backend = ExecutionBackend(self.backend)
        if self.algorithm is not None:
            self.algorithm = AlgorithmType(getattr(self.algorithm, "value", self.algorithm))
        if self.training_type is TrainingType.SFT:
            self.algorithm = AlgorithmType.SFT
        elif self.algorithm is None:
            raise ValueError("BackendConfig(training_type='rl') needs an algorithm")


class BackendFactory:
    """``BackendFactory.create_trainer(config, BackendConfig(...))``."""

    @staticmethod
    def create_trainer(config: ConfigSource, backend_config: BackendConfig) -> Any:
        overrides = {"backend": backend_config.backend.value, "algo": backend_config.algorithm.value}
        return build_trainer(_resolve(config, None, overrides))


__all__ = ["BackendConfig", "BackendFactory", "TrainerFactory", "create_rl_trainer", "create_sft_trainer"]
