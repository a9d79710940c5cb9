"""The TRL engine: builds TRL's SFTTrainer, DPOTrainer, RewardTrainer or GRPOTrainer from a resolved
UnifiedConfig, with the model and tokenizer loaded by aligntune_backends.models and the datasets and
reward functions given by the caller (the aligntune meta-package loads them through aligntune-data and
aligntune-rewards)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from aligntune_config import AlgorithmType, Availability

from .args import GRPO_LIKE, build_args

if TYPE_CHECKING:
    from aligntune_config import UnifiedConfig

logger = logging.getLogger("aligntune.backends.trl")

SUPPORTED = frozenset({AlgorithmType.SFT, AlgorithmType.DPO, AlgorithmType.REWARD_MODEL, AlgorithmType.PPO,
                       *GRPO_LIKE}) - {AlgorithmType.META_ES}
"""What this engine builds (PPO with AlignTune's own loop, aligntune_backends.ppo; NM-GRPO with
trl/nmgrpo.py). Meta-ES is an outer loop over NM-GRPO runs: the aligntune meta-package runs it
(aligntune.meta_es_run) and asks this engine for the nmgrpo trainer of each candidate."""


NOT_BUILT_MODEL_FIELDS = (
    "reward_value_loading_type", "reward_model_quantization",
    "value_model_quantization", "ref_model_init_kwargs", "model_adapter_name", "ref_adapter_name",
    "force_use_ref_model", "use_logits_to_keep",
)
"""ModelConfig fields for reward/value/reference models and adapters that no built algorithm uses yet
(except those in PPO_MODEL_FIELDS, for PPO)."""

PPO_MODEL_FIELDS = frozenset({"force_use_ref_model", "ref_model_init_kwargs", "value_model_quantization",
                              "reward_model_quantization"})
"""Fields of NOT_BUILT_MODEL_FIELDS that AlignTune's PPO loop uses (aligntune_backends.ppo)."""

REWARD_MODEL_FIELDS = ("reward_path", "reward_model_name", "reward_model_source", "reward_device")
"""ModelConfig fields of the reward model: used by the GRPO family (as a reward function) and PPO only."""


class EngineError(ValueError):
    """A run this engine cannot build, with the reason."""


def _trl_class(algo: AlgorithmType) -> tuple[Any, Any]:
    import trl

    if algo is AlgorithmType.SFT:
        return trl.SFTTrainer, trl.SFTConfig
    if algo is AlgorithmType.DPO:
        return trl.DPOTrainer, trl.DPOConfig
    if algo is AlgorithmType.REWARD_MODEL:
        return trl.RewardTrainer, trl.RewardConfig
    return trl.GRPOTrainer, trl.GRPOConfig


def _reference_free_dpo(base: type) -> type:
    """DPOTrainer whose reference log-probabilities are zero: the loss uses the policy's log-ratio only."""
    import torch

    class ReferenceFreeDPOTrainer(base):  # type: ignore[misc, valid-type]
        def compute_ref_log_probs(self, model: Any, inputs: dict[str, Any]) -> tuple[Any, Any]:
            n = inputs["input_ids"].size(0) // 2
            zeros = torch.zeros(n, device=inputs["input_ids"].device)
            return zeros, zeros.clone()

    return ReferenceFreeDPOTrainer


