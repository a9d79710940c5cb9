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
            reasons.append("no unsloth backend is registered (aligntune-backends without its unsloth entry point)")
        logger.info("backend auto -> trl (%s)", "; ".join(reasons))
        wanted = ExecutionBackend.TRL
    backend = BACKENDS.get(wanted.value)
    available = backend.availability()
    if not available:
        raise RuntimeError(f"backend {wanted.value} is not available here: {available.reason}")
    return backend


def prepare_reward_model(config: UnifiedConfig) -> UnifiedConfig:
    """Train the reward model a ``custom_trained`` (or ``fine_tune_with_rewards``) reward_model_source
    describes -- pairwise on its preference_dataset (aligntune-data), or regression on training_texts
    scored by its reward_functions (aligntune-rewards) -- with the TRL engine, and return the config with
    ``model.reward_path`` set to the trained folder. Other configs are returned unchanged."""
    source = config.model.reward_model_source
    if source is None or not (source.source_type == "custom_trained" or source.fine_tune_with_rewards):
        return config
    training = source.training_config
    engine = BACKENDS.get("trl")
    precision = config.model.precision.value if config.model.precision is not None else None
    if training.preference_dataset:
        from aligntune_data import load_dataset

        preferences = load_dataset(training.preference_dataset, format="preference", data_seed=config.train.data_seed,
                                   cache=config.caching)
        path = engine.train_reward_model(source, preferences=preferences, seed=config.train.seed, precision=precision)
    else:
        from aligntune_config.rewards import RewardConfig
        from aligntune_rewards import CompositeReward

        weights = training.reward_weights or [1.0] * len(training.reward_functions)
        parts = [RewardConfig.model_validate(spec) if (":" in spec or "=" in spec) else RewardConfig(type=spec)
                 for spec in training.reward_functions]
        scorer = CompositeReward([part.model_copy(update={"weight": w}) for part, w in zip(parts, weights)])
        texts = list(training.training_texts or [])
        scores = scorer(texts, references=training.reference_texts)
        path = engine.train_reward_model(source, texts=texts, scores=scores, seed=config.train.seed, precision=precision)
    logger.info("reward model trained by AlignTune: %s", path)
    model = config.model.model_copy(update={"reward_path": path, "reward_model_source": None})
    return config.model_copy(update={"model": model})


def build_reward(config: UnifiedConfig) -> tuple[list[Any], list[str]]:
    """The weighted reward of ``config.rewards`` plus the configured reward model (``model.reward_path``
    or ``reward_model_name`` or a pretrained ``reward_model_source``; the ``reward_model`` reward of the
    registry, weight 1, on ``model.reward_device``) as one function (components logged by name). PPO
    loads its reward model itself, so for PPO only ``config.rewards`` are combined."""
    from aligntune_config.rewards import RewardConfig

    parts: list[Any] = list(config.rewards)
    model = config.model
    if config.algo is not AlgorithmType.PPO:
        source = model.reward_model_source
        name = model.reward_path or model.reward_model_name or (
            source and (source.model_path if source.source_type == "pretrained_local" else source.model_name))
        if name:
            parts.append(RewardConfig(type="reward_model", model_name=str(name), device=model.reward_device))
    if not parts:
        return [], []
    from aligntune_rewards import CompositeReward

    reward = CompositeReward(parts)
    return [reward], ["reward"]


def build_trainer(config: UnifiedConfig, **backend_kwargs: Any) -> Any:
    """Validate, load data and rewards, then let the backend build the trainer."""
    config = ConfigLoader.validate_config(config)
    if config.algo is AlgorithmType.META_ES:  # an outer loop over NM-GRPO runs (aligntune.meta_es_run)
        from .meta_es_run import MetaESTrainer

        return MetaESTrainer(config, **backend_kwargs)
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
        config = prepare_reward_model(config)
        rewards, names = build_reward(config)
    trainer = backend.create_trainer(config, train_dataset=train_dataset, eval_dataset=eval_dataset,
                                     reward_functions=rewards, reward_names=names, **backend_kwargs)
    trainer.eval_rows = eval_dataset  # the evaluation data, for before/after evaluation
    return trainer


def _model_and_tokenizer(trainer: Any) -> tuple[Any, Any]:
    if hasattr(trainer, "policy"):  # PPO
        return trainer.policy, trainer.tokenizer
    return trainer.trainer.model, trainer.tokenizer


