"""DatasetRegistry, RewardRegistry, TaskRegistry and UnifiedLogger."""

import json

import pytest

import aligntune
from aligntune import DatasetRegistry, RewardRegistry, TaskRegistry, UnifiedLogger
from aligntune_config import ConfigLoader
from aligntune_config.registry import DATASET_SOURCES, REWARDS, TASKS, UnknownComponentError


def test_views_show_the_shared_registries():
    assert set(RewardRegistry.list()) == set(REWARDS.names()) and "math_accuracy" in RewardRegistry
    assert {"builtin", "local", "hub"} <= set(DatasetRegistry.list())
    assert {"arithmetic", "instructions"} <= set(DatasetRegistry.builtin_datasets())
    assert {"conversation", "classification", "summarization", "math", "code"} <= set(TaskRegistry.list())
    with pytest.raises(UnknownComponentError, match="did you mean 'length'"):
        RewardRegistry.get("lenght")


def test_a_reward_registered_here_is_what_training_resolves():
    def shouting(completions, **kw):
        return [1.0 if c.isupper() else 0.0 for c in completions]

    RewardRegistry.register("shouting", shouting)
    try:
        assert REWARDS.get("shouting") is shouting
        reward = RewardRegistry.build("shouting")
        assert list(reward(["HI", "hi"])) == [1.0, 0.0]
        with pytest.raises(ValueError, match="already registered"):
            RewardRegistry.register("shouting", lambda c, **k: [0.0] * len(c))
        config = ConfigLoader.load({"algo": "grpo", "model": {"name_or_path": "m"}, "datasets": ["builtin:arithmetic"],
                                    "rewards": ["shouting"], "train": {"per_device_batch_size": 2}})
        assert ConfigLoader.validate_config(config).rewards[0].type == "shouting"
    finally:
        RewardRegistry.unregister("shouting")
    assert "shouting" not in RewardRegistry


def test_dataset_registry_loads_like_training():
    rows = DatasetRegistry.load("builtin:arithmetic#max=5", format="prompt")
    assert len(rows) == 5 and {"prompt", "answer"} <= set(rows.column_names)
    source = DatasetRegistry.get("builtin")
    assert source is DATASET_SOURCES.get("builtin")


def test_task_registry_register_checks_and_feeds_resolution():
    from aligntune.tasks import TaskDefinition

    with pytest.raises(TypeError, match="task definition"):
        TaskRegistry.register("text_generation", object())
    TaskRegistry.register("text_generation", TaskDefinition("text_generation", "free text", rewards=("fluency",),
                                                            metrics=("distinct",)))
    try:
        config = ConfigLoader.load({"algo": "grpo", "model": {"name_or_path": "m"}, "train": {"per_device_batch_size": 2},
                                    "datasets": [{"name": "builtin:arithmetic", "task_type": "text_generation"}]})
        assert [r.type for r in config.rewards] == ["fluency"] and config.evaluation.metrics == ["distinct"]
    finally:
        TASKS.unregister("text_generation")


def test_unified_logger_writes_console_and_jsonl(tmp_path, caplog):
    with UnifiedLogger({"output_dir": str(tmp_path), "loggers": ["jsonl"], "log_level": "DEBUG"}) as log:
        assert log.setup().level == 10
        with caplog.at_level("INFO", logger="aligntune.metrics"):
            log.log_metrics({"loss": 1.5, "reward": 2}, step=3, prefix="train/")
        assert "train/loss=1.5" in caplog.text
        with pytest.raises(TypeError, match="expected a number"):
            log.log_metrics({"loss": "high"}, step=4)
    lines = [json.loads(x) for x in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert lines == [{"step": 3, "time": lines[0]["time"], "train/loss": 1.5, "train/reward": 2.0}]


def test_unified_logger_tensorboard_and_refusals(tmp_path):
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    with UnifiedLogger(output_dir=str(tmp_path), loggers=["tensorboard"]) as log:
        log.log_metrics({"kl": 0.25}, step=1)
        log.log_metrics({"kl": 0.5}, step=2)
    events = EventAccumulator(str(tmp_path / "logs"))
    events.Reload()
    assert [(e.step, e.value) for e in events.Scalars("kl")] == [(1, 0.25), (2, 0.5)]
    with pytest.raises(ValueError, match="unknown logger"):
        UnifiedLogger(output_dir=str(tmp_path), loggers=["mlflow"])


def test_names_are_exported_and_light():
    import subprocess
    import sys

    code = ("import sys, aligntune; [getattr(aligntune, n) for n in ('DatasetRegistry', 'RewardRegistry', "
            "'TaskRegistry', 'UnifiedLogger', 'RolloutEngine', 'PolicyModel', 'ReferenceModel', 'ValueModel')]; "
            "print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
    assert {"UnifiedEvaluator", "DatasetCache", "TaskRegistry"} <= set(dir(aligntune))
    assert aligntune.UnifiedEvaluator.__module__.startswith("aligntune_eval")
    assert aligntune.DatasetCache.__module__.startswith("aligntune_data")
