"""PPOTrainer: PPO for language models (Ouyang et al., 2022) on a policy, a reference (the
adapter-disabled policy for LoRA), a value model and a reward (function and/or reward model).

One step = one rollout batch of ``rollout_batch_size`` prompts, scored, then ``num_ppo_epochs`` passes
of minibatch updates. ``max_steps`` counts these steps (default: one pass over the prompts x epochs)."""

from __future__ import annotations

import json
import logging
import math
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from .models import (
    Reference,
    ValueModel,
    disable_dropout,
    is_peft_model,
    load_reward_model,
    load_separate_reference,
    load_value_model,
    reward_model_source,
    value_model_source,
)
from .options import build_scheduler, check_train_fields, prune_checkpoints
from .rollout import RolloutGenerator
from .update import PPOUpdate

if TYPE_CHECKING:
    from aligntune_config import UnifiedConfig

logger = logging.getLogger("aligntune.backends.ppo")

LOGGED_KEYS = ("reward_mean", "reward_std", "kl", "entropy", "policy_clipfrac", "value_clipfrac", "value_loss",
               "policy_loss", "explained_variance", "approx_kl", "response_length", "kl_coef")
"""Metrics every step logs (among others)."""


def ppo_math() -> Any:
    """The PPO maths module of the registered ``ppo`` algorithm (aligntune_algos.ppo_math)."""
    from aligntune_config.registry import ALGORITHMS

    return ALGORITHMS.get("ppo").math()


def kl_controller(math_module: Any, train: Any) -> Any:
    """Adaptive (init_kl_coef, target_kl, kl_horizon) or fixed (kl_coef) KL coefficient."""
    if train.adap_kl_ctrl:
        return math_module.AdaptiveKLController(train.init_kl_coef, train.target_kl, train.kl_horizon)
    return math_module.FixedKLController(train.kl_coef)


def config_reward_source(model_config: Any, reward_fn: Any) -> tuple[str, str] | None:
    """(field, name) of the reward model ``model_config`` names (reward_path, reward_model_name,
    reward_model_source; without a reward function, a set reward_value_model serves as the reward model
    too, as the resolver announces); refuses a run with no reward at all before any model is loaded."""
    source = reward_model_source(model_config)
    if source is None and reward_fn is None:
        critic = value_model_source(model_config)
        if critic is None:
            raise ValueError("PPO needs a reward: reward functions (rewards: ...), a reward model (model.reward_path, "
                             "model.reward_model_name, model.reward_model_source) or model.reward_value_model")
        source = ("model.reward_value_model", critic)
    return source


