"""Reward models as the reward of GRPO-family runs: a reward model AlignTune trains first (pairwise on
preferences, or regression on reward-function scores), then GRPO on embedded:tiny-random scored by it."""

import json
import os
import pathlib

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from aligntune import create_rl_trainer  # noqa: E402

TEXTS = [f"The answer is {i}." + " Very long explanation." * (i % 5) for i in range(12)]


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("ALIGNTUNE_CACHE", str(tmp_path.parent / "aligntune-cache"))


def _grpo(tmp_path, source, **extra):
    return create_rl_trainer(
        model_name="embedded:tiny-random", dataset_name="builtin:arithmetic", max_samples=8, algorithm="grpo",
        reward_model_source=source, batch_size=4, max_steps=1, max_completion_length=8, precision="fp32",
        output_dir=str(tmp_path / "grpo"), caching={"root": str(tmp_path / "cache")}, loggers=["jsonl"], **extra)


def test_grpo_with_a_pairwise_reward_model_trained_by_aligntune(tmp_path):
    rm_dir = tmp_path / "rm"
    source = {"source_type": "custom_trained", "training_config": {
        "base_model_name": "embedded:tiny-random", "preference_dataset": "builtin:arithmetic-preferences#max=16",
        "output_dir": str(rm_dir), "num_epochs": 1, "batch_size": 4, "gradient_accumulation_steps": 1,
        "learning_rate": 1e-3}}
    trainer = _grpo(tmp_path, source)
    # the reward model was trained (all weights, a plain sequence classifier) and is now the run's reward
    marker = json.loads((rm_dir / "aligntune_reward_model.json").read_text())
    assert marker["method"] == "pairwise" and marker["rows"] == 16
    assert trainer.config.model.reward_path == str(rm_dir)
    composite = trainer.trainer.reward_funcs[0].fn
    assert [c.name for c in composite.components] == ["reward_model"]
    from transformers import AutoModelForSequenceClassification

    assert AutoModelForSequenceClassification.from_pretrained(rm_dir).config.num_labels == 1
    trainer.train()
    logged = [entry for entry in trainer.trainer.state.log_history if "reward" in entry]
    assert logged and logged[0]["reward"] == logged[0]["reward"]  # scored by the model, not NaN
    scores = composite.last_components["reward_model"]
    assert len(scores) == 4 * 1 and len(set(round(s, 6) for s in scores)) > 1  # per-completion model scores

    # a second run with the same settings reuses the trained model instead of training again
    before = (rm_dir / "model.safetensors").stat().st_mtime_ns
    _grpo(tmp_path, source)
    assert (rm_dir / "model.safetensors").stat().st_mtime_ns == before


def test_regression_reward_model_from_reward_function_scores(tmp_path):
    rm_dir = tmp_path / "rm-reg"
    source = {"source_type": "custom_trained", "training_config": {
        "base_model_name": "embedded:tiny-random", "training_texts": TEXTS, "reward_functions": ["length:max_length=40"],
        "output_dir": str(rm_dir), "num_epochs": 8, "batch_size": 4, "gradient_accumulation_steps": 1,
        "learning_rate": 3e-3}}
    trainer = _grpo(tmp_path, source, rewards=["math:weight=1.0"])
    marker = json.loads((rm_dir / "aligntune_reward_model.json").read_text())
    assert marker["method"] == "regression" and marker["rows"] == len(TEXTS)
    losses = [row["loss"] for row in map(json.loads, (rm_dir / "metrics.jsonl").read_text().splitlines()) if "loss" in row]
    assert losses[-1] < losses[0]  # the head fits the reward-function scores
    names = [c.name for c in trainer.trainer.reward_funcs[0].fn.components]
    assert names == ["math", "reward_model"]  # combined with config.rewards


def test_missing_local_reward_model_fails_before_the_policy_is_loaded(tmp_path, monkeypatch):
    import aligntune_backends.models.loader as loader

    def no_loading(*args, **kwargs):
        raise AssertionError("a model was loaded")

    monkeypatch.setattr(loader, "load_model_and_tokenizer", no_loading)
    with pytest.raises(ValueError, match="model.reward_path: .*no config.json"):
        _grpo(tmp_path, None, reward_path=str(tmp_path / "no-such-rm"))
    with pytest.raises(ValueError, match="reward model is the reward of online runs"):
        create_rl_trainer(model_name="embedded:tiny-random", dataset_name="builtin:arithmetic-preferences",
                          algorithm="dpo", reward_path=str(pathlib.Path(tmp_path)), output_dir=str(tmp_path / "d"))
