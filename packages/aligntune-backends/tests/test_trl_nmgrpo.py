"""NM-GRPO on the TRL engine: the loss is GRPO's plus λ·D_h(π_θ, π_ref) (checked against the mirror map
computed independently), the reference exists when kl_coef = 0, it trains and saves a model that loads."""

import json
import os
import pathlib

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")

datasets = pytest.importorskip("datasets")

from aligntune_backends.trl.engine import EngineError, backend
from aligntune_config import UnifiedConfig

ROWS = [{"prompt": f"What is {i} plus {i}?", "answer": str(2 * i)} for i in range(12)]


def length(completions, *, prompts=None, references=None, **columns):
    """Characters / 50: differs within a group, so the advantages (and the policy's updates) are not zero."""
    return [len(c) / 50 for c in completions]


def make(tmp_path, *, peft, coefficient, max_steps=2, **train):
    config = UnifiedConfig(
        algo="nmgrpo", backend="trl", datasets=["rows"],
        model={"name_or_path": "embedded:tiny-random", "use_peft": peft, "precision": "fp32"},
        train={"per_device_batch_size": 4, "max_steps": max_steps, "learning_rate": 1e-2, "save_strategy": "no",
               "eval_strategy": "no", "max_completion_length": 8, "logging_steps": 1,
               "mask_truncated_completions": False, **train},  # tiny-random rarely ends a completion
        mirror={"mirror_coefficient": coefficient, "units_per_group": 2, "init_scale": 0.5, "mirror_seed": 3},
        logging={"output_dir": str(tmp_path / "nmgrpo"), "loggers": ["jsonl"]},
    )
    data = datasets.Dataset.from_list(ROWS)
    return backend.create_trainer(config, train_dataset=data, reward_functions=[length], reward_names=["length"])


def test_loss_is_grpo_plus_lambda_times_the_bregman_divergence(tmp_path):
    import torch
    from aligntune_algos import mirror as M

    trainer = make(tmp_path, peft=False, coefficient=0.5, kl_coef=0.0)
    trl = trainer.trainer
    assert type(trl).__name__ == "NMGRPOTrainer" and trl.beta == 0.0
    trl.model.train()
    trl.current_gradient_accumulation_steps = 1
    batch = trl._generate_and_score_completions([ROWS[0]] * 4)
    assert "ref_per_token_logps" in batch  # computed by NM-GRPO although TRL's β is 0
    with torch.no_grad():  # move the policy away from the (frozen) reference
        gen = torch.Generator().manual_seed(0)
        for p in trl.model.parameters():
            p.add_(0.2 * torch.randn(p.shape, generator=gen))
    with_term = trl.compute_loss(trl.model, batch)
    trl.mirror_coefficient = 0.0
    without = trl.compute_loss(trl.model, batch)
    ids = torch.cat([batch["prompt_ids"], batch["completion_ids"]], dim=1)
    attention = torch.cat([batch["prompt_mask"], batch["completion_mask"]], dim=1)
    with torch.no_grad():
        logps, _, _ = trl._get_per_token_logps_and_entropies(trl.model, ids, attention, batch["completion_ids"].size(1))
    mirror = M.MirrorMap.random(2, 0.5, seed=3)  # the map the config describes, built independently
    divergence = mirror.bregman_from_logps(logps, batch["ref_per_token_logps"])
    expected = 0.5 * M.aggregate(divergence, batch["completion_mask"], "grpo")
    assert expected.item() > 1e-4
    assert (with_term - without).item() == pytest.approx(expected.item(), rel=1e-4)
    assert trl._metrics["train"]["mirror/bregman"][-1] > 0


def test_trains_with_lora_logs_the_divergence_and_saves_a_loadable_model(tmp_path):
    trainer = make(tmp_path, peft=True, coefficient=1.0, max_steps=3, kl_coef=0.0)
    assert trainer.trainer._nm_ref_model is None  # LoRA: the reference is the base with adapters disabled
    metrics = trainer.train()
    assert metrics["train_loss"] == metrics["train_loss"]
    logged = [json.loads(line) for line in (tmp_path / "nmgrpo" / "metrics.jsonl").read_text().splitlines()]
    bregman = [row["mirror/bregman"] for row in logged if "mirror/bregman" in row]
    assert len(bregman) == 3 and all(b >= 0 for b in bregman)
    assert bregman[0] == pytest.approx(0.0, abs=1e-7)  # step 1: the policy is still the reference
    assert bregman[-1] > 0  # the adapters moved the policy away from the base
    saved = pathlib.Path(trainer.save_model())
    from peft import AutoPeftModelForCausalLM

    assert AutoPeftModelForCausalLM.from_pretrained(saved) is not None


def test_meta_es_is_not_an_engine_trainer():
    config = UnifiedConfig(algo="meta_es", model={"name_or_path": "m"}, datasets=["d"], rewards=["length"],
                           train={"per_device_batch_size": 2})
    with pytest.raises(EngineError, match="meta_es"):
        backend.check(config)
