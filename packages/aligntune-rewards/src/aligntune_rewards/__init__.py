"""Reward functions (rule-based and model-based) for AlignTune RL training.

``get_reward(name_or_spec_or_config)`` returns a RewardFunction (``fn(completions, *, prompts=None,
references=None, **columns) -> list[float]``); ``list_rewards()`` names them all; ``CompositeReward``
combines several with weights, clipping, normalisation and safety shields. Importing this package
registers the built-ins in ``aligntune_config.registry.REWARDS`` and imports neither torch nor
transformers (model-based rewards load them on first call).
"""

from __future__ import annotations

from .base import Reward, to_text
from .composite import CompositeReward, RunningStats
from .factory import CustomReward, FunctionReward, build_reward, function_style, get_reward, list_rewards
from .factory import register_builtins as _register
from .rewards import code, formatting, math, models, quality, reference, safety, style, text

__version__ = "0.1.0"

BUILTIN_MODULES = (text, style, quality, safety, reference, math, code, formatting, models)
_register([(m.REWARDS, m.ALIASES) for m in BUILTIN_MODULES] + [([CustomReward], {})])

__all__ = [
           "BUILTIN_MODULES",
           "CompositeReward",
           "CustomReward",
           "FunctionReward",
           "Reward",
           "RunningStats",
           "build_reward",
           "function_style",
           "get_reward",
           "list_rewards",
           "to_text",
]