class PPOTrainer:
    """PPO on a causal LM policy.

    Args:
        config: the resolved run configuration (``algo: ppo``; ``train`` holds the PPO fields).
        train_dataset: a ``datasets.Dataset`` with a ``prompt`` column (strings or chat messages); other
            columns are passed to ``reward_fn`` as keyword lists (``reference``, else ``answer``, as
            ``references``).
        reward_fn: ``reward_fn(completions, prompts=..., references=..., **columns) -> list[float]``.
        reward_model / reward_tokenizer: a sequence-classification model scoring ``prompt + completion``
            (logit 0) and its tokenizer (default: the one ``model.reward_path``, ``model.reward_model_name``
            or ``model.reward_model_source`` names, loaded on ``model.reward_device``; without any reward
            function, ``model.reward_value_model``).
        model / tokenizer: the policy and its tokenizer (default: loaded from ``config.model``, with LoRA
            when ``model.use_peft``).
        eval_dataset: prompts for :meth:`evaluate`.
        reward_weights: weights of (reward_fn, reward_model) when both are given.
        value_model: a ready :class:`ValueModel` (default: a critic loaded from ``model.reward_value_model``
            when set, else from ``config.model``).

    With a LoRA policy the reference is the policy with its adapters disabled, unless
    ``model.force_use_ref_model`` loads a separate copy (with ``model.ref_model_init_kwargs``).
    """

    def __init__(self, config: UnifiedConfig, train_dataset: Any, reward_fn: Callable[..., Sequence[float]] | None = None,
                 reward_model: Any = None, reward_tokenizer: Any = None, model: Any = None, tokenizer: Any = None,
                 eval_dataset: Any = None, reward_weights: tuple[float, float] = (1.0, 1.0),
                 value_model: ValueModel | None = None):
        if "prompt" not in train_dataset.column_names:
            raise ValueError(f"PPO trains on prompts: the train dataset needs a 'prompt' column, it has "
                             f"{train_dataset.column_names}")
        if len(train_dataset) == 0:
            raise ValueError("the PPO train dataset is empty")
        check_train_fields(config.train)
        reward_source = None if reward_model is not None else config_reward_source(config.model, reward_fn)
        self.config = config
        self.train_config = t = config.train
        self.train_dataset = train_dataset
        self.eval_dataset = eval_dataset
        from transformers import set_seed

        set_seed(t.seed)
        if model is None or tokenizer is None:
            from ..models import load_model_and_tokenizer

            model, tokenizer = load_model_and_tokenizer(config.model, for_training=True)
        self.policy, self.tokenizer = model, tokenizer
        self.device = next(model.parameters()).device
        separate = None
        if config.model.force_use_ref_model and is_peft_model(model):
            separate = load_separate_reference(config.model, self.device)
        self.reference = Reference(model, separate)
        self.value_model = (value_model if value_model is not None
                            else load_value_model(config.model, self.device, tokenizer))
        if reward_model is None and reward_source is not None:
            reward_model, reward_tokenizer = load_reward_model(config.model, *reward_source, self.device)
        self.math = ppo_math()
        self.kl_ctl = kl_controller(self.math, t)
        self.rollouts = RolloutGenerator(tokenizer, t, reward_fn, reward_model, reward_tokenizer, reward_weights)
        params = [p for p in list(model.parameters()) + list(self.value_model.parameters()) if p.requires_grad]
        self.optimizer = torch.optim.AdamW(params, lr=t.learning_rate, weight_decay=t.weight_decay)
        self.generator = torch.Generator().manual_seed(t.seed)
        for module in (self.policy, self.value_model):  # train mode, no dropout (as TRL's PPO)
            disable_dropout(module)
            module.train()
        self.total_steps = t.max_steps or max(1, math.ceil(len(train_dataset) / t.rollout_batch_size
                                                           * (t.epochs or 1.0)))
        self.scheduler = build_scheduler(t, self.optimizer, self.total_steps)
        self.updater = PPOUpdate(self.math, t, model, self.reference, self.value_model, self.optimizer, params,
                                 self.generator, self.scheduler)
        self.history: list[dict[str, float]] = []
        self.global_step = 0
        self.output_dir = Path(config.logging.output_dir)
        self.jsonl_path = self.output_dir / "metrics.jsonl" if "jsonl" in config.logging.loggers else None
        logger.info("PPO: %d steps of %d prompts, %d PPO epochs, minibatch %d x %d accumulation; reference %s",
                    self.total_steps, t.rollout_batch_size, t.num_ppo_epochs or 4, t.per_device_batch_size,
                    t.gradient_accumulation_steps,
                    "= adapter-disabled policy" if self.reference.shares_policy else "= frozen copy")

    @property
    def is_peft(self) -> bool:
        return is_peft_model(self.policy)

    def _batches(self) -> Any:
        """Endless rollout batches (column dicts), reshuffled every pass with ``data_seed``."""
        size, n = self.train_config.rollout_batch_size, len(self.train_dataset)
        generator = torch.Generator().manual_seed(self.train_config.data_seed)
        while True:
            order = torch.randperm(n, generator=generator).tolist()
            for start in range(0, n, size):
                idx = order[start:start + size]
                while len(idx) < size:  # fill a short batch (or a dataset smaller than a batch) by cycling
                    idx = idx + order[:size - len(idx)]
                yield self.train_dataset[idx]

    def _record(self, metrics: dict[str, float]) -> None:
        self.history.append(metrics)
        if self.jsonl_path is not None:
            self.jsonl_path.parent.mkdir(parents=True, exist_ok=True)
            record = {k: v for k, v in metrics.items() if isinstance(v, (int, float, str, bool)) or v is None}
            with self.jsonl_path.open("a", encoding="utf-8") as handle:
                handle.write(json.dumps(record) + "\n")
        if metrics["step"] % self.train_config.logging_steps == 0 or metrics["step"] == self.total_steps:
            logger.info("step %d: %s", metrics["step"], ", ".join(
                f"{k}={metrics[k]:.4g}" for k in LOGGED_KEYS if k in metrics))

    def train(self) -> dict[str, Any]:
        """Run ``total_steps`` PPO steps; return the run summary and the last step's metrics."""
        from aligntune_config import ConfigLoader
        from tqdm.auto import tqdm

        ConfigLoader.save_resolved_config(self.config, self.output_dir)
        t = self.train_config
        start = time.monotonic()
        batches = self._batches()
        bar = tqdm(total=self.total_steps, desc="ppo", disable=self.config.logging.disable_tqdm)
        while self.global_step < self.total_steps:
            roll = self.rollouts.sample(self.policy, next(batches))
            kl_coef = float(self.kl_ctl.value)
            metrics = self.updater.step(roll, kl_coef)
            self.kl_ctl.update(metrics["kl_per_token"], len(roll.completions))
            self.global_step += 1
            metrics.update(step=self.global_step, episode=self.global_step * t.rollout_batch_size,
                           lr=float(self.scheduler.get_last_lr()[0]), time=round(time.monotonic() - start, 3))
            if t.eval_strategy == "steps" and self.global_step % t.eval_interval == 0:
                metrics.update(self.evaluate())
            self._record(metrics)
            bar.update(1)
            bar.set_postfix(reward=f"{metrics['reward_mean']:.3f}", kl=f"{metrics['kl']:.3f}")
            if (t.save_strategy == "steps" and self.global_step % t.save_interval == 0
                    and self.global_step < self.total_steps):
                self.save_model(str(self.output_dir / f"checkpoint-{self.global_step}"))
                prune_checkpoints(self.output_dir, t.save_total_limit)
        bar.close()
        runtime = time.monotonic() - start
        summary = {"global_step": self.global_step, "train_runtime": runtime,
                   "train_steps_per_second": self.global_step / max(runtime, 1e-9), "kl_coef": float(self.kl_ctl.value)}
        if self.history:
            summary.update({f"train_{k}": v for k, v in self.history[-1].items() if k not in ("step", "time")})
        return summary

    @torch.no_grad()
    def evaluate(self, dataset: Any = None) -> dict[str, float]:
        """Sample responses for ``dataset`` (default: eval_dataset, else the train prompts) without updating,
        in batches of ``per_device_eval_batch_size`` when set (else ``rollout_batch_size``); mean and std of
        the score, mean KL to the reference and mean response length. Called every ``eval_interval`` steps
        when ``eval_strategy`` is ``steps``."""
        dataset = dataset if dataset is not None else (self.eval_dataset if self.eval_dataset is not None
                                                       else self.train_dataset)
        t = self.train_config
        size = t.per_device_eval_batch_size if "per_device_eval_batch_size" in t.model_fields_set else t.rollout_batch_size
        scores, kls, lengths = [], [], []
        for start in range(0, len(dataset), size):
            roll = self.rollouts.sample(self.policy, dataset[start:start + size])
            s = self.updater.score(roll, float(self.kl_ctl.value))
            scores.append(roll.scores.float())
            kls.append(s.kl.sum(dim=1))
            lengths.append(roll.response_mask.sum(dim=1))
        score, kl, length = torch.cat(scores), torch.cat(kls), torch.cat(lengths)
        return {"eval_reward_mean": float(score.mean()), "eval_reward_std": float(score.std(unbiased=False)),
                "eval_kl": float(kl.mean()), "eval_response_length": float(length.mean())}

    def push_to_hub(self, repo_id: str | None = None, *, token: str | None = None, private: bool = False) -> str:
        """Save the policy and upload it to the Hub."""
        from ..hub import push_folder

        return push_folder(self.config, self.save_model(), repo_id, token=token, private=private)

    def save_model(self, path: str | None = None) -> str:
        """Save the policy (only its adapters for LoRA) and tokenizer to ``path`` (default
        ``<output_dir>/final_model``), and the value head weights as ``value_head.pt``."""
        target = Path(path) if path else self.output_dir / "final_model"
        target.mkdir(parents=True, exist_ok=True)
        self.policy.save_pretrained(str(target))
        self.tokenizer.save_pretrained(str(target))
        torch.save(self.value_model.head.state_dict(), target / "value_head.pt")
        logger.info("PPO policy saved to %s", target)
        return str(target)