def truncate_prompts(dataset: Any, tokenizer: Any, max_prompt_length: int, mode: str) -> Any:
    """Cut string prompts to ``max_prompt_length`` tokens (keep_end keeps the end, keep_start the start);
    conversational prompts longer than that are dropped, with a count in the log. TRL's DPO and GRPO
    configs have no prompt limit of their own."""
    if "prompt" not in dataset.column_names or len(dataset) == 0:
        return dataset

    def cut(row: dict[str, Any]) -> dict[str, Any]:
        prompt = row["prompt"]
        if not isinstance(prompt, str):
            return row
        ids = tokenizer(prompt, add_special_tokens=False)["input_ids"]
        if len(ids) <= max_prompt_length:
            return row
        kept = ids[-max_prompt_length:] if mode == "keep_end" else ids[:max_prompt_length]
        return {**row, "prompt": tokenizer.decode(kept)}

    out = dataset.map(cut, desc="truncating prompts")
    if not isinstance(out[0]["prompt"], str):
        before = len(out)
        out = out.filter(lambda row: len(tokenizer.apply_chat_template(row["prompt"], tokenize=True,
                                                                       add_generation_prompt=True)) <= max_prompt_length)
        if len(out) < before:
            logger.warning("dropped %d of %d conversational prompts longer than max_prompt_length=%d tokens",
                           before - len(out), before, max_prompt_length)
    return out


def add_length_column(dataset: Any, tokenizer: Any) -> Any:
    """Token length of prompt + the longer answer, for group_by_length on preference data."""
    if "length" in dataset.column_names:
        return dataset

    def count(text: Any) -> int:
        if isinstance(text, str):
            return len(tokenizer(text, add_special_tokens=False)["input_ids"])
        return sum(count(m.get("content", "")) for m in text) if isinstance(text, list) else 0

    return dataset.map(lambda row: {"length": count(row.get("prompt", "")) + max(count(row["chosen"]), count(row["rejected"]))},
                       desc="measuring lengths")


def _reward_funcs(config: "UnifiedConfig", reward_functions: Sequence[Any], names: Sequence[str], extra: dict) -> list:
    from aligntune_config.registry import ALGORITHMS

    from .rewards import OverlongPunishment, TRLReward

    funcs: list[Any] = [TRLReward(fn, name) for fn, name in zip(reward_functions, names)]
    if extra.get("overlong"):
        buffer, factor = extra["overlong"]
        funcs.append(OverlongPunishment(ALGORITHMS.get(config.algo.value).math(), config.train.max_completion_length,
                                        buffer, factor))
    return funcs


def _with_reward_model(config: "UnifiedConfig", reward_functions: Sequence[Any],
                       reward_names: Sequence[str] | None) -> tuple[list[Any], list[str] | None]:
    """Add the configured reward model (a folder or Hub id; custom_trained ones are trained by the caller
    first, see :mod:`.reward_models`) as a reward function, found through the reward registry, unless a
    given reward function already contains it (the meta-package passes one composite of config.rewards
    and the reward model)."""
    from .reward_models import reward_source

    found = reward_source(config.model)
    if found is None:
        return list(reward_functions), (list(reward_names) if reward_names is not None else None)
    kind, value = found
    if kind == "custom_trained":
        raise EngineError("model.reward_model_source: a custom_trained reward model is trained before the run "
                          "(aligntune.run.build_trainer does it); pass its folder as model.reward_path here")
    included = any(getattr(c, "name", "") == "reward_model" for fn in reward_functions
                   for c in getattr(fn, "components", []))
    if included:
        return list(reward_functions), (list(reward_names) if reward_names is not None else None)
    from aligntune_config.registry import REWARDS

    model_reward = REWARDS.get("reward_model")(model_name=str(value), device=config.model.reward_device)
    names = list(reward_names or [getattr(f, "name", f"reward_{i}") for i, f in enumerate(reward_functions)])
    return [*reward_functions, model_reward], [*names, "reward_model"]


