"""PPO with LoRA: the reference is the policy with its adapters disabled (no second copy), KL is 0 at
the first step; the adaptive KL coefficient moves towards its target; save_model and evaluate."""

from __future__ import annotations

from pathlib import Path

import datasets
import pytest
import torch

PROMPTS = ["Hello", "The cat", "One two", "Why is"]


def count_digits(completions, *, prompts=None, references=None, **columns):
    return [float(sum(ch.isdigit() for ch in c)) for c in completions]


def make(tmp_path, use_peft, model_fields=None, reward_fn=count_digits, **train):
    from aligntune_backends.ppo import PPOTrainer
    from aligntune_config import UnifiedConfig

    base = {"rollout_batch_size": 4, "per_device_batch_size": 2, "gradient_accumulation_steps": 2, "max_steps": 2,
            "learning_rate": 5e-2, "response_length": 4, "num_ppo_epochs": 1, "save_strategy": "no",
            "eval_strategy": "no", "lr_scheduler": "constant"}
    base.update(train)
    config = UnifiedConfig(algo="ppo", backend="trl", datasets=["prompts"], rewards=["length"],
                           model={"name_or_path": "embedded:tiny-random", "use_peft": use_peft, "precision": "fp32",
                                  **(model_fields or {})},
                           train=base, logging={"output_dir": str(tmp_path), "loggers": [], "disable_tqdm": True})
    data = datasets.Dataset.from_list([{"prompt": p, "answer": "42"} for p in PROMPTS])
    return PPOTrainer(config, data, reward_fn=reward_fn)


def test_lora_reference_is_the_adapter_disabled_policy(tmp_path, tiny_random_path):
    from aligntune_backends.models import load_model_and_tokenizer
    from aligntune_config import ModelConfig

    trainer = make(tmp_path, use_peft=True, adap_kl_ctrl=True, init_kl_coef=0.2, target_kl=10.0, kl_horizon=10)
    assert trainer.is_peft and trainer.reference.shares_policy and trainer.reference.frozen is None
    with trainer.reference.model() as ref:
        assert ref is trainer.policy  # no second policy-sized model
    policy_params = {id(p) for p in trainer.policy.parameters()}
    assert not policy_params & {id(p) for p in trainer.value_model.parameters()}  # the critic is its own model
    trainer.train()
    first, second = trainer.history
    assert first["kl"] == pytest.approx(0.0, abs=1e-5)  # LoRA B = 0: policy = reference at step 0
    assert second["kl_coef"] < first["kl_coef"] == pytest.approx(0.2)  # KL below target -> β shrinks

    # after training the adapters matter, and the reference still equals the base model
    base, _ = load_model_and_tokenizer(ModelConfig(name_or_path="embedded:tiny-random", precision="fp32"),
                                       for_training=False)
    ids = torch.tensor([[1, 2, 3, 4, 5]])
    with torch.no_grad(), trainer.reference.model() as ref:
        ref_logits = ref(input_ids=ids).logits
    with torch.no_grad():
        policy_logits, base_logits = trainer.policy(input_ids=ids).logits, base(input_ids=ids).logits
    assert torch.allclose(ref_logits, base_logits, atol=1e-5)
    assert not torch.allclose(policy_logits, base_logits, atol=1e-4)

    saved = trainer.save_model()
    names = {p.name for p in Path(saved).iterdir()}
    assert "adapter_config.json" in names and "tokenizer_config.json" in names and "value_head.pt" in names
    metrics = trainer.evaluate()
    assert set(metrics) == {"eval_reward_mean", "eval_reward_std", "eval_kl", "eval_response_length"}


def test_adaptive_kl_coefficient_grows_when_kl_exceeds_target(tmp_path, tiny_random_path):
    trainer = make(tmp_path, use_peft=False, max_steps=3, kl_estimator="k3", adap_kl_ctrl=True, init_kl_coef=0.2,
                   target_kl=1e-8, kl_horizon=10)
    trainer.train()
    betas = [h["kl_coef"] for h in trainer.history]
    kls = [h["kl_per_token"] for h in trainer.history]
    assert betas[0] == pytest.approx(0.2) and betas[1] < betas[0]  # step 1: policy = reference, KL 0 < target
    assert kls[1] > 1e-8 and betas[2] > betas[1]  # after an update KL > target -> β grows
    assert trainer.kl_ctl.value > betas[2]


def test_force_use_ref_model_loads_a_separate_reference_for_lora(tmp_path, tiny_random_path):
    trainer = make(tmp_path, use_peft=True, model_fields={"force_use_ref_model": True}, max_steps=1)
    assert trainer.is_peft and not trainer.reference.shares_policy
    policy_params = {p.data_ptr() for p in trainer.policy.parameters()}
    ref_params = list(trainer.reference.frozen.parameters())
    assert ref_params and not policy_params & {p.data_ptr() for p in ref_params}  # its own weights
    assert not any(p.requires_grad for p in ref_params)
    trainer.train()
    assert trainer.history[0]["kl"] == pytest.approx(0.0, abs=1e-5)  # the same base weights as the policy


def test_value_model_from_reward_value_model_and_refusals(tmp_path, tiny_random_path):
    """model.reward_value_model initialises the critic (here the policy's own folder, a causal LM: zero head);
    a critic of another vocabulary, or a run without any reward, is refused with the field named."""
    trainer = make(tmp_path, use_peft=False, model_fields={"reward_value_model": str(tiny_random_path)}, max_steps=1)
    assert type(trainer.value_model.backbone).__name__.endswith("ForCausalLM")
    assert not trainer.value_model.head.weight.detach().any()

    import shutil

    from transformers import AutoTokenizer

    with pytest.raises(ValueError, match="PPO needs a reward"):
        make(tmp_path, use_peft=False, reward_fn=None)
    other = tmp_path / "other-vocabulary"
    shutil.copytree(tiny_random_path, other)
    tok = AutoTokenizer.from_pretrained(other)
    tok.add_tokens(["<not-in-the-policy-vocabulary>"])
    tok.save_pretrained(other)
    with pytest.raises(ValueError, match="model.reward_value_model.*another vocabulary"):
        make(tmp_path, use_peft=False, model_fields={"reward_value_model": str(other)})
