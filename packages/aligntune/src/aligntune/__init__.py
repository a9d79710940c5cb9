"""AlignTune: one library to post-train language models (SFT, DPO family, reward models, PPO, GRPO,
GSPO, DAPO, Dr. GRPO, NM-GRPO, Meta-ES) behind one configuration system.

This meta-package re-exports the configuration API of ``aligntune_config`` (``UnifiedConfig``,
``ModelConfig``, ``AlgorithmType``, ``BackendType``, ``ConfigLoader``, ...). Names are resolved on first
use, so ``import aligntune`` stays light.

Trainer factories: ``create_sft_trainer``, ``create_rl_trainer``, ``TrainerFactory`` and
``BackendFactory`` (also at ``aligntune.core.backend_factory``) build trainers for SFT, DPO, reward
models, PPO, GRPO, GSPO, Dr. GRPO, DAPO, NM-GRPO and Meta-ES, on the TRL engine or (with CUDA and the
``unsloth`` extra) the Unsloth engine. Not built yet: resuming PPO runs (their checkpoints hold weights only).

Registries (views over ``aligntune_config.registry``): ``DatasetRegistry``, ``RewardRegistry``,
``TaskRegistry``. Utilities: ``UnifiedLogger`` (logging setup, metrics to console/JSONL/TensorBoard/W&B),
``UnifiedEvaluator`` (aligntune-eval), ``DatasetCache`` (aligntune-data), ``RolloutEngine`` (batched
sampling and scoring). Model wrappers: ``PolicyModel``, ``ReferenceModel``, ``ValueModel``. Task types:
``TaskDefinition`` (see docs/tasks.md and docs/api.md).
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"


_FACTORIES = {"create_sft_trainer", "create_rl_trainer", "TrainerFactory", "BackendFactory", "BackendConfig"}
# name -> module that defines it (imported on first use)
_LAZY = {
    "DatasetRegistry": "aligntune.registries", "RewardRegistry": "aligntune.registries",
    "TaskRegistry": "aligntune.registries", "UnifiedLogger": "aligntune.logger",
    "UnifiedEvaluator": "aligntune_eval", "DatasetCache": "aligntune_data",
    "RolloutEngine": "aligntune.rollout", "RolloutBatch": "aligntune.rollout",
    "PolicyModel": "aligntune.wrappers", "ReferenceModel": "aligntune.wrappers", "ValueModel": "aligntune.wrappers",
    "TaskDefinition": "aligntune.tasks",
}


def __getattr__(name: str) -> Any:
    import aligntune_config

    if name in _FACTORIES:
        from .core import backend_factory

        value = getattr(backend_factory, name)
        globals()[name] = value
        return value
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    if name in aligntune_config.__all__:
        value = getattr(aligntune_config, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'aligntune' has no attribute {name!r}")


def __dir__() -> list[str]:
    import aligntune_config

    return sorted({*globals(), *aligntune_config.__all__, *_FACTORIES, *_LAZY})
