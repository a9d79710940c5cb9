"""A Meta-ES run through create_rl_trainer: N=4 candidates, each trained T=5 NM-GRPO steps from the same
weights on builtin:arithmetic and scored on its held-out split; the state is checkpointed and a second
run resumes from it."""

import json
import os

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from aligntune import create_rl_trainer  # noqa: E402


def config(tmp_path, **meta_es):
    return {
        "algo": "meta_es", "backend": "trl",
        "model": {"name_or_path": "embedded:tiny-random", "precision": "fp32", "use_peft": False,
                  "gradient_checkpointing": False},
        "datasets": [{"name": "builtin:arithmetic", "split": "train", "max_samples": 16}],
        "rewards": ["math_accuracy", "length:weight=0.5:min_length=30:max_length=200:unit=chars"],
        "train": {"per_device_batch_size": 4, "num_generations": 4, "learning_rate": 1e-2, "max_completion_length": 8,
                  "max_length": 96, "max_prompt_length": 64, "mask_truncated_completions": False,
                  "save_strategy": "no", "eval_strategy": "no", "logging_steps": 1, "seed": 7},
        "mirror": {"mirror_coefficient": 0.5, "units_per_group": 1, "init_scale": 0.1},
        "meta_es": {"N": 4, "T": 5, "meta_iterations": 2, "sigma": 0.5, "alpha": 0.5, "eval_samples": 4,
                    "eval_max_tokens": 8, "eval_temperature": 1.0, "eval_k": 2, **meta_es},
        "logging": {"output_dir": str(tmp_path / "meta_es"), "loggers": ["jsonl"]},
        "caching": {"root": str(tmp_path / "cache")},
    }


def test_meta_es_runs_two_iterations_writes_its_state_and_resumes(tmp_path, monkeypatch):
    monkeypatch.setenv("ALIGNTUNE_CACHE", str(tmp_path / "models"))
    trainer = create_rl_trainer(config(tmp_path))
    assert type(trainer).__name__ == "MetaESTrainer"
    metrics = trainer.train()
    out = tmp_path / "meta_es"
    state = json.loads((out / "meta_es_state.json").read_text())
    assert metrics["meta_es/iterations"] == state["iteration"] == 2
    assert len(state["history"]) == 2 and metrics["meta_es/candidates_failed"] == 0
    fitness = [f for record in state["history"] for f in record["fitness"]]
    assert len(fitness) == 8 and all(f is not None and f >= 0 for f in fitness)
    candidates = sorted((out / "candidates").iterdir())
    assert len(candidates) == 8
    steps = [json.loads(line)["step"] for line in (candidates[0] / "metrics.jsonl").read_text().splitlines()]
    assert max(steps) == 5  # T NM-GRPO steps per candidate
    logged = [json.loads(line) for line in (candidates[0] / "metrics.jsonl").read_text().splitlines()]
    assert any("mirror/bregman" in row for row in logged)
    from aligntune_algos.mirror import MirrorMap

    best = MirrorMap.load(trainer.save_model())
    assert best.to_vector().tolist() == state["best_phi"]

    # resume: a third iteration continues from the saved φ, σ and RNG
    resumed = create_rl_trainer(config(tmp_path, meta_iterations=3, resume=str(out / "meta_es_state.json")))
    metrics = resumed.train()
    state3 = json.loads((out / "meta_es_state.json").read_text())
    assert metrics["meta_es/iterations"] == state3["iteration"] == 3
    assert state3["history"][:2] == state["history"]
    assert state3["history"][2]["sigma"] == pytest.approx(0.5 * 0.99 ** 2)


def test_meta_es_refuses_a_run_without_rewards_before_loading_a_model(tmp_path):
    bad = config(tmp_path)
    bad["rewards"] = []
    with pytest.raises(ValueError, match="rewards: Meta-ES needs rewards"):
        create_rl_trainer(bad)
