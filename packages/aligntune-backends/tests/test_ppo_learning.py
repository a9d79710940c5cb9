"""PPO learns on CPU: embedded:tiny-random (full fine-tuning, frozen-copy reference) with a reward
that prefers half of the vocabulary. The mean reward of the last 2 steps clearly beats the first 2,
the KL to the reference stays bounded, and every step logs finite values of every metric."""

from __future__ import annotations

import json
import math

import datasets
import pytest
import torch

PROMPTS = ["Hello", "The cat", "One two", "Why is", "Tell me", "A story", "Numbers:", "Q:"]
STEPS = 30
KL_BOUND = 5.0
"""Bound on the mean sequence KL (nats, 2-token responses) at every step; measured maxima 1.5-2.1."""


@pytest.fixture(scope="module")
def one_thread():
    """One torch thread: steadier timings on 2 shared cores."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def make_config(tmp_path, **train):
    from aligntune_config import UnifiedConfig

    base = {"rollout_batch_size": 32, "per_device_batch_size": 16, "max_steps": STEPS, "learning_rate": 1e-2,
            "response_length": 2, "num_ppo_epochs": 2, "temperature": 1.0, "top_p": 1.0, "missing_eos_penalty": 0.0,
            "save_strategy": "no", "eval_strategy": "no", "adap_kl_ctrl": False, "kl_coef": 0.1, "seed": 1, "lr_scheduler": "constant"}
    base.update(train)
    return UnifiedConfig(algo="ppo", backend="trl", datasets=["prompts"], rewards=["length"],
                         model={"name_or_path": "embedded:tiny-random", "use_peft": False, "precision": "fp32"},
                         train=base, logging={"output_dir": str(tmp_path), "loggers": ["jsonl"], "disable_tqdm": True})


@pytest.fixture(scope="module")
def trained(tmp_path_factory, one_thread, tiny_random_path):
    from aligntune_backends.ppo import PPOTrainer

    out = tmp_path_factory.mktemp("ppo-learning")
    data = datasets.Dataset.from_list([{"prompt": p} for p in PROMPTS])
    holder: dict[str, list[bool]] = {}

    def half_vocab(completions, *, prompts=None, references=None, completion_ids=None, **columns):
        """Fraction of response tokens whose (initial) embedding has a positive first coordinate."""
        good = holder["good"]
        return [sum(good[i] for i in ids) / max(len(ids), 1) for ids in completion_ids]

    trainer = PPOTrainer(make_config(out), data, reward_fn=half_vocab)
    holder["good"] = (trainer.policy.get_input_embeddings().weight[:, 0] > 0).tolist()
    summary = trainer.train()
    return trainer, summary, out


def test_the_trainer_uses_the_registered_ppo_maths():
    from aligntune_backends.ppo import ppo_math

    assert ppo_math().__name__ == "aligntune_algos.ppo_math"


def test_reward_rises_while_kl_stays_bounded(trained):
    trainer, summary, _ = trained
    rewards = [h["reward_mean"] for h in trainer.history]
    first, last = sum(rewards[:2]) / 2, sum(rewards[-2:]) / 2
    assert summary["global_step"] == STEPS == len(trainer.history)
    assert last > first + 0.12, f"mean reward of the first 2 steps {first:.3f}, of the last 2 {last:.3f}"
    assert max(h["kl"] for h in trainer.history) < KL_BOUND
    assert trainer.history[0]["kl"] == pytest.approx(0.0, abs=1e-5)  # frozen copy = policy before any update
    assert not trainer.reference.shares_policy and trainer.reference.frozen is not trainer.policy


def test_every_step_logs_every_metric_finite(trained):
    from aligntune_backends.ppo import LOGGED_KEYS

    trainer, _, out = trained
    for record in trainer.history:
        for key in LOGGED_KEYS:
            assert key in record and math.isfinite(record[key]), (key, record.get(key))
    lines = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert [line["step"] for line in lines] == list(range(1, STEPS + 1))
    assert all(key in lines[-1] for key in LOGGED_KEYS)
    assert all(record["kl_coef"] == pytest.approx(0.1) for record in trainer.history)  # fixed β
    assert (out / "resolved_config.yaml").exists()
