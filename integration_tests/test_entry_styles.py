"""Every algorithm the TRL engine trains -- SFT, DPO (sigmoid, ipo, hinge, robust, bco_pair, exo_pair),
reward model, GRPO, GSPO, DAPO, Dr. GRPO -- trains a step from each entry style (Python objects, keyword
arguments, YAML) on embedded:tiny-random with built-in data and saves a model that loads back."""

import os
import pathlib

import pytest
import yaml

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from aligntune import (DatasetConfig, ModelConfig, TrainerFactory, TrainingConfig, UnifiedConfig,  # noqa: E402
                       create_rl_trainer, create_sft_trainer)

DATA = {"sft": "builtin:instructions", "dpo": "builtin:arithmetic-preferences",
        "reward_model": "builtin:arithmetic-preferences"}
ONLINE = ("grpo", "gspo", "dapo", "drgrpo")
# (algorithm, DPO loss type): each in all three entry styles; the extra DPO losses once each
CASES = [(algo, None, style) for algo in ("sft", "reward_model", *ONLINE) for style in ("objects", "kwargs", "yaml")]
CASES += [("dpo", "sigmoid", style) for style in ("objects", "kwargs", "yaml")]
CASES += [("dpo", "ipo", "kwargs"), ("dpo", "hinge", "yaml"), ("dpo", "robust", "objects"),
          ("dpo", "bco_pair", "kwargs"), ("dpo", "exo_pair", "yaml")]


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("ALIGNTUNE_CACHE", str(tmp_path.parent / "aligntune-cache"))


def _settings(algo, loss, tmp_path):
    train = {"per_device_batch_size": 4, "max_steps": 1, "learning_rate": 1e-3, "save_strategy": "no"}
    if algo in ONLINE:
        train.update({"max_completion_length": 8, "num_generations": 4})
    if algo == "dpo":
        train["loss_type"] = loss
        if loss == "exo_pair":  # EXO needs label smoothing > 0 (TRL refuses 0; the paper uses 1e-3)
            train["label_smoothing"] = 1e-3
    return {"algo": algo, "backend": "trl", "model": {"name_or_path": "embedded:tiny-random", "precision": "fp32"},
            "datasets": [{"name": DATA.get(algo, "builtin:arithmetic"), "max_samples": 8}],
            "rewards": ["length:max_length=20"] if algo in ONLINE else [], "train": train,
            "logging": {"output_dir": str(tmp_path / "out"), "loggers": ["jsonl"]},
            "caching": {"root": str(tmp_path / "cache")}}


def _build(style, settings, tmp_path):
    algo = settings["algo"]
    create = create_sft_trainer if algo == "sft" else create_rl_trainer
    if style == "objects":
        config = UnifiedConfig(algo=algo, backend="trl", model=ModelConfig(**settings["model"]),
                               datasets=[DatasetConfig(**d) for d in settings["datasets"]],
                               rewards=settings["rewards"], train=TrainingConfig(**settings["train"]),
                               logging=settings["logging"], caching=settings["caching"])
        return TrainerFactory.create_trainer(config)
    if style == "yaml":
        path = tmp_path / "run.yaml"
        path.write_text(yaml.safe_dump(settings))
        return create(config=str(path))
    kwargs = {"model_name": settings["model"]["name_or_path"], "precision": "fp32",
              "dataset_name": settings["datasets"][0]["name"], "max_samples": 8, "batch_size": 4,
              "output_dir": settings["logging"]["output_dir"], "loggers": ["jsonl"], "caching": settings["caching"],
              **{k: v for k, v in settings["train"].items() if k != "per_device_batch_size"}}
    if settings["rewards"]:
        kwargs["rewards"] = settings["rewards"]
    if algo == "sft":
        return create_sft_trainer(**kwargs)
    return create_rl_trainer(algorithm=algo, **kwargs)


@pytest.mark.parametrize("algo,loss,style", CASES, ids=[f"{a}{'-' + l if l else ''}-{s}" for a, l, s in CASES])
def test_trains_and_saves_a_model_that_loads_back(algo, loss, style, tmp_path):
    trainer = _build(style, _settings(algo, loss, tmp_path), tmp_path)
    if algo == "dpo":
        assert trainer.trainer.args.loss_type == [loss]
    if algo == "gspo":
        assert trainer.trainer.args.importance_sampling_level == "sequence"
    metrics = trainer.train()
    assert metrics["train_loss"] == metrics["train_loss"]  # a number, not NaN
    saved = pathlib.Path(trainer.save_model())
    if algo == "sft":  # SFT trains all weights by default
        from transformers import AutoModelForCausalLM

        assert AutoModelForCausalLM.from_pretrained(saved).num_parameters() > 0
    elif algo == "reward_model":  # RL runs train LoRA adapters by default
        from peft import AutoPeftModelForSequenceClassification

        assert AutoPeftModelForSequenceClassification.from_pretrained(saved, num_labels=1).config.num_labels == 1
    else:
        from peft import AutoPeftModelForCausalLM

        assert AutoPeftModelForCausalLM.from_pretrained(saved) is not None
