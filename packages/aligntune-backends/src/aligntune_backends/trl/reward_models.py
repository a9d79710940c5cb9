"""Reward models for the GRPO family and PPO: where a configured reward model lives, and training one
with AlignTune (``RewardModelSourceConfig(source_type="custom_trained")``).

Two ways to train (``RewardModelTrainingConfig``):

- pairwise (Bradley-Terry) on a preference dataset (``preference_dataset``): TRL's RewardTrainer through
  this engine, all weights trained (no adapters), so the saved folder loads with
  ``AutoModelForSequenceClassification``;
- regression on texts scored by reward functions (``training_texts`` + ``reward_functions``): a single
  logit head fitted with mean squared error to the scores (transformers' Trainer).

The trained model is saved in ``training_config.output_dir`` with ``aligntune_reward_model.json``
describing how it was trained; a later run with the same training config reuses it instead of training
again. The scores of the regression path and the preference rows are given by the caller (the aligntune
meta-package computes them with aligntune-rewards and aligntune-data).
"""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from aligntune_config import ModelConfig, RewardModelSourceConfig, RewardModelTrainingConfig

logger = logging.getLogger("aligntune.backends.trl.reward_models")
MARKER = "aligntune_reward_model.json"


class RewardModelError(ValueError):
    """A reward model that cannot be used, naming the config field."""


def reward_source(model: "ModelConfig") -> tuple[str, Any] | None:
    """``(kind, value)`` of the reward model ``model`` configures, or None. kind is ``hub`` (a Hub id),
    ``local`` (a folder) or ``custom_trained`` (a RewardModelSourceConfig to train from). Giving more
    than one of reward_path, reward_model_name and reward_model_source is refused."""
    given = [name for name in ("reward_path", "reward_model_name", "reward_model_source") if getattr(model, name)]
    if len(given) > 1:
        raise RewardModelError(f"model.{given[0]} and model.{given[1]} both name a reward model; give one of "
                               "reward_path, reward_model_name, reward_model_source")
    if model.reward_path:
        return "local", model.reward_path
    if model.reward_model_name:
        return "hub", model.reward_model_name
    source = model.reward_model_source
    if source is None:
        return None
    if source.source_type == "pretrained_hf":
        kind, value = "hub", source.model_name
    elif source.source_type == "pretrained_local":
        kind, value = "local", source.model_path
    else:
        kind, value = "custom_trained", source
    if source.fine_tune_with_rewards and kind != "custom_trained":
        return "custom_trained", source
    return kind, value


def check_reward_source(model: "ModelConfig") -> None:
    """Checks that need no weights: a local reward model folder exists and holds a model."""
    found = reward_source(model)
    if found is None:
        return
    kind, value = found
    if kind == "local":
        field = "model.reward_path" if model.reward_path else "model.reward_model_source.model_path"
        folder = Path(str(value)).expanduser()
        if not (folder / "config.json").is_file():
            raise RewardModelError(f"{field}: {str(value)!r} is not a saved model folder (no config.json); give a "
                                   "folder written by save_pretrained of a sequence-classification reward model")
    if kind == "custom_trained" and value.fine_tune_with_rewards:
        start = value.model_path or value.model_name
        if value.source_type == "pretrained_local" and not (Path(str(start)) / "config.json").is_file():
            raise RewardModelError(f"model.reward_model_source.model_path: {start!r} is not a saved model folder")


def training_key(source: "RewardModelSourceConfig", extra: dict[str, Any] | None = None) -> str:
    """A hash of everything that decides the trained reward model."""
    payload = {"source": source.model_dump(mode="json"), **(extra or {})}
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


def trained_model_ready(output_dir: str, key: str) -> bool:
    """Whether ``output_dir`` holds a reward model AlignTune trained with the same settings."""
    marker = Path(output_dir) / MARKER
    if not marker.is_file() or not (Path(output_dir) / "config.json").is_file():
        return False
    try:
        return json.loads(marker.read_text(encoding="utf-8")).get("key") == key
    except (OSError, json.JSONDecodeError):
        return False


