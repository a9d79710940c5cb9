"""Task types pick default adapters, rewards and metrics (aligntune.tasks, applied in config resolution)."""

import json
import pathlib

import pytest

from aligntune import TaskRegistry
from aligntune.tasks import TASK_DEFINITIONS
from aligntune_config import ConfigLoader

DATA = pathlib.Path(__file__).resolve().parents[3].parent / "shared" / "data"


def resolve(algo="grpo", **extra):
    base = {"algo": algo, "model": {"name_or_path": "embedded:tiny-random"}, "train": {"per_device_batch_size": 2}}
    return ConfigLoader.load({**base, **extra})


@pytest.mark.parametrize("task,rewards,metrics", [
    ("math", ["math_accuracy"], ["math_accuracy"]),
    ("code", ["code_execution"], ["pass_at_k"]),
    ("summarization", ["rouge", "conciseness"], ["rouge"]),
    ("classification", ["exact_match"], ["exact_match"]),
    ("conversation", ["helpfulness", "safety", "repetition"], ["rouge", "bleu"]),
    ("chat_completion", ["helpfulness", "safety", "repetition"], ["rouge", "bleu"]),
])
def test_each_task_type_picks_rewards_and_metrics(task, rewards, metrics):
    config = resolve(datasets=[{"name": "builtin:arithmetic", "task_type": task}])
    assert [r.type for r in config.rewards] == rewards
    assert config.evaluation.metrics == metrics
    again = ConfigLoader.validate_config(config)  # what train uses is what validate showed
    assert [r.to_spec() for r in again.rewards] == [r.to_spec() for r in config.rewards]


def test_task_adapters_follow_the_data_package():
    from aligntune_data.adapters import TASK_ADAPTERS

    assert TaskRegistry.get("math").adapters == ("gsm8k", "prompt")
    assert TaskRegistry.get("code").adapters[:2] == ("mbpp", "humaneval")
    for name, definition in TASK_DEFINITIONS.items():
        assert definition.adapters == TASK_ADAPTERS[name]


def test_given_rewards_and_metrics_win_and_offline_algorithms_get_no_rewards():
    config = resolve(datasets=[{"name": "builtin:arithmetic", "task_type": "math"}], rewards=["length"],
                     evaluation={"metrics": ["bleu"]})
    assert [r.type for r in config.rewards] == ["length"] and config.evaluation.metrics == ["bleu"]
    sft = resolve("sft", datasets=[{"name": "builtin:arithmetic", "task_type": "math"}])
    assert sft.rewards == [] and sft.evaluation.metrics == ["math_accuracy"]
    plain = resolve(datasets=["builtin:arithmetic"], rewards=["length"])
    assert plain.evaluation.metrics is None


def test_multi_task_weights_and_per_task_overrides():
    config = resolve("ppo", datasets=["builtin:arithmetic", "builtin:instructions"],
                     tasks=[{"name": "math", "weight": 3}, {"name": "code", "weight": 1, "rewards": ["length:weight=2"],
                                                            "metrics": ["codebleu"]}])
    assert [(r.type, r.weight) for r in config.rewards] == [("math_accuracy", 0.75), ("length", 0.5)]
    assert config.evaluation.metrics == ["math_accuracy", "codebleu"]


def test_one_declared_task_types_the_datasets_and_before_after_gets_metrics():
    config = resolve("sft", datasets=["builtin:arithmetic"], eval_datasets=["builtin:arithmetic:test"],
                     tasks=["math"], evaluation={"before_after": True})
    assert config.datasets[0].task_type.value == "math" and config.eval_datasets[0].task_type.value == "math"
    assert config.evaluation.metrics == ["math_accuracy"]


def test_token_classification_stays_refused():
    from aligntune_data import DataError, load_dataset

    config = resolve("sft", datasets=[{"name": "builtin:arithmetic", "task_type": "token_classification"}])
    assert config.rewards == [] and config.evaluation.metrics is None
    with pytest.raises(DataError, match="token classification"):
        load_dataset(list(config.datasets), format="sft")


@pytest.mark.skipif(not (DATA / "gsm8k_test.jsonl").exists(), reason="../shared/data/gsm8k_test.jsonl not present")
def test_math_task_trains_grpo_with_the_math_reward(tmp_path):
    from aligntune import create_rl_trainer

    trainer = create_rl_trainer(
        algorithm="grpo", model_name="embedded:tiny-random", backend="trl",
        datasets=[{"name": str(DATA / "gsm8k_test.jsonl"), "task_type": "math", "max_samples": 8}],
        train={"per_device_batch_size": 2, "max_steps": 1, "max_completion_length": 8, "max_prompt_length": 64},
        logging={"output_dir": str(tmp_path), "loggers": ["jsonl"]})
    assert [r.type for r in trainer.config.rewards] == ["math_accuracy"]
    reward = trainer.trainer.reward_funcs[0]
    assert reward(prompts=["q", "q"], completions=["so #### 72", "#### 71"], answer=["72", "72"]) == [1.0, 0.0]
    assert set(trainer.trainer.train_dataset.column_names) >= {"prompt", "answer"}  # the gsm8k adapter's prompts
    trainer.train()
    logged = [json.loads(x) for x in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert any("reward" in k for row in logged for k in row)


def test_a_known_benchmark_gives_grpo_its_task_rewards_when_nothing_else_does():
    config = resolve(datasets=["openai/gsm8k"])
    assert [r.type for r in config.rewards] == ["math_accuracy"]
    code = resolve("dapo", datasets=[{"name": "/data/sanitized-mbpp.json"}])
    assert [r.type for r in code.rewards] == ["code_execution"]
    assert resolve(datasets=["openai/gsm8k"], rewards=["length"]).rewards[0].type == "length"
    assert resolve(datasets=["my/own-data"]).rewards == []  # unknown data: nothing is guessed
    assert resolve("sft", datasets=["openai/gsm8k"]).evaluation.metrics is None  # only online runs without rewards
