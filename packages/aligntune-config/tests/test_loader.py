import json

import pytest
import yaml

from aligntune_config import ConfigLoader, ConfigValidationError, SFTConfigLoader, UnifiedConfig
from aligntune_config.flat import flat_keys

FULL = {
    "algo": "dapo",
    "backend": "trl",
    "model": {"name_or_path": "embedded:tiny-random", "use_peft": True, "lora_r": 4, "quantization": {}},
    "datasets": [
        {"name": "builtin:arithmetic", "split": "train", "max_samples": 64, "weight": 0.7, "task_type": "math"},
        {"name": "gsm8k", "split": "test", "percent": 10, "weight": 0.3, "column_mapping": {"question": "prompt"}},
    ],
    "train": {"per_device_batch_size": 4, "gradient_accumulation_steps": 2, "max_steps": 5, "learning_rate": 2e-5,
              "num_generations": 4, "epsilon_high": 0.28},
    "rewards": [{"type": "math", "weight": 1.0}, "length:weight=0.2:max_length=200"],
    "tasks": ["math"],
    "distributed": {"backend": "ddp", "num_processes": 2},
    "logging": {"output_dir": "./out", "run_name": "r", "loggers": ["jsonl"],
                "sample_logging": {"enabled": True, "interval_steps": 2}},
    "meta_es": {"N": 4, "T": 5},
    "caching": {"root": "./c"},
}


def test_round_trip_through_resolved_file(tmp_path):
    config = ConfigLoader.load(FULL)
    path = ConfigLoader.save_resolved_config(config, tmp_path / "run")
    assert path.name == "resolved_config.yaml"
    again = ConfigLoader.load_from_yaml(path)
    assert again == config
    # and a second save of the re-loaded config is byte-identical
    assert ConfigLoader.save_resolved_config(again, tmp_path / "run2").read_text() == path.read_text()


@pytest.mark.parametrize("algo", ["sft", "dpo", "ppo", "grpo", "gspo", "dapo", "drgrpo", "nmgrpo", "meta_es", "reward_model"])
def test_round_trip_every_algorithm(tmp_path, algo, minimal):
    config = UnifiedConfig.validate_dict(minimal(algo, train={"per_device_batch_size": 2}))
    again = ConfigLoader.load(ConfigLoader.save_resolved_config(config, tmp_path))
    assert again == config


def test_json_and_yaml_load_the_same(tmp_path):
    (tmp_path / "c.json").write_text(json.dumps(FULL))
    (tmp_path / "c.yaml").write_text(yaml.safe_dump(FULL))
    assert ConfigLoader.load_from_json(tmp_path / "c.json") == ConfigLoader.load_from_yaml(tmp_path / "c.yaml")


def test_flat_keyword_style_maps_onto_sections():
    config = ConfigLoader.load({
        "model_name": "Qwen/Qwen3-0.6B", "dataset_name": "openai/gsm8k", "config_name": "main", "algorithm": "grpo",
        "backend": "trl", "output_dir": "./output/grpo_model", "batch_size": 8, "max_steps": 100,
        "learning_rate": 2e-4, "max_seq_length": 512, "column_mapping": {"question": "prompt"},
        "rewards": [{"type": "accuracy", "weight": 1.0}], "num_epochs": 2, "use_peft": False, "seed": 7,
    })
    assert config.model.name_or_path == "Qwen/Qwen3-0.6B" and config.model.max_seq_length == 512
    assert config.datasets[0].name == "openai/gsm8k" and config.datasets[0].subset == "main"
    assert config.datasets[0].column_mapping == {"question": "prompt"}
    assert config.train.per_device_batch_size == 8 and config.train.epochs == 2 and config.train.seed == 7
    assert config.logging.output_dir == "./output/grpo_model"
    assert config.train.num_generations == 8
    assert config.model.use_peft is False