class TRLBackend:
    """Backend ``trl``: always available where trl imports."""

    name = "trl"

    def availability(self) -> Availability:
        try:
            import trl  # noqa: F401
        except ImportError as exc:
            return Availability(False, f"trl is not installed ({exc})")
        return Availability(True, "trl is installed")

    def supports(self, algorithm: AlgorithmType) -> bool:
        return AlgorithmType(algorithm) in SUPPORTED

    def check(self, config: "UnifiedConfig") -> None:
        """Refuse what this engine cannot run, before any model is loaded."""
        algo = config.algo
        if algo not in SUPPORTED:
            built = ", ".join(sorted(a.value for a in SUPPORTED))
            raise EngineError(f"the TRL engine does not run {algo.value} yet (it runs {built})")
        from aligntune_config import ModelConfig

        used_here = PPO_MODEL_FIELDS if algo is AlgorithmType.PPO else frozenset()
        unbuilt = [name for name in NOT_BUILT_MODEL_FIELDS if name in config.model.model_fields_set
                   and name not in used_here
                   and getattr(config.model, name) != ModelConfig.model_fields[name].get_default(call_default_factory=True)]
        if unbuilt:
            where = "PPO only" if any(n in PPO_MODEL_FIELDS for n in unbuilt) else "no algorithm of this engine"
            raise EngineError(f"{algo.value} does not use {', '.join('model.' + n for n in unbuilt)} (used by: "
                              f"{where}); remove them")
        if config.train.fast_inference:
            raise EngineError("train.fast_inference is Unsloth's vLLM generation (backend: unsloth); on the TRL "
                              "engine use train.use_vllm for vLLM rollouts, or remove fast_inference")
        if algo not in GRPO_LIKE and algo is not AlgorithmType.PPO:
            stray = [name for name in REWARD_MODEL_FIELDS if name in config.model.model_fields_set
                     and getattr(config.model, name) != ModelConfig.model_fields[name].get_default()]
            if stray:
                raise EngineError(f"{', '.join('model.' + n for n in stray)}: a reward model is the reward of online "
                                  f"runs (grpo, gspo, dapo, drgrpo, ppo); {algo.value} does not use one; remove it")
        if algo is AlgorithmType.PPO and config.logging.sample_logging.enabled:
            raise EngineError("logging.sample_logging: sample logging is not built for PPO (AlignTune's own loop); "
                              "it runs with sft, dpo, reward_model and the GRPO family; set enabled: false")
        from .reward_models import RewardModelError, check_reward_source

        try:
            check_reward_source(config.model)
        except RewardModelError as exc:
            raise EngineError(str(exc)) from exc

    def train_reward_model(self, source: Any, *, preferences: Any = None, texts: Sequence[str] | None = None,
                           scores: Sequence[float] | None = None, seed: int = 42, precision: str | None = None) -> str:
        """Train the reward model a ``RewardModelSourceConfig`` (custom_trained, or fine_tune_with_rewards)
        describes: pairwise on ``preferences`` (prompt/chosen/rejected rows), or regression on ``texts``
        and their reward-function ``scores``. Reuses ``training_config.output_dir`` when it already holds a
        model trained with the same settings and data. Returns the saved folder."""
        import hashlib
        import json

        from . import reward_models as rm

        training = source.training_config
        base = None
        if source.fine_tune_with_rewards and source.source_type != "custom_trained":
            base = source.model_path or source.model_name
        if preferences is not None:
            data_id = hashlib.sha256(json.dumps(preferences.to_list(), sort_keys=True, default=str).encode()).hexdigest()
        elif texts is not None and scores is not None:
            data_id = hashlib.sha256(json.dumps([list(texts), [float(s) for s in scores]]).encode()).hexdigest()
        else:
            raise EngineError("reward_model_source.training_config: give preference rows (preference_dataset) or "
                              "training_texts with their reward-function scores")
        key = rm.training_key(source, {"data": data_id, "seed": seed, "precision": precision, "base": base})
        if rm.trained_model_ready(training.output_dir, key):
            logger.info("reusing the reward model trained earlier in %s (same settings and data)", training.output_dir)
            return training.output_dir
        if preferences is not None:
            return rm.train_pairwise(training, preferences, key=key, seed=seed, base_model=base, precision=precision)
        return rm.train_regression(training, list(texts), list(scores), key=key, seed=seed, base_model=base,
                                   precision=precision)

    def create_trainer(self, config: "UnifiedConfig", *, train_dataset: Any, eval_dataset: Any = None,
                       reward_functions: Sequence[Any] = (), reward_names: Sequence[str] | None = None,
                       model: Any = None, tokenizer: Any = None, callbacks: Sequence[Any] = ()) -> "EngineTrainer":
        self.check(config)
        algo = config.algo
        if algo in GRPO_LIKE:
            reward_functions, reward_names = _with_reward_model(config, reward_functions, reward_names)
        if algo in GRPO_LIKE and not reward_functions:
            raise EngineError(f"{algo.value} needs a reward: reward functions (rewards: ...) or a reward model "
                              "(model.reward_path, model.reward_model_name or model.reward_model_source)")
        if algo is AlgorithmType.PPO:  # TRL 1.x has no PPO trainer: AlignTune's loop, same models and data
            from ..ppo import PPOTrainer, combine_rewards

            # the reward model of model.reward_path / reward_model_name / reward_model_source (or, with no other
            # reward, model.reward_value_model) is loaded by PPOTrainer itself and added to these functions
            reward_fn = combine_rewards(list(reward_functions), [1.0] * len(reward_functions)) if reward_functions else None
            return PPOTrainer(config, train_dataset, reward_fn=reward_fn, model=model, tokenizer=tokenizer,
                              eval_dataset=eval_dataset)
        args = build_args(config)
        samples = None
        if config.logging.sample_logging.enabled:  # prompts found before any model is loaded
            from .sampling import sample_prompts

            try:
                samples = sample_prompts(config, eval_dataset, train_dataset)
            except ValueError as exc:
                raise EngineError(str(exc)) from exc
        if model is None or tokenizer is None:
            from transformers import set_seed

            from ..models import load_model_and_tokenizer

            # seeded before the weights: LoRA adapters (and random heads) start the same in every process
            set_seed(config.train.seed)
            model_config = config.model
            if algo is AlgorithmType.REWARD_MODEL and model_config.num_labels is None:
                model_config = model_config.model_copy(update={"num_labels": 1})
            model, tokenizer = load_model_and_tokenizer(model_config, for_training=True)
        extra = args.extra
        if algo in GRPO_LIKE or algo is AlgorithmType.DPO:
            train_dataset = truncate_prompts(train_dataset, tokenizer, extra["max_prompt_length"], extra["truncation_mode"])
            if eval_dataset is not None:
                eval_dataset = truncate_prompts(eval_dataset, tokenizer, extra["max_prompt_length"], extra["truncation_mode"])
        if algo in (AlgorithmType.DPO, AlgorithmType.REWARD_MODEL) and config.train.group_by_length:
            train_dataset = add_length_column(train_dataset, tokenizer)
        trainer_cls, config_cls = _trl_class(algo)
        if algo is AlgorithmType.DPO and extra.get("reference_free"):
            trainer_cls = _reference_free_dpo(trainer_cls)
        if algo in GRPO_LIKE and extra["dynamic_sampling"]:
            from aligntune_config.registry import ALGORITHMS

            from .dynamic_sampling import dynamic_sampling_grpo

            trainer_cls = dynamic_sampling_grpo(trainer_cls, ALGORITHMS.get(algo.value).math(),
                                                extra["max_resample_batches"])
        if algo is AlgorithmType.NMGRPO:
            from aligntune_config.registry import ALGORITHMS

            from .nmgrpo import nmgrpo_trainer

            trainer_cls = nmgrpo_trainer(trainer_cls, ALGORITHMS.get(algo.value).math(), config.mirror)
        trl_args = config_cls(**args.trl)
        from transformers import EarlyStoppingCallback

        from .callbacks import JsonlMetricsCallback

        from .tracking import tracker_callbacks

        all_callbacks = list(callbacks)
        if "jsonl" in extra["loggers"]:
            all_callbacks.append(JsonlMetricsCallback(config.logging.output_dir))
        all_callbacks.extend(tracker_callbacks(config))
        if samples is not None:
            from .sampling import SampleLoggingCallback

            all_callbacks.append(SampleLoggingCallback(config, samples, tokenizer))
        if extra["early_stopping"]:
            patience, threshold = extra["early_stopping"]
            all_callbacks.append(EarlyStoppingCallback(patience, threshold))
        kwargs: dict[str, Any] = {"model": model, "args": trl_args, "train_dataset": train_dataset,
                                  "eval_dataset": eval_dataset, "processing_class": tokenizer,
                                  "callbacks": all_callbacks}
        if algo in GRPO_LIKE:
            names = list(reward_names or [getattr(f, "name", f"reward_{i}") for i, f in enumerate(reward_functions)])
            kwargs["reward_funcs"] = _reward_funcs(config, reward_functions, names, extra)
            # the given reward functions carry their own weights (the meta-package passes one weighted
            # composite of config.rewards); the overlong punishment is added with weight 1
            trl_args.reward_weights = [1.0] * len(kwargs["reward_funcs"])
        logger.info("building %s for %s", trainer_cls.__name__, algo.value)
        trainer = trainer_cls(**kwargs)
        return EngineTrainer(config, trainer, tokenizer, resume_from_checkpoint=extra["resume_from_checkpoint"],
                             eval_rows=eval_dataset)


