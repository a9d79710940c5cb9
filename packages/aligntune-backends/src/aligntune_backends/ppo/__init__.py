"""PPO for language models: AlignTune's own loop (TRL >= 1.x has no PPOTrainer).

``PPOTrainer(config, train_dataset, reward_fn=..., reward_model=..., reward_tokenizer=...)`` with
``train()``, ``evaluate()`` and ``save_model()``. The maths come from the registered ``ppo`` algorithm
(``aligntune_config.registry.ALGORITHMS.get("ppo").math()``). Importing this package imports torch."""

from __future__ import annotations

from .models import Reference, ValueModel, is_peft_model, load_value_model
from .rollout import Rollout, RolloutGenerator, combine_rewards
from .trainer import LOGGED_KEYS, PPOTrainer, kl_controller, ppo_math
from .update import PPOUpdate

__all__ = ["LOGGED_KEYS", "PPOTrainer", "PPOUpdate", "Reference", "Rollout", "RolloutGenerator", "ValueModel",
           "combine_rewards", "is_peft_model", "kl_controller", "load_value_model", "ppo_math"]