def test_file_plus_overrides_nested_dotted_and_flat(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(FULL))
    config = ConfigLoader.load(path, {
        "batch_size": 8,  # flat
        "train.learning_rate": 1e-4,  # dotted
        "datasets[1].max_samples": 9,  # indexed
        "logging": {"run_name": "over"},  # nested, merged
    })
    assert config.train.per_device_batch_size == 8
    assert config.train.learning_rate == 1e-4
    assert config.datasets[1].max_samples == 9 and config.datasets[1].percent == 10
    assert config.logging.run_name == "over" and config.logging.loggers == ["jsonl"]
    assert config.train.max_steps == 5  # untouched


def test_flat_dataset_keys_refused_with_several_datasets():
    with pytest.raises(ConfigValidationError, match="ambiguous with 2 datasets"):
        ConfigLoader.load(dict(FULL, max_samples=3))


def test_unknown_flat_key_suggests():
    with pytest.raises(ConfigValidationError, match="did you mean 'learning_rate'"):
        ConfigLoader.load({"model_name": "m", "dataset_name": "d", "algorithm": "sft", "learnin_rate": 1})


def test_flat_and_nested_conflict_in_one_source():
    with pytest.raises(ConfigValidationError, match="conflicts with train.per_device_batch_size=4"):
        ConfigLoader.load({"algo": "sft", "model": "m", "datasets": ["d"], "train": {"per_device_batch_size": 4},
                           "batch_size": 8})


def test_reward_function_lists():
    config = ConfigLoader.load({"model_name": "m", "dataset_name": "d", "algorithm": "ppo",
                                "reward_functions": ["helpfulness", "safety", "coherence"],
                                "reward_function_weights": [0.4, 0.3, 0.3]})
    assert [(r.type, r.weight) for r in config.rewards] == [("helpfulness", 0.4), ("safety", 0.3), ("coherence", 0.3)]


def test_env_interpolation(tmp_path, monkeypatch):
    monkeypatch.setenv("AT_MODEL", "my/model")
    monkeypatch.delenv("AT_STEPS", raising=False)
    path = tmp_path / "c.yaml"
    path.write_text("algo: sft\nmodel: ${AT_MODEL}\ndatasets: [d]\ntrain:\n  max_steps: ${AT_STEPS:-12}\n"
                    "logging:\n  run_name: cost-$${literal}\n")
    config = ConfigLoader.load(path)
    assert config.model.name_or_path == "my/model" and config.train.max_steps == 12
    assert config.logging.run_name == "cost-${literal}"
    path.write_text("algo: sft\nmodel: ${AT_UNSET_VAR}\ndatasets: [d]\n")
    with pytest.raises(ConfigValidationError, match="model: environment variable AT_UNSET_VAR is not set"):
        ConfigLoader.load(path)


def test_secrets_never_written(tmp_path, caplog):
    config = ConfigLoader.load(dict(FULL, logging={"output_dir": "o", "push_to_hub": True, "hub_model_id": "u/m",
                                                   "hub_token": "hf_SECRET123", "wandb_api_key": "wb_SECRET456"},
                                    model=dict(FULL["model"], model_init_kwargs={"token": "hf_SECRET789", "revision": "r"})))
    assert config.logging.hub_token.get_secret_value() == "hf_SECRET123"
    text = ConfigLoader.save_resolved_config(config, tmp_path).read_text()
    assert "SECRET" not in text and "hub_token" not in text
    assert "hf_SECRET123" not in repr(config) and "wb_SECRET456" not in repr(config)
    assert "SECRET" not in ConfigLoader.dumps(config)
    assert "revision: r" in text
    assert "SECRET" not in caplog.text


def test_sft_loader_defaults_algo(tmp_path, minimal):
    path = tmp_path / "sft.yaml"
    path.write_text("model:\n  name_or_path: m\ndatasets:\n  - name: tatsu-lab/alpaca\n    max_samples: 1000\n"
                    "train:\n  num_epochs: 3\n  per_device_batch_size: 4\n  learning_rate: 5e-5\n")
    config = SFTConfigLoader.load_from_yaml(path)
    assert config.algo == "sft" and config.train.epochs == 3 and config.train.learning_rate == 5e-5
    with pytest.raises(ConfigValidationError, match="algo: is required"):
        ConfigLoader.load_from_yaml(path)


