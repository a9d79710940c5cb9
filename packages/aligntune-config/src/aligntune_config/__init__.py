"""aligntune-config: the typed configuration of AlignTune, its loaders, spec strings, the interfaces the
other AlignTune packages implement, and the registries that find them. Imports no torch.

Names are imported on first use (PEP 562), so ``import aligntune_config`` costs a few milliseconds and
pydantic is loaded only when a configuration class is touched.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS: dict[str, str] = {
    # configuration sections
    "UnifiedConfig": "unified", "TaskConfig": "unified", "CachingConfig": "unified",
    "ModelConfig": "model", "QuantizationConfig": "model",
    "DatasetConfig": "dataset",
    "TrainingConfig": "training",
    "RewardConfig": "rewards", "RewardModelTrainingConfig": "rewards", "RewardModelSourceConfig": "rewards",
    "DistributedConfig": "distributed",
    "LoggingConfig": "logging_config", "SampleLoggingConfig": "logging_config",
    "EvaluationConfig": "evaluation",
    "MetaESConfig": "meta_es", "NeuralMirrorConfig": "meta_es",
    # enums
    "AlgorithmType": "enums", "BackendType": "enums", "DistributedBackend": "enums", "ExecutionBackend": "enums",
    "PrecisionType": "enums", "RewardType": "enums", "RLAlgorithm": "enums", "TaskType": "enums",
    "TrainingType": "enums",
    # loading, errors, spec strings
    "ConfigLoader": "loader", "SFTConfigLoader": "loader",
    "ConfigIssue": "errors", "ConfigValidationError": "errors", "SpecStringError": "errors",
    "parse_dataset_spec": "spec_strings", "format_dataset_spec": "spec_strings",
    "parse_reward_spec": "spec_strings", "format_reward_spec": "spec_strings",
    # interfaces and registries
    "AlgorithmSpec": "interfaces", "Availability": "interfaces", "Backend": "interfaces",
    "DatasetSource": "interfaces", "Detection": "interfaces", "Metric": "interfaces", "ModelSource": "interfaces",
    "RewardFunction": "interfaces", "SchemaAdapter": "interfaces", "Trainer": "interfaces",
    "Registry": "registry", "UnknownComponentError": "registry", "ComponentLoadError": "registry",
    "export_json_schema": "schema", "render_reference": "schema",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'aligntune_config' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])


if TYPE_CHECKING:  # for type checkers and IDEs
    from .dataset import DatasetConfig
    from .distributed import DistributedConfig
    from .enums import (AlgorithmType, BackendType, DistributedBackend, ExecutionBackend, PrecisionType,
                        RewardType, RLAlgorithm, TaskType, TrainingType)
    from .errors import ConfigIssue, ConfigValidationError, SpecStringError
    from .evaluation import EvaluationConfig
    from .interfaces import (AlgorithmSpec, Availability, Backend, DatasetSource, Detection, Metric, ModelSource,
                             RewardFunction, SchemaAdapter, Trainer)
    from .loader import ConfigLoader, SFTConfigLoader
    from .logging_config import LoggingConfig, SampleLoggingConfig
    from .meta_es import MetaESConfig, NeuralMirrorConfig
    from .model import ModelConfig, QuantizationConfig
    from .registry import ComponentLoadError, Registry, UnknownComponentError
    from .rewards import RewardConfig, RewardModelSourceConfig, RewardModelTrainingConfig
    from .schema import export_json_schema, render_reference
    from .spec_strings import format_dataset_spec, format_reward_spec, parse_dataset_spec, parse_reward_spec
    from .training import TrainingConfig
    from .unified import CachingConfig, TaskConfig, UnifiedConfig
