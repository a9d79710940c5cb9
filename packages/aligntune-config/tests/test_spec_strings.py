import pytest

from aligntune_config import (DatasetConfig, RewardConfig, SpecStringError, format_dataset_spec, format_reward_spec,
                              parse_dataset_spec, parse_reward_spec)


@pytest.mark.parametrize("text,expected", [
    ("Anthropic/hh-rlhf:train#percent=25", {"name": "Anthropic/hh-rlhf", "split": "train", "percent": 25.0}),
    ("gsm8k:train#max=1000", {"name": "gsm8k", "split": "train", "max_samples": 1000}),
    ("HuggingFaceH4/ultrafeedback_binarized:train?map.prompt=prompt&map.chosen=chosen&map.rejected=rejected",
     {"name": "HuggingFaceH4/ultrafeedback_binarized", "split": "train",
      "column_mapping": {"prompt": "prompt", "chosen": "chosen", "rejected": "rejected"}}),
    ("Anthropic/hh-rlhf:train#percent=1", {"name": "Anthropic/hh-rlhf", "split": "train", "percent": 1.0}),
    ("builtin:arithmetic", {"name": "builtin:arithmetic"}),
    ("builtin:arithmetic:test#max=5", {"name": "builtin:arithmetic", "split": "test", "max_samples": 5}),
    ("openai/gsm8k:train[:10%]?subset=main&task=math", {"name": "openai/gsm8k", "split": "train[:10%]",
                                                        "subset": "main", "task_type": "math"}),
    ("./data/x.jsonl#percent=50%&max=3", {"name": "./data/x.jsonl", "percent": 50.0, "max_samples": 3}),
    ("d?map.question=prompt&weight=0.4&format=gsm8k", {"name": "d", "column_mapping": {"question": "prompt"},
                                                       "weight": 0.4, "format_type": "gsm8k"}),
])
def test_parse_dataset_spec(text, expected):
    assert parse_dataset_spec(text) == expected
    DatasetConfig(**parse_dataset_spec(text))  # and it validates


@pytest.mark.parametrize("text,position,fragment", [
    ("", 0, "empty"),
    ("gsm8k:", 6, "split after ':' is empty"),
    ("gsm8k:train#percent=0", 12, "percent must be in (0, 100]"),
    ("gsm8k:train#percent=abc", 12, "percent must be a number"),
    ("gsm8k:train#max=-3", 12, "max must be > 0"),
    ("gsm8k#limit=3", 6, "unknown selector 'limit'"),
    ("gsm8k?colour=red", 6, "unknown option 'colour'"),
    ("gsm8k?map.=x", 6, "map.SOURCE=TARGET"),
    ("gsm8k?subset", 6, "must be key=value"),
    ("gsm8k?x=1#max=3", 9, "'#' must come before '?'"),
    ("gsm8k:tr ain", 6, "is not a split"),
    (":train", 0, "name is missing"),
])
def test_malformed_dataset_specs_point_at_the_problem(text, position, fragment):
    with pytest.raises(SpecStringError) as info:
        parse_dataset_spec(text)
    assert fragment in str(info.value)
    assert info.value.position == position
    caret_line = str(info.value).splitlines()[2]
    assert caret_line.index("^") == position + 4
    assert "expected name[:split]" in str(info.value)


@pytest.mark.parametrize("text", [
    "gsm8k", "gsm8k:test", "builtin:arithmetic:test#max=5", "a/b:train#percent=12.5&max=7?map.q=prompt&subset=main",
    "d?format=hh-rlhf&task=math&weight=0.3&on_bad_rows=skip&shuffle=false",
])
def test_dataset_spec_round_trip(text):
    config = DatasetConfig(**parse_dataset_spec(text))
    again = DatasetConfig(**parse_dataset_spec(format_dataset_spec(config)))
    assert again == config
    assert config.to_spec() == format_dataset_spec(config)


@pytest.mark.parametrize("text,expected", [
    ("length:weight=1.0:min_length=10:max_length=200",
     {"type": "length", "weight": 1.0, "params": {"min_length": 10, "max_length": 200}}),
    ("math:weight=0.8:tolerance=1e-6", {"type": "math", "weight": 0.8, "params": {"tolerance": 1e-6}}),
    ("safety:weight=0.5:strict=true", {"type": "safety", "weight": 0.5, "params": {"strict": True}}),
    ("safety:2:shield=true:clip=1", {"type": "safety", "weight": 2.0, "shield": True, "clip": 1}),
    ('regex:pattern="^a:b$":flags=null', {"type": "regex", "params": {"pattern": "^a:b$", "flags": None}}),
    ("keywords:words=[\"a\",\"b\"]:normalize=true", {"type": "keywords", "normalize": True, "params": {"words": ["a", "b"]}}),
    ("length", {"type": "length"}),
])
def test_parse_reward_spec(text, expected):
    assert parse_reward_spec(text) == expected
    RewardConfig(**parse_reward_spec(text))


@pytest.mark.parametrize("text,fragment", [
    ("", "empty"),
    ("len gth", "not a reward name"),
    ("length::weight=1", "empty part"),
    ("length:weight=heavy", "weight must be a number"),
    ("length:min_length", "must be key=value"),
    ("length:a=1:a=2", "given twice"),
    ("length:weight=", "weight has no value"),
    ('regex:pattern="abc', "not closed"),
    ("length:1x=3", "not a parameter name"),
])
def test_malformed_reward_specs(text, fragment):
    with pytest.raises(SpecStringError, match=fragment.replace("(", r"\(")):
        parse_reward_spec(text)


@pytest.mark.parametrize("text", [
    "length:weight=1.0:min_length=10:max_length=200", "safety:weight=0.5:shield=true:strict=true:clip=2.0",
    'regex:weight=1.0:pattern="^a:b$"', "rm:weight=-0.5:model_name=x/y:device=cpu:words=[\"a\",\"b\"]:name=\"true\"",
])
def test_reward_spec_round_trip(text):
    config = RewardConfig(**parse_reward_spec(text))
    assert RewardConfig(**parse_reward_spec(format_reward_spec(config))) == config
    assert RewardConfig.model_validate(config.to_spec()) == config


def test_spec_strings_accepted_in_configs():
    from aligntune_config import UnifiedConfig

    config = UnifiedConfig(algo="grpo", model={"name_or_path": "m"},
                           datasets=["gsm8k:train#max=10?subset=main"], rewards=["math:weight=2"],
                           train={"per_device_batch_size": 2})
    assert config.datasets[0].max_samples == 10 and config.datasets[0].subset == "main"
    assert config.rewards[0].type == "math" and config.rewards[0].weight == 2
