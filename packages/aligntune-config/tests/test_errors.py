"""Malformed configs: each error names the field (its path) and what would be valid; all errors of a
config are reported together."""

import pytest

from aligntune_config import ConfigLoader, ConfigValidationError, UnifiedConfig

BASE = {"algo": "sft", "model": {"name_or_path": "m"}, "datasets": [{"name": "d"}]}


def with_(**changes):
    out = {k: (dict(v) if isinstance(v, dict) else list(v) if isinstance(v, list) else v) for k, v in BASE.items()}
    for dotted, value in changes.items():
        section, _, field = dotted.partition("__")
        if not field:
            out[section] = value
        elif section == "datasets":
            out["datasets"] = [dict(out["datasets"][0], **{field: value})]
        else:
            out.setdefault(section, {})
            out[section] = dict(out[section], **{field: value})
    return out


CASES = [
    (with_(train__learning_rate=-1), "train.learning_rate", "must be > 0"),
    (with_(train__per_device_batch_size=0), "train.per_device_batch_size", "must be > 0"),
    (with_(train__max_steps="ten"), "train.max_steps", "must be an integer"),
    (with_(train__learnig_rate=1e-5), "train.learnig_rate", "did you mean 'learning_rate'"),
    (with_(model__lora_rnk=8), "model.lora_rnk", "did you mean"),
    (with_(datasets__percent=0), "datasets[0].percent", "must be > 0"),
    (with_(datasets__percent=150), "datasets[0].percent", "must be <= 100"),
    (with_(algo="grpo_plus"), "algo", "must be one of"),
    (with_(model__precision="fp8"), "model.precision", "must be one of"),
    (with_(train__lr_sheduler="linear"), "train.lr_sheduler", "did you mean 'lr_scheduler'"),
    (with_(trian={"max_steps": 2}), "trian", "did you mean 'train'"),
    (with_(model__bias="some"), "model.bias", "'none', 'all' or 'lora_only'"),
    (with_(train__max_prompt_length=2048, train__max_length=1024), "train.max_prompt_length", "must be < train.max_length"),
    (with_(algo="grpo", train__per_device_batch_size=3, train__num_generations=2), "train.num_generations", "must divide"),
    (with_(algo="grpo"), "train.num_generations", "needs num_generations >= 2"),
    (with_(algo="gspo", backend="unsloth", train__per_device_batch_size=2), "backend", "does not run gspo"),
    (with_(algo="ppo", model__reward_value_model=None), "rewards", "ppo needs a reward source"),
    (with_(algo="dpo", datasets__format_type="alpaca"), "datasets[0].format_type", "preference pairs"),
    (with_(meta_es={"N": 5}, algo="meta_es", train__per_device_batch_size=2), "meta_es.N", "must be even"),
    (with_(train__batch_size=4, train__per_device_batch_size=8), "train", "another name for 'per_device_batch_size'"),
    (with_(logging__save_steps=100, train__save_interval=200), "logging.save_steps", "same thing as train.save_interval"),
    (with_(distributed={"backend": "single", "num_processes": 4}), "distributed", "use ddp, fsdp or deepspeed"),
    (with_(logging__loggers=["tensorbored"]), "logging.loggers", "tensorboard, wandb, jsonl"),
    (with_(train__grpo_alpha=0.5), "train.grpo_alpha", "only the spec default 0.1"),
    (with_(rewards=[{"type": "custom"}]), "rewards[0]", "params.reward_function"),
    (with_(train__fp16=True, train__bf16=True), "train.fp16", "exclusive"),
    (with_(model__quantization={"load_in_4bit": True, "load_in_8bit": True}), "model.quantization", "exclusive"),
    (with_(datasets=[]), "datasets", "at least 1"),
    (with_(model={}), "model.name_or_path", "is required"),
    (with_(train__max_length=4096), "train.max_length", "model.max_seq_length"),
    (with_(algo="dapo", train__per_device_batch_size=2, train__epsilon_high=0.1), "train.epsilon_high", "must be >= cliprange"),
    (with_(logging__push_to_hub=True), "logging", "hub_model_id"),
    (with_(train__eval_strategy="no", train__load_best_model_at_end=True), "train.load_best_model_at_end", "needs evaluation"),
]


@pytest.mark.parametrize("config,path,fragment", CASES, ids=[c[1] + ":" + c[2][:20] for c in CASES])
def test_malformed_config_names_field_and_fix(config, path, fragment):
    with pytest.raises(ConfigValidationError) as info:
        UnifiedConfig.validate_dict(config)
    messages = [str(issue) for issue in info.value.issues]
    assert any(m.startswith(path) and fragment in m for m in messages), messages


def test_at_least_twenty_cases():
    assert len(CASES) >= 20


def test_all_errors_reported_together():
    config = with_(train__learning_rate=-1, model__lora_rnk=1, datasets__percent=500, logging__log_level="LOUD")
    with pytest.raises(ConfigValidationError) as info:
        UnifiedConfig.validate_dict(config)
    assert sorted(info.value.paths) == ["datasets[0].percent", "logging.log_level", "model.lora_rnk", "train.learning_rate"]
    text = str(info.value)
    assert text.startswith("4 errors")
    assert "train.learning_rate: must be > 0, got -1" in text


def test_cross_field_errors_reported_together():
    config = with_(algo="grpo", train__per_device_batch_size=3, train__num_generations=2, train__max_prompt_length=5000,
                   train__max_length=1000)
    with pytest.raises(ConfigValidationError) as info:
        UnifiedConfig.validate_dict(config)
    assert set(info.value.paths) == {"train.num_generations", "train.max_prompt_length"}


def test_direct_constructor_raises_same_error_type():
    from aligntune_config import TrainingConfig

    with pytest.raises(ConfigValidationError, match=r"learning_rate: must be > 0, got 0"):
        TrainingConfig(learning_rate=0)


def test_file_errors_name_the_file(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("model: {name_or_path: m\n  datasets: [")
    with pytest.raises(ConfigValidationError, match=r"invalid YAML at line \d+"):
        ConfigLoader.load_from_yaml(bad)
    with pytest.raises(ConfigValidationError, match="does not exist"):
        ConfigLoader.load_from_yaml(tmp_path / "missing.yaml")
    empty = tmp_path / "empty.json"
    empty.write_text("")
    with pytest.raises(ConfigValidationError, match="empty"):
        ConfigLoader.load_from_json(empty)
    listing = tmp_path / "list.yaml"
    listing.write_text("- a\n- b\n")
    with pytest.raises(ConfigValidationError, match="must be a mapping"):
        ConfigLoader.load(listing)
    wrong = tmp_path / "bad2.yaml"
    wrong.write_text("algo: sft\nmodel: m\ndatasets: [d]\ntrain: {learning_rate: -1}\n")
    with pytest.raises(ConfigValidationError) as info:
        ConfigLoader.load(wrong)
    assert str(wrong) in str(info.value)