def _write_marker(output_dir: str, key: str, how: str, rows: int, metrics: dict[str, Any]) -> None:
    record = {"key": key, "trained_by": "aligntune", "method": how, "rows": rows,
              "metrics": {k: v for k, v in metrics.items() if isinstance(v, (int, float))}}
    (Path(output_dir) / MARKER).write_text(json.dumps(record, indent=2), encoding="utf-8")


def train_pairwise(training: "RewardModelTrainingConfig", preferences: Any, *, key: str, seed: int = 42,
                   base_model: str | None = None, precision: str | None = None) -> str:
    """Train a Bradley-Terry reward model on ``preferences`` (prompt/chosen/rejected rows) with TRL's
    RewardTrainer; all weights are trained. Returns the saved folder (``training.output_dir``)."""
    from aligntune_config import UnifiedConfig

    from .engine import backend

    config = UnifiedConfig(
        algo="reward_model", backend="trl", datasets=[training.preference_dataset or "preferences"],
        model={"name_or_path": base_model or training.base_model_name, "use_peft": False, "num_labels": 1,
               "precision": precision or "auto"},
        train={"epochs": training.num_epochs, "learning_rate": training.learning_rate,
               "per_device_batch_size": training.batch_size,
               "gradient_accumulation_steps": training.gradient_accumulation_steps,
               "max_length": training.max_length, "seed": seed, "save_strategy": "no", "eval_strategy": "no"},
        logging={"output_dir": training.output_dir, "loggers": ["jsonl"]},
    )
    logger.info("training a pairwise reward model from %s on %d preference rows", config.model.name_or_path,
                len(preferences))
    trainer = backend.create_trainer(config, train_dataset=preferences)
    metrics = trainer.train()
    trainer.save_model(training.output_dir)
    _write_marker(training.output_dir, key, "pairwise", len(preferences), metrics)
    return training.output_dir


def train_regression(training: "RewardModelTrainingConfig", texts: list[str], scores: list[float], *, key: str,
                     seed: int = 42, base_model: str | None = None, precision: str | None = None) -> str:
    """Fit a one-logit sequence classifier to ``scores`` of ``texts`` (mean squared error). Returns the
    saved folder (``training.output_dir``)."""
    import datasets
    import torch
    from transformers import Trainer, TrainingArguments

    from aligntune_config import ModelConfig

    from ..models import load_model_and_tokenizer

    if len(texts) != len(scores):
        raise RewardModelError(f"reward_model_source.training_config: {len(scores)} scores for {len(texts)} texts")
    model, tokenizer = load_model_and_tokenizer(
        ModelConfig(name_or_path=base_model or training.base_model_name, num_labels=1, use_peft=False,
                    precision=precision or "auto"), for_training=True)
    model.config.problem_type = "regression"
    rows = datasets.Dataset.from_dict({"text": list(texts), "labels": [float(s) for s in scores]})
    rows = rows.map(lambda batch: tokenizer(batch["text"], truncation=True, max_length=training.max_length),
                    batched=True, remove_columns=["text"], desc="tokenizing reward texts")
    args = TrainingArguments(
        output_dir=training.output_dir, num_train_epochs=float(training.num_epochs),
        learning_rate=training.learning_rate, per_device_train_batch_size=training.batch_size,
        gradient_accumulation_steps=training.gradient_accumulation_steps, seed=seed, save_strategy="no",
        report_to="none", logging_steps=1, use_cpu=not torch.cuda.is_available(), remove_unused_columns=False,
    )
    from transformers import DataCollatorWithPadding

    from .callbacks import JsonlMetricsCallback

    trainer = Trainer(model=model, args=args, train_dataset=rows, processing_class=tokenizer,
                      data_collator=DataCollatorWithPadding(tokenizer),
                      callbacks=[JsonlMetricsCallback(training.output_dir)])
    logger.info("training a regression reward model from %s on %d scored texts", training.base_model_name, len(texts))
    metrics = dict(trainer.train().metrics)
    trainer.save_model(training.output_dir)
    tokenizer.save_pretrained(training.output_dir)
    _write_marker(training.output_dir, key, "regression", len(texts), metrics)
    return training.output_dir
