"""AlignTune: one library to post-train language models (SFT, DPO family, reward models, PPO, GRPO,
GSPO, DAPO, Dr. GRPO, NM-GRPO, Meta-ES) behind one configuration system.

This meta-package re-exports the configuration API of ``aligntune_config`` (``UnifiedConfig``,
``ModelConfig``, ``AlgorithmType``, ``BackendType``, ``ConfigLoader``, ...). Names are resolved on first
use, so ``import aligntune`` stays light.

Not built yet (see the project's open issues): trainers and factories (``create_sft_trainer``,
``create_rl_trainer``, ``TrainerFactory``, ``BackendFactory``), data loading, rewards, evaluation and
most of the CLI. They are absent rather than stubbed.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    import aligntune_config

    if name in aligntune_config.__all__:
        value = getattr(aligntune_config, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'aligntune' has no attribute {name!r}")


def __dir__() -> list[str]:
    import aligntune_config

    return sorted({*globals(), *aligntune_config.__all__})
