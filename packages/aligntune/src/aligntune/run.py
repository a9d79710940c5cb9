"""The composition root: a resolved UnifiedConfig in, a ready trainer out.

Order (torchtune's rule: everything that can be checked is checked before a model is loaded):
1. validate the config (algorithm spec checks, reward names);
2. choose the backend (``auto``: Unsloth when installed, on CUDA and supported, else TRL -- logged);
3. the backend refuses what it cannot run;
4. load the datasets (aligntune-data) in the algorithm's format -- bad data fails here;
5. build the reward (aligntune-rewards) for online algorithms;
6. the backend loads the model and builds its trainer.
"""

from __future__ import annotations

import logging
from typing import Any

from aligntune_config import AlgorithmType, ConfigLoader, ExecutionBackend, UnifiedConfig
from aligntune_config.registry import BACKENDS

logger = logging.getLogger("aligntune")


def select_backend(config: UnifiedConfig) -> Any:
    """The backend object for ``config.backend`` (``auto`` resolved, with the reason logged)."""
    wanted = config.backend
    if wanted is ExecutionBackend.AUTO:
        reasons = []
        if "unsloth" in BACKENDS:
            unsloth = BACKENDS.get("unsloth")
            available = unsloth.availability()
            if available and unsloth.supports(config.algo):
                logger.info("backend auto -> unsloth")
                return unsloth
            reasons.append(available.reason if not available else f"unsloth does not run {config.algo.value}")
        else:
            reasons.append("the unsloth backend is not built yet")
        logger.info("backend auto -> trl (%s)", "; ".join(reasons))
        wanted = ExecutionBackend.TRL
    backend = BACKENDS.get(wanted.value)
    available = backend.availability()
    if not available:
        raise RuntimeError(f"backend {wanted.value} is not available here: {available.reason}")
    return backend


def build_reward(config: UnifiedConfig) -> tuple[list[Any], list[str]]:
    """The weighted reward of ``config.rewards`` as one function (components logged by name)."""
    if not config.rewards:
        return [], []
    from aligntune_rewards import CompositeReward

    reward = CompositeReward(list(config.rewards))
    return [reward], ["reward"]


def build_trainer(config: UnifiedConfig, **backend_kwargs: Any) -> Any:
    """Validate, load data and rewards, then let the backend build the trainer."""
    config = ConfigLoader.validate_config(config)
    backend = select_backend(config)
    if hasattr(backend, "check"):
        backend.check(config)
    from aligntune_data import format_for_algorithm, load_dataset

    fmt = format_for_algorithm(config.algo.value)
    train_dataset = load_dataset(list(config.datasets), format=fmt, data_seed=config.train.data_seed,
                                 cache=config.caching, num_proc=config.train.dataset_num_proc)
    eval_dataset = None
    if config.eval_datasets:
        eval_dataset = load_dataset(list(config.eval_datasets), format=fmt, data_seed=config.train.data_seed,
                                    cache=config.caching, num_proc=config.train.dataset_num_proc)
    elif config.evaluation.holdout_fraction is not None:
        split = train_dataset.train_test_split(test_size=config.evaluation.holdout_fraction, seed=config.train.data_seed)
        train_dataset, eval_dataset = split["train"], split["test"]
    logger.info("training data: %d rows (%s format); evaluation data: %s rows", len(train_dataset), fmt,
                len(eval_dataset) if eval_dataset is not None else "no")
    rewards, names = ([], [])
    if config.algo.is_online and config.algo is not AlgorithmType.META_ES:
        rewards, names = build_reward(config)
    return backend.create_trainer(config, train_dataset=train_dataset, eval_dataset=eval_dataset,
                                  reward_functions=rewards, reward_names=names, **backend_kwargs)
