"""PPO with a reward model trained by AlignTune: embedded:tiny-random is trained as a reward model
(AlignTune's reward-model path, algo reward_model on the TRL engine) on preference pairs whose chosen
responses use one half of the vocabulary; PPO then takes that model as its reward (``model.reward_path``)
and initialises its critic from it (``model.reward_value_model``). The reward model's score and the
fraction of preferred tokens rise while the KL to the reference stays bounded."""

from __future__ import annotations

import random

import datasets
import pytest
import torch

PROMPTS = ["Hello", "The cat", "One two", "Why is", "Tell me", "A story", "Numbers:", "Q:"]
STEPS = 24
KL_BOUND = 5.0
"""Bound on the mean sequence KL (nats, 2-token responses) at every step."""


@pytest.fixture(scope="module")
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def vocabulary_halves(tiny_random_path):
    """(tokenizer, preferred ids, other ids): non-special tokens split by the sign of the first coordinate
    of their embedding in embedded:tiny-random (so a reward model of that family can generalise)."""
    from aligntune_backends.models import load_model_and_tokenizer
    from aligntune_config import ModelConfig

    model, tok = load_model_and_tokenizer(ModelConfig(name_or_path="embedded:tiny-random", precision="fp32"),
                                          for_training=False)
    emb = model.get_input_embeddings().weight
    special = set(tok.all_special_ids)
    ids = [i for i in range(emb.size(0)) if i not in special and tok.decode([i]).strip()]
    return tok, {i for i in ids if emb[i, 0] > 0}, [i for i in ids if emb[i, 0] <= 0]


def preference_rows(tok, good, bad, n, seed):
    rng = random.Random(seed)
    good = sorted(good)
    return [{"prompt": rng.choice(PROMPTS), "chosen": tok.decode(rng.sample(good, 2)),
             "rejected": tok.decode(rng.sample(bad, 2))} for _ in range(n)]


@pytest.fixture(scope="module")
def reward_model_path(tmp_path_factory, vocabulary_halves, one_thread):
    """A reward model trained by AlignTune (algo reward_model, full fine-tuning) and saved."""
    from aligntune_backends.trl.engine import TRLBackend
    from aligntune_config import UnifiedConfig

    tok, good, bad = vocabulary_halves
    out = tmp_path_factory.mktemp("rm")
    config = UnifiedConfig(algo="reward_model", backend="trl", datasets=["pairs"],
                           model={"name_or_path": "embedded:tiny-random", "use_peft": False, "precision": "fp32"},
                           train={"per_device_batch_size": 32, "epochs": 3, "learning_rate": 3e-3, "seed": 0,
                                  "save_strategy": "no", "eval_strategy": "no"},
                           logging={"output_dir": str(out), "loggers": [], "disable_tqdm": True})
    trainer = TRLBackend().create_trainer(config, train_dataset=datasets.Dataset.from_list(
        preference_rows(tok, good, bad, 256, seed=0)))
    trainer.train()
    return trainer.save_model()


def test_reward_model_ranks_held_out_pairs(reward_model_path, vocabulary_halves):
    from aligntune_backends.models import load_model_and_tokenizer
    from aligntune_backends.ppo.models import reward_model_scores
    from aligntune_config import ModelConfig

    tok, good, bad = vocabulary_halves
    rm, rm_tok = load_model_and_tokenizer(ModelConfig(name_or_path=reward_model_path, num_labels=1, precision="fp32"),
                                          for_training=False)
    rows = preference_rows(tok, good, bad, 64, seed=1)
    chosen = reward_model_scores(rm, rm_tok, [r["prompt"] + r["chosen"] for r in rows], 64)
    rejected = reward_model_scores(rm, rm_tok, [r["prompt"] + r["rejected"] for r in rows], 64)
    accuracy = sum(c > r for c, r in zip(chosen, rejected)) / len(rows)
    assert accuracy >= 0.75, f"held-out pairwise accuracy {accuracy:.2f}"


@pytest.fixture(scope="module")
def trained(tmp_path_factory, reward_model_path, vocabulary_halves, one_thread):
    from aligntune_backends.ppo import PPOTrainer
    from aligntune_config import UnifiedConfig

    _, good, _ = vocabulary_halves
    out = tmp_path_factory.mktemp("ppo-rm")
    config = UnifiedConfig(
        algo="ppo", backend="trl", datasets=["prompts"],
        model={"name_or_path": "embedded:tiny-random", "use_peft": False, "precision": "fp32",
               "reward_path": reward_model_path, "reward_value_model": reward_model_path},
        train={"rollout_batch_size": 32, "per_device_batch_size": 16, "max_steps": STEPS, "learning_rate": 1e-2,
               "response_length": 2, "num_ppo_epochs": 2, "temperature": 1.0, "top_p": 1.0,
               "missing_eos_penalty": 0.0, "save_strategy": "no", "eval_strategy": "no", "adap_kl_ctrl": False,
               "kl_coef": 0.1, "seed": 1, "lr_scheduler": "constant"},
        logging={"output_dir": str(out), "loggers": [], "disable_tqdm": True})
    data = datasets.Dataset.from_list([{"prompt": p} for p in PROMPTS])
    fractions: list[float] = []
    trainer = PPOTrainer(config, data)
    sample = trainer.rollouts.sample

    def sample_and_count(policy, rows):  # ground truth: the fraction of preferred tokens in each rollout
        roll = sample(policy, rows)
        ids = [r[m.bool()].tolist() for r, m in zip(roll.responses, roll.response_mask)]
        fractions.append(sum(sum(i in good for i in x) / max(len(x), 1) for x in ids) / len(ids))
        return roll

    trainer.rollouts.sample = sample_and_count
    trainer.train()
    return trainer, fractions


def test_reward_model_and_value_model_come_from_the_config(trained, reward_model_path):
    from transformers import AutoModelForSequenceClassification

    trainer, _ = trained
    assert trainer.rollouts.reward_fn is None and trainer.rollouts.reward_model is not None
    assert trainer.rollouts.reward_model.config.num_labels == 1
    rm = AutoModelForSequenceClassification.from_pretrained(reward_model_path)
    critic = trainer.value_model.backbone
    assert type(critic).__name__.endswith("ForSequenceClassification")  # the critic is the reward model's family
    # the critic started from the reward model: its embeddings moved from the RM's only by PPO updates
    assert not torch.equal(critic.get_input_embeddings().weight, rm.get_input_embeddings().weight)
    assert torch.allclose(critic.get_input_embeddings().weight, rm.get_input_embeddings().weight, atol=0.5)


def test_reward_model_score_rises_while_kl_stays_bounded(trained):
    trainer, fractions = trained
    rewards = [h["reward_mean"] for h in trainer.history]
    first, last = sum(rewards[:4]) / 4, sum(rewards[-4:]) / 4
    assert len(trainer.history) == STEPS
    # measured: -0.10 -> 0.35 alone, -0.15 -> 0.11 after the other PPO tests in one session (same seeds)
    assert last > first + 0.2, f"reward-model score: first 4 steps {first:.3f}, last 4 {last:.3f}: {rewards}"
    kls = [round(h["kl"], 2) for h in trainer.history]
    assert max(kls) < KL_BOUND, f"sequence KL per step {kls}; rewards {[round(r, 2) for r in rewards]}"
    # what the preference data prefers is what the policy learned: more tokens of the preferred half
    assert sum(fractions[-4:]) / 4 > sum(fractions[:4]) / 4 + 0.1, fractions