def test_validate_config_revalidates_edits(minimal):
    config = UnifiedConfig.validate_dict(minimal("sft"))
    config.train.learning_rate = 3e-4  # validated on assignment
    assert ConfigLoader.validate_config(config).train.learning_rate == 3e-4
    with pytest.raises(ConfigValidationError, match="learning_rate"):
        config.train.learning_rate = -1


def test_section_objects_are_copied_not_mutated(minimal):
    from aligntune_config import ModelConfig

    model = ModelConfig(name_or_path="m")
    sft = UnifiedConfig(algo="sft", model=model, datasets=["d"])
    rl = UnifiedConfig(algo="dpo", model=model, datasets=["d"])
    assert model.use_peft is None and sft.model.use_peft is False and rl.model.use_peft is True


def test_cross_section_aliases_are_reconciled(minimal):
    config = UnifiedConfig.validate_dict(minimal("sft", logging={"save_steps": 200, "eval_steps": 50, "level": "debug",
                                                                 "report_to": "none"},
                                                 distributed={"seed": 3}, train={"gradient_checkpointing": False}))
    assert config.train.save_interval == 200 and config.train.eval_interval == 50 and config.train.seed == 3
    assert config.model.gradient_checkpointing is False and config.logging.loggers == []
    assert config.logging.log_level == "DEBUG"


def test_backend_flags(minimal):
    assert UnifiedConfig.validate_dict(minimal("sft", train={"use_trl": True})).backend == "trl"
    config = UnifiedConfig.validate_dict(minimal("dpo", model={"name_or_path": "m", "use_unsloth": True}))
    assert config.backend == "unsloth"
    with pytest.raises(ConfigValidationError, match="asks for the unsloth backend but backend is trl"):
        UnifiedConfig.validate_dict(minimal("dpo", backend="trl", model={"name_or_path": "m", "use_unsloth": True}))


def test_meta_es_accepts_mirror_fields(minimal):
    config = UnifiedConfig.validate_dict(minimal("meta_es", meta_es={"N": 4, "mirror_coefficient": 0.01, "init_scale": 0.1},
                                                 train={"per_device_batch_size": 2}))
    assert config.mirror.mirror_coefficient == 0.01 and config.mirror.init_scale == 0.1
    flat = ConfigLoader.load({"model_name": "m", "dataset_name": "d", "algorithm": "meta_es", "N": 6, "T": 3,
                              "sigma": 0.05, "mirror_coefficient": 0.2, "batch_size": 2, "eval_temperature": 0.5})
    assert (flat.meta_es.N, flat.meta_es.T, flat.meta_es.sigma, flat.mirror.mirror_coefficient) == (6, 3, 0.05, 0.2)
    assert flat.meta_es.eval_temperature == 0.5


def test_callables_written_as_import_paths(tmp_path, minimal):
    config = UnifiedConfig.validate_dict(minimal("sft", datasets=[{"name": "d", "processing_fn": "json:dumps"}],
                                                 rewards=[{"type": "custom", "params": {"reward_function": json.loads}}]))
    assert config.datasets[0].processing_fn is json.dumps
    text = ConfigLoader.save_resolved_config(config, tmp_path).read_text()
    assert "processing_fn: json:dumps" in text and "reward_function: json:loads" in text
    with pytest.raises(ConfigValidationError, match="has no attribute"):
        UnifiedConfig.validate_dict(minimal("sft", datasets=[{"name": "d", "processing_fn": "json:nope"}]))


def test_flat_keys_cover_quickstart_names():
    for name in ("model_name", "dataset_name", "config_name", "subset", "batch_size", "num_epochs", "output_dir",
                 "run_name", "max_seq_length", "peft_enabled", "use_unsloth", "task_type", "column_mapping",
                 "processing_fn", "reward_model_name", "num_generations", "learning_rate", "max_steps"):
        assert name in flat_keys()
