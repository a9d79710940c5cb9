"""The factories train from each entry style (Python objects, keyword arguments, YAML) on
embedded:tiny-random with built-in data, save a model that loads back, and refuse bad input before any
model is loaded."""

import os
import pathlib

import pytest
import yaml

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from aligntune import (BackendConfig, BackendFactory, ConfigValidationError, DatasetConfig, ModelConfig,  # noqa: E402
                       TrainerFactory, TrainingConfig, UnifiedConfig, create_rl_trainer, create_sft_trainer)

TINY = {"name_or_path": "embedded:tiny-random", "precision": "fp32"}


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("ALIGNTUNE_CACHE", str(tmp_path.parent / "aligntune-cache"))


def test_sft_from_keyword_arguments(tmp_path):
    trainer = create_sft_trainer(model_name="embedded:tiny-random", dataset_name="builtin:instructions", max_samples=16,
                                 batch_size=4, max_steps=2, precision="fp32", output_dir=str(tmp_path / "sft"),
                                 caching={"root": str(tmp_path / "cache")})
    metrics = trainer.train()
    assert metrics["train_loss"] > 0
    from transformers import AutoModelForCausalLM

    assert AutoModelForCausalLM.from_pretrained(trainer.save_model()).num_parameters() > 0
    assert (tmp_path / "sft" / "resolved_config.yaml").exists()


def test_dpo_from_python_objects(tmp_path):
    config = UnifiedConfig(
        algo="dpo", backend="trl", model=ModelConfig(**TINY),
        datasets=[DatasetConfig(name="builtin:arithmetic-preferences", max_samples=16)],
        train=TrainingConfig(per_device_batch_size=4, max_steps=2, loss_type="ipo", learning_rate=1e-3),
        logging={"output_dir": str(tmp_path / "dpo")}, caching={"root": str(tmp_path / "cache")},
    )
    trainer = TrainerFactory.create_trainer(config)
    assert trainer.trainer.args.loss_type == ["ipo"]
    assert trainer.train()["train_loss"] > 0
    from peft import AutoPeftModelForCausalLM

    assert AutoPeftModelForCausalLM.from_pretrained(trainer.save_model()) is not None


def test_reward_model_from_yaml(tmp_path):
    path = tmp_path / "rm.yaml"
    path.write_text(yaml.safe_dump({
        "algo": "reward_model", "model": TINY, "datasets": ["builtin:arithmetic-preferences#max=16"],
        "train": {"per_device_batch_size": 4, "max_steps": 2},
        "logging": {"output_dir": str(tmp_path / "rm")}, "caching": {"root": str(tmp_path / "cache")},
    }))
    trainer = create_rl_trainer(config=str(path))
    assert trainer.train()["train_loss"] > 0
    from peft import AutoPeftModelForSequenceClassification  # RL runs train LoRA adapters by default

    saved = AutoPeftModelForSequenceClassification.from_pretrained(trainer.save_model(), num_labels=1)
    assert saved.config.num_labels == 1


def test_backend_factory_with_backend_config(tmp_path):
    config = {"model": TINY, "datasets": ["builtin:arithmetic-preferences#max=8"], "algo": "dpo",
              "train": {"per_device_batch_size": 4, "max_steps": 1}, "logging": {"output_dir": str(tmp_path / "bf")},
              "caching": {"root": str(tmp_path / "cache")}}
    trainer = BackendFactory.create_trainer(config, BackendConfig(training_type="rl", backend="trl", algorithm="dpo"))
    assert type(trainer.trainer).__name__ == "DPOTrainer"
    with pytest.raises(ValueError, match="execution engine"):
        BackendConfig(training_type="rl", backend="ddp", algorithm="dpo")


def test_bad_inputs_fail_before_any_model_is_loaded(tmp_path, monkeypatch):
    import aligntune_backends.models.loader as loader

    def no_loading(*args, **kwargs):
        raise AssertionError("a model was loaded")

    monkeypatch.setattr(loader, "load_model_and_tokenizer", no_loading)
    from aligntune_data import DataError

    # a dataset lacking the columns the algorithm needs
    with pytest.raises(DataError):
        create_rl_trainer(model_name="embedded:tiny-random", dataset_name="builtin:instructions", algorithm="dpo",
                          output_dir=str(tmp_path / "x"), caching={"root": str(tmp_path / "cache")},
                          format_type="preference")
    # an algorithm the backend can't run
    # (TRL runs every algorithm; the Unsloth backend does not run GSPO)
    with pytest.raises(ValueError, match="unsloth backend does not run gspo"):
        create_rl_trainer(model_name="embedded:tiny-random", dataset_name="builtin:arithmetic", algorithm="gspo",
                          backend="unsloth", rewards=["length"], batch_size=2, output_dir=str(tmp_path / "y"))
    # a bad config
    with pytest.raises(ConfigValidationError, match="learning_rate"):
        create_sft_trainer(model_name="embedded:tiny-random", dataset_name="builtin:instructions", learning_rate=-1)
    # a model path that doesn't exist
    monkeypatch.undo()
    with pytest.raises(ValueError, match="model.name_or_path"):
        create_sft_trainer(model_name=str(tmp_path / "no-such-model"), dataset_name="builtin:instructions",
                           max_samples=4, output_dir=str(tmp_path / "z"), caching={"root": str(tmp_path / "cache")})


def test_grpo_with_configured_rewards_from_keywords(tmp_path):
    trainer = create_rl_trainer(model_name="embedded:tiny-random", dataset_name="builtin:arithmetic", max_samples=8,
                                algorithm="grpo", rewards=["math:weight=1.0", "length:weight=0.1:max_length=50"],
                                batch_size=4, max_steps=1, max_completion_length=8, precision="fp32",
                                output_dir=str(tmp_path / "grpo"), caching={"root": str(tmp_path / "cache")})
    reward = trainer.trainer.reward_funcs[0]
    assert reward.__name__ == "reward"
    trainer.train()
    logged = [entry for entry in trainer.trainer.state.log_history if "reward" in entry]
    assert logged and logged[0]["reward"] == logged[0]["reward"]  # logged, not NaN
    assert set(reward.fn.last_components) == {"math", "length"}


def test_ppo_through_the_factory(tmp_path):
    trainer = create_rl_trainer(model_name="embedded:tiny-random", dataset_name="builtin:arithmetic", max_samples=8,
                                algorithm="ppo", rewards=["length:max_length=20"], batch_size=4, max_steps=2,
                                response_length=4, precision="fp32", output_dir=str(tmp_path / "ppo"),
                                loggers=["jsonl"], caching={"root": str(tmp_path / "cache")})
    summary = trainer.train()
    assert summary and (tmp_path / "ppo" / "metrics.jsonl").exists()
    assert (pathlib.Path(trainer.save_model()) / "adapter_config.json").exists()  # RL trains LoRA by default
