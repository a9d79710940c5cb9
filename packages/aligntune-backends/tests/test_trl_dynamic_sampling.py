"""DAPO dynamic sampling in the TRL engine: groups whose rewards are all equal are dropped and the batch
is refilled from further prompts, on embedded:tiny-random."""

import json
import os
import random

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")

datasets = pytest.importorskip("datasets")
torch = pytest.importorskip("torch")

from aligntune_backends.trl.dynamic_sampling import merge_groups
from aligntune_backends.trl.engine import backend
from aligntune_config import UnifiedConfig

ROWS = [{"prompt": f"What is {i} plus {i}?", "answer": str(2 * i)} for i in range(16)]


def half_constant(completions, *, prompts=None, references=None, **columns):
    """A constant reward for prompts about even numbers, a random one for the others."""
    return [1.0 if int(p.split()[2]) % 2 == 0 else random.random() for p in prompts]


def digits(completions, *, prompts=None, references=None, **columns):
    """1 for a completion that contains a digit."""
    return [float(any(ch.isdigit() for ch in c)) for c in completions]


def make_trainer(tmp_path, reward, **train):
    config = UnifiedConfig(
        algo="dapo", backend="trl", datasets=["rows"],
        model={"name_or_path": "embedded:tiny-random", "use_peft": True, "precision": "fp32"},
        train={"per_device_batch_size": 4, "num_generations": 2, "max_steps": 2, "learning_rate": 1e-3,
               "save_strategy": "no", "eval_strategy": "no", "max_completion_length": 8, "logging_steps": 1,
               **train},
        logging={"output_dir": str(tmp_path / "dapo"), "loggers": ["jsonl"]},
    )
    return backend.create_trainer(config, train_dataset=datasets.Dataset.from_list(ROWS),
                                  reward_functions=[reward], reward_names=[reward.__name__])


def test_engine_accepts_dynamic_sampling():
    config = UnifiedConfig(algo="dapo", model={"name_or_path": "embedded:tiny-random"}, datasets=["d"],
                           rewards=["length"], train={"per_device_batch_size": 2})
    assert config.train.dynamic_sampling
    backend.check(config)  # no longer refused


def test_constant_groups_are_dropped_and_the_batch_refilled(tmp_path):
    # tiny-random never stops before max_completion_length: keep truncated completions in the loss
    trainer = make_trainer(tmp_path, half_constant, max_resample_batches=8, mask_truncated_completions=False)
    inner = trainer.trainer
    assert type(inner).__name__ == "DynamicSamplingGRPOTrainer"
    batches, stats = [], []
    score = inner._generate_and_score_completions

    def spy(inputs):
        out = score(inputs)
        if inner.model.training:
            batches.append(out)
            stats.append(dict(inner.last_dynamic_sampling))
        return out

    inner._generate_and_score_completions = spy
    metrics = trainer.train()
    assert metrics["train_loss"] == metrics["train_loss"]
    assert len(batches) == 2 and all(b["advantages"].numel() == 4 for b in batches)
    for batch, stat in zip(batches, stats):
        assert stat["groups_dropped"] > 0 and stat["groups_short"] == 0
        assert (stat["kept_rewards"].std(dim=1) > 0).all()  # no zero-std group trained on
        assert (batch["advantages"].view(-1, 2).abs().sum(dim=1) > 0).all()
        assert batch["prompt_ids"].size(0) == batch["completion_ids"].size(0) == 4
    logged = [json.loads(line) for line in (tmp_path / "dapo" / "metrics.jsonl").read_text().splitlines()]
    drops = [r["dynamic_sampling/drop_fraction"] for r in logged if "dynamic_sampling/drop_fraction" in r]
    assert drops and all(d > 0 for d in drops)
    assert any(r.get("dynamic_sampling/generation_rounds", 0) >= 2 for r in logged)
    assert any(r.get("grad_norm", 0) > 0 for r in logged)  # the kept groups carry a gradient


def test_dapo_with_dynamic_sampling_trains_two_steps(tmp_path):
    trainer = make_trainer(tmp_path, digits, max_resample_batches=2)
    metrics = trainer.train()
    assert trainer.trainer.state.global_step == 2
    assert metrics["train_loss"] == metrics["train_loss"]
    assert 1 <= trainer.trainer.last_dynamic_sampling["rounds"] <= 2


def test_merge_pads_prompts_left_and_completions_right():
    a = {"prompt_ids": torch.tensor([[5, 6], [7, 8]]), "prompt_mask": torch.ones(2, 2, dtype=torch.long),
         "completion_ids": torch.tensor([[1], [2]]), "completion_mask": torch.ones(2, 1, dtype=torch.long),
         "advantages": torch.tensor([1.0, -1.0]), "num_items_in_batch": torch.tensor(2)}
    b = {"prompt_ids": torch.tensor([[9], [9]]), "prompt_mask": torch.ones(2, 1, dtype=torch.long),
         "completion_ids": torch.tensor([[3, 4], [3, 0]]), "completion_mask": torch.tensor([[1, 1], [1, 0]]),
         "advantages": torch.tensor([0.5, -0.5]), "num_items_in_batch": torch.tensor(3)}
    out = merge_groups([a, b], [(1, 0), (0, 0)], group_size=2, pad_token_id=0)
    assert out["prompt_ids"].tolist() == [[0, 9], [0, 9], [5, 6], [7, 8]]
    assert out["prompt_mask"].tolist() == [[0, 1], [0, 1], [1, 1], [1, 1]]
    assert out["completion_ids"].tolist() == [[3, 4], [3, 0], [1, 0], [2, 0]]
    assert out["advantages"].tolist() == [0.5, -0.5, 1.0, -1.0]
    assert int(out["num_items_in_batch"]) == 5
    with pytest.raises(ValueError, match="pixel_values"):
        merge_groups([{**a, "pixel_values": torch.zeros(2, 1)}], [(0, 0)], 2, 0)