class EngineTrainer:
    """The run lifecycle around a TRL trainer: train, evaluate, save_model, push_to_hub."""

    def __init__(self, config: "UnifiedConfig", trainer: Any, tokenizer: Any,
                 resume_from_checkpoint: str | bool | None = None, eval_rows: Any = None):
        self.config = config
        self.trainer = trainer
        self.tokenizer = tokenizer
        self.resume_from_checkpoint = resume_from_checkpoint
        self.eval_rows = eval_rows  # the evaluation rows before TRL's tokenisation, for generation metrics

    def train(self) -> dict[str, Any]:
        from aligntune_config import ConfigLoader

        if self.trainer.is_world_process_zero():  # one writer under DDP
            ConfigLoader.save_resolved_config(self.config, self.config.logging.output_dir)
        result = self.trainer.train(resume_from_checkpoint=self.resume_from_checkpoint)
        return dict(result.metrics)

    def evaluate(self, dataset: Any = None) -> dict[str, float]:
        """TRL's evaluation (``eval_loss``; for SFT also ``eval_perplexity`` = exp(eval_loss) unless
        evaluation.compute_perplexity is false), plus the generation metrics of ``evaluation.metrics``
        through the metric registry on ``dataset`` (default: the run's evaluation rows); see
        :mod:`.evaluation`."""
        import math

        from .evaluation import generation_metrics

        metrics = dict(self.trainer.evaluate(eval_dataset=dataset))
        if (self.config.algo is AlgorithmType.SFT and "eval_loss" in metrics
                and self.config.evaluation.compute_perplexity):
            metrics["eval_perplexity"] = math.exp(min(metrics["eval_loss"], 50.0))
        rows = dataset if dataset is not None else self.eval_rows
        extra = generation_metrics(self.config, self.trainer.model, self.tokenizer, rows)
        if extra:
            metrics.update(extra)
            self.trainer.log(extra)  # into metrics.jsonl and the trackers with the rest
        return metrics

    def save_model(self, path: str | None = None) -> str:
        from pathlib import Path

        target = Path(path) if path else Path(self.config.logging.output_dir) / "final_model"
        self.trainer.save_model(str(target))  # saves on the main process only
        if self.trainer.is_world_process_zero():
            self.tokenizer.save_pretrained(str(target))
        logger.info("model saved to %s", target)
        return str(target)

    def push_to_hub(self, repo_id: str | None = None, *, token: str | None = None, private: bool = False) -> str:
        from ..hub import push_folder

        return push_folder(self.config, self.save_model(), repo_id, token=token, private=private)


backend = TRLBackend()