def evaluate_model(config: UnifiedConfig, trainer: Any, phase: str) -> dict[str, float]:
    """Generate on the evaluation data with the trainer's current model and score ``evaluation.metrics``
    (aligntune-eval's UnifiedEvaluator; metrics found through the registry). Report in
    ``<output_dir>/eval_<phase>/``."""
    from pathlib import Path

    from aligntune_eval import UnifiedEvaluator

    model, tokenizer = _model_and_tokenizer(trainer)
    ev = config.evaluation
    metrics = list(ev.metrics or []) + list(ev.custom_metrics or [])
    evaluator = UnifiedEvaluator(model, trainer.eval_rows, metrics, tokenizer=tokenizer, max_new_tokens=ev.max_new_tokens,
                                 temperature=ev.eval_temperature, batch_size=ev.eval_batch_size,
                                 max_samples=ev.max_samples_for_quality_metrics, seed=config.train.seed,
                                 output_dir=Path(config.logging.output_dir) / f"eval_{phase}")
    was_training = model.training
    try:
        return evaluator.evaluate()
    finally:
        model.train(was_training)


def check_dpo_eval(config: UnifiedConfig) -> None:
    """evaluation.dpo_eval_enabled needs a DPO run with evaluation data (checked before any model loads)."""
    if not config.evaluation.dpo_eval_enabled:
        return
    if config.algo is not AlgorithmType.DPO:
        raise ValueError(f"evaluation.dpo_eval_enabled applies to algo dpo, not {config.algo.value}; remove it")
    if not (config.eval_datasets or config.evaluation.holdout_fraction is not None):
        raise ValueError("evaluation.dpo_eval_enabled needs evaluation data: set eval_datasets or "
                         "evaluation.holdout_fraction")


def evaluate_dpo_run(config: UnifiedConfig, trainer: Any) -> dict[str, Any]:
    """The DPO evaluation after training (aligntune-eval's evaluate_dpo) on the evaluation data: preference
    accuracy, margins and implicit rewards on evaluation.dpo_eval_max_samples pairs; the win rate against
    the reference model judged by ``config.rewards`` on dpo_zero_shot_max_samples prompts (and few-shot with
    dpo_few_shot_examples_text), sampled with train.temperature/top_p/top_k/max_completion_length. Report
    in ``<output_dir>/dpo_eval/``."""
    from pathlib import Path

    from aligntune_backends.trl.args import build_args
    from aligntune_eval import evaluate_dpo

    ev, policy = config.evaluation, trainer.trainer.model
    reference = getattr(trainer.trainer, "ref_model", None)
    if reference is None and not hasattr(policy, "disable_adapter") and not config.train.reference_free:
        from aligntune_backends.models import load_model_and_tokenizer  # the reference is the starting model

        reference, _ = load_model_and_tokenizer(config.model, for_training=False, device=next(policy.parameters()).device)
    judge = None
    if config.rewards:
        from aligntune_rewards import CompositeReward

        judge = CompositeReward(list(config.rewards))
    was_training = policy.training
    try:
        return evaluate_dpo(policy, trainer.tokenizer, trainer.eval_rows, reference=reference, judge=judge,
                            beta=config.train.beta, reference_free=config.train.reference_free,
                            max_samples=ev.dpo_eval_max_samples, zero_shot_max_samples=ev.dpo_zero_shot_max_samples,
                            few_shot_max_samples=ev.dpo_few_shot_max_samples,
                            few_shot_examples_text=ev.dpo_few_shot_examples_text,
                            generation=build_args(config).extra["dpo_eval_generation"],
                            batch_size=ev.eval_batch_size, seed=config.train.seed,
                            output_dir=Path(config.logging.output_dir) / "dpo_eval")
    finally:
        policy.train(was_training)


def train(config: UnifiedConfig) -> dict[str, Any]:
    """The whole run: build, (evaluate before,) train, (evaluate after,) save. Returns the training
    metrics, the before/after scores (when evaluation.before_after), the DPO evaluation report (when
    evaluation.dpo_eval_enabled) and the saved model's path."""
    check_dpo_eval(config)
    trainer = build_trainer(config)
    before = evaluate_model(config, trainer, "before") if config.evaluation.before_after else None
    metrics = trainer.train()
    after = evaluate_model(config, trainer, "after") if config.evaluation.before_after else None
    dpo_eval = evaluate_dpo_run(config, trainer) if config.evaluation.dpo_eval_enabled else None
    return {"metrics": metrics, "before": before, "after": after, "dpo_eval": dpo_eval,
            "model_path": trainer.save_model(), "trainer": trainer}
