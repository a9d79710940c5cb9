"""evaluation.dpo_eval_enabled: after a DPO run on embedded:tiny-random, the DPO evaluation (preference
accuracy, margins, implicit rewards, win rate against the reference judged by the configured reward) runs on
the evaluation data within the configured limits and sampling settings, and its report is saved."""

import json
import os

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from aligntune import UnifiedConfig
from aligntune.run import train

JUDGE = "length:min_length=1:max_length=3"


def _config(tmp_path, **evaluation):
    return UnifiedConfig.model_validate({
        "algo": "dpo", "backend": "trl", "model": {"name_or_path": "embedded:tiny-random", "precision": "fp32"},
        "datasets": ["builtin:arithmetic-preferences#max=16"],
        "eval_datasets": ["builtin:arithmetic-preferences#max=16"],
        "rewards": [JUDGE],
        "train": {"per_device_batch_size": 4, "max_steps": 8, "learning_rate": 5e-3, "beta": 0.1,
                  "temperature": 0.8, "top_p": 0.9, "max_completion_length": 5},
        "evaluation": {"dpo_eval_enabled": True, **evaluation},
        "logging": {"output_dir": str(tmp_path / "run")}, "caching": {"root": str(tmp_path / "cache")},
    })


def test_dpo_run_evaluates_preferences_and_win_rate(tmp_path, monkeypatch):
    monkeypatch.setenv("ALIGNTUNE_CACHE", str(tmp_path / "models"))
    examples = "Q: 1 + 1?\nA: #### 2"
    result = train(_config(tmp_path, dpo_eval_max_samples=10, dpo_zero_shot_max_samples=4,
                           dpo_few_shot_max_samples=2, dpo_few_shot_examples_text=examples))
    report = result["dpo_eval"]
    folder = tmp_path / "run" / "dpo_eval"
    saved = json.loads((folder / "report.json").read_text())
    assert saved["metrics"] == pytest.approx(report["metrics"])
    assert "| preference_accuracy |" in (folder / "report.md").read_text()
    # the limits and sampling settings of the config
    assert (report["num_pairs"], report["num_zero_shot_prompts"], report["num_few_shot_prompts"]) == (10, 4, 2)
    assert report["generation"] == {"temperature": 0.8, "top_p": 0.9, "top_k": None, "max_new_tokens": 5}
    m = report["metrics"]
    # 8 DPO steps at a high learning rate on these very pairs: the implicit reward margin is positive
    assert m["reward_margin"] > 0 and m["preference_accuracy"] > 0.5
    assert m["reward_margin"] == pytest.approx(m["chosen_reward"] - m["rejected_reward"])
    # the win rate is the judge's verdict on the saved generations
    samples = [json.loads(line) for line in (folder / "predictions.jsonl").read_text().splitlines()]
    assert [s["setting"] for s in samples] == ["zero_shot"] * 4 + ["few_shot"] * 2
    assert all(s["prompt"].startswith(examples) for s in samples[4:])
    from aligntune_rewards import CompositeReward

    judge = CompositeReward([JUDGE])
    for setting, prefix in (("zero_shot", ""), ("few_shot", "few_shot_")):
        rows = [s for s in samples if s["setting"] == setting]
        policy = judge([s["policy"] for s in rows])
        reference = judge([s["reference"] for s in rows])
        assert [s["policy_score"] for s in rows] == pytest.approx(policy)
        wins = sum(p > r for p, r in zip(policy, reference))
        ties = sum(p == r for p, r in zip(policy, reference))
        assert m[prefix + "wins"] == wins and m[prefix + "ties"] == ties
        assert m[prefix + "win_rate"] == pytest.approx((wins + 0.5 * ties) / len(rows))
    # the LoRA policy differs from its reference (the base with adapters disabled)
    assert any(s["policy"] != s["reference"] for s in samples)


def test_dpo_eval_is_refused_where_it_cannot_run(tmp_path):
    config = _config(tmp_path)
    with pytest.raises(ValueError, match="needs evaluation data"):
        train(config.model_copy(update={"eval_datasets": []}))
    sft = UnifiedConfig.model_validate({
        "algo": "sft", "model": {"name_or_path": "embedded:tiny-random"}, "datasets": ["builtin:instructions#max=4"],
        "evaluation": {"dpo_eval_enabled": True}, "logging": {"output_dir": str(tmp_path / "sft")}})
    with pytest.raises(ValueError, match="dpo_eval_enabled applies to algo dpo"):
        train(sft)
