"""A Meta-ES run through create_rl_trainer: N=4 candidates, each trained T=5 NM-GRPO steps from the same
weights on builtin:arithmetic and scored on its held-out split; the run is interrupted after its first
iteration (state checkpointed) and a second run resumes from the state file and completes iteration 2."""

import json
import os

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from aligntune import create_rl_trainer


@pytest.fixture(autouse=True)
def one_torch_thread():
    """The tiny model's matrices are a few units wide: one thread is faster (and fair to a shared CPU)."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def config(tmp_path, **meta_es):
    return {
        "algo": "meta_es", "backend": "trl",
        "model": {"name_or_path": "embedded:tiny-random", "precision": "fp32", "use_peft": False,
                  "gradient_checkpointing": False},
        "datasets": [{"name": "builtin:arithmetic", "split": "train", "max_samples": 8}],
        "rewards": ["math_accuracy", "length:weight=0.5:min_length=30:max_length=200:unit=chars"],
        "train": {"per_device_batch_size": 2, "num_generations": 2, "learning_rate": 1e-2, "max_completion_length": 6,
                  "max_length": 96, "max_prompt_length": 64, "mask_truncated_completions": False,
                  "save_strategy": "no", "eval_strategy": "no", "logging_steps": 1, "seed": 7},
        "mirror": {"mirror_coefficient": 0.5, "units_per_group": 1, "init_scale": 0.1},
        "meta_es": {"N": 4, "T": 5, "meta_iterations": 2, "sigma": 0.5, "alpha": 0.5, "eval_samples": 2,
                    "eval_max_tokens": 6, "eval_temperature": 1.0, "eval_k": 2, **meta_es},
        "logging": {"output_dir": str(tmp_path / "meta_es"), "loggers": ["jsonl"]},
        "caching": {"root": str(tmp_path / "cache")},
    }


def test_meta_es_runs_two_iterations_with_an_interruption_and_a_resume(tmp_path, monkeypatch):
    monkeypatch.setenv("ALIGNTUNE_CACHE", str(tmp_path / "models"))
    out = tmp_path / "meta_es"
    trainer = create_rl_trainer(config(tmp_path))
    assert type(trainer).__name__ == "MetaESTrainer"
    metrics = trainer.train(max_iterations=1)  # interrupted after iteration 1
    first = json.loads((out / "meta_es_state.json").read_text())
    assert metrics["meta_es/iterations"] == first["iteration"] == 1
    assert len(first["history"][0]["fitness"]) == 4
    candidates = sorted((out / "candidates").iterdir())
    assert len(candidates) == 4
    logged = [json.loads(line) for line in (candidates[0] / "metrics.jsonl").read_text().splitlines()]
    assert max(row["step"] for row in logged) == 5  # T NM-GRPO steps per candidate
    assert any("mirror/bregman" in row for row in logged)

    resumed = create_rl_trainer(config(tmp_path, resume=str(out / "meta_es_state.json")))
    metrics = resumed.train()
    state = json.loads((out / "meta_es_state.json").read_text())
    assert metrics["meta_es/iterations"] == state["iteration"] == 2
    assert state["history"][0] == first["history"][0]  # continued, not restarted
    assert state["history"][1]["sigma"] == pytest.approx(0.5 * 0.99)
    fitness = [f for record in state["history"] for f in record["fitness"]]
    assert len(fitness) == 8 and all(f is not None and f >= 0 for f in fitness)
    assert metrics["meta_es/candidates_failed"] == 0
    assert len(list((out / "candidates").iterdir())) == 8
    from aligntune_algos.mirror import MirrorMap

    best = MirrorMap.load(resumed.save_model())
    assert best.to_vector().tolist() == state["best_phi"]


def test_meta_es_refuses_a_run_without_rewards_before_loading_a_model(tmp_path):
    bad = config(tmp_path)
    bad["rewards"] = []
    with pytest.raises(ValueError, match="rewards: Meta-ES needs rewards"):
        create_rl_trainer(bad)


def test_meta_es_refuses_fields_it_would_not_use(tmp_path):
    steps = config(tmp_path)
    steps["train"]["max_steps"] = 3
    with pytest.raises(ValueError, match="train.max_steps: every Meta-ES candidate trains meta_es.T steps"):
        create_rl_trainer(steps)
    hub = config(tmp_path)
    hub["evaluation"] = {"before_after": True, "holdout_fraction": 0.25, "metrics": ["math_accuracy"]}
    with pytest.raises(ValueError, match="evaluation.before_after: does not apply to meta_es"):
        create_rl_trainer(hub)


def test_candidate_fitness_pickles_for_worker_processes(tmp_path):
    """num_workers > 1 sends the fitness to spawned processes: it pickles without what it loaded."""
    import pickle

    from aligntune.meta_es_run import CandidateFitness
    from aligntune_config import ConfigLoader

    resolved = ConfigLoader.load(config(tmp_path))
    copy = pickle.loads(pickle.dumps(CandidateFitness(resolved, 1)))
    assert copy.config == resolved and copy._loaded is None and copy.units_per_group == 1
