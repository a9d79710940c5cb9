"""PolicyModel, ReferenceModel, ValueModel and RolloutEngine on the embedded tiny model."""

import pytest

torch = pytest.importorskip("torch")

from aligntune import PolicyModel, ReferenceModel, RolloutEngine, ValueModel  # noqa: E402

PROMPTS = ["What is 2 + 3?", "Name a colour."]
COMPLETIONS = [" It is five.", " Blue"]


@pytest.fixture(scope="module")
def policy():
    torch.manual_seed(0)
    return PolicyModel.from_pretrained("embedded:tiny-random", for_training=True, precision="fp32")


def manual_logprob(model, tokenizer, prompt, completion):
    p = tokenizer(prompt, add_special_tokens=False)["input_ids"]
    c = tokenizer(completion, add_special_tokens=False)["input_ids"]
    ids = torch.tensor([p + c])
    with torch.no_grad():
        logits = model(input_ids=ids).logits[0, len(p) - 1:-1].float()
    return torch.log_softmax(logits, -1).gather(1, torch.tensor(c).unsqueeze(1)).sum().item(), len(c)


def test_policy_logprobs_match_an_unpadded_forward_and_carry_gradients(policy):
    logps, mask = policy.logprobs(PROMPTS, COMPLETIONS)
    for i, (p, c) in enumerate(zip(PROMPTS, COMPLETIONS)):
        expected, n = manual_logprob(policy.model, policy.tokenizer, p, c)
        assert int(mask[i].sum()) == n
        assert logps[i].sum().item() == pytest.approx(expected, abs=1e-4)
    assert (logps <= 0).all()
    policy.sequence_logprobs(PROMPTS, COMPLETIONS).sum().backward()
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in policy.parameters())
    policy.model.zero_grad()


def test_reference_is_a_frozen_copy_of_a_full_policy(policy):
    reference = ReferenceModel(policy)
    assert not reference.shares_policy
    before, _ = reference.logprobs(PROMPTS, COMPLETIONS)
    with torch.no_grad():
        for p in policy.parameters():
            p.add_(0.05 * torch.randn_like(p))
    after_policy, _ = policy.logprobs(PROMPTS, COMPLETIONS)
    after_reference, _ = reference.logprobs(PROMPTS, COMPLETIONS)
    assert torch.allclose(before, after_reference)
    assert not torch.allclose(after_policy.detach(), after_reference)
    assert not after_reference.requires_grad


def test_reference_of_a_lora_policy_disables_the_adapters():
    torch.manual_seed(0)
    lora = PolicyModel.from_pretrained("embedded:tiny-random", precision="fp32", use_peft=True, lora_r=4,
                                       lora_alpha=8, lora_target_modules=["q_proj", "v_proj"])
    assert lora.is_peft
    reference = ReferenceModel(lora)
    assert reference.shares_policy
    base, _ = reference.logprobs(PROMPTS, COMPLETIONS)
    with torch.no_grad():
        for name, p in lora.model.named_parameters():
            if "lora_B" in name:
                p.fill_(0.5)
    changed, _ = lora.logprobs(PROMPTS, COMPLETIONS)
    still, _ = reference.logprobs(PROMPTS, COMPLETIONS)
    assert torch.allclose(base, still, atol=1e-6)
    assert not torch.allclose(changed.detach(), still, atol=1e-4)


def test_value_model_head_starts_at_zero_and_trains():
    value = ValueModel.from_pretrained("embedded:tiny-random", precision="fp32")
    values, mask = value.values(PROMPTS, COMPLETIONS)
    assert values.shape == mask.shape and torch.count_nonzero(values) == 0
    with torch.no_grad():
        value.head.bias.fill_(1.5)
    values, mask = value.values(PROMPTS, COMPLETIONS)
    assert torch.allclose(values, 1.5 * mask.float())
    values.sum().backward()
    assert value.head.bias.grad is not None and value.head.bias.grad.item() == pytest.approx(float(mask.sum()))


def test_rollout_engine_samples_groups_and_scores_them(policy):
    engine = RolloutEngine(policy, max_new_tokens=6, temperature=1.0, num_generations=3, batch_size=1, seed=1,
                           reward=lambda completions, **kw: [float(len(c)) for c in completions])
    batch = engine.generate({"prompt": PROMPTS, "answer": ["5", "blue"]})
    assert len(batch) == 6 and batch.prompt_index == [0, 0, 0, 1, 1, 1]
    assert batch.columns["answer"] == ["5"] * 3 + ["blue"] * 3
    assert all(1 <= len(ids) <= 6 for ids in batch.completion_ids)
    assert batch.scores == [float(len(c)) for c in batch.completions]
    again = RolloutEngine(policy, max_new_tokens=6, temperature=1.0, num_generations=3, batch_size=1, seed=1)
    assert again.generate(PROMPTS).completions == batch.completions  # seeded sampling repeats


def test_rollout_engine_greedy_matches_generate_and_uses_registry_rewards(policy):
    engine = RolloutEngine(policy, max_new_tokens=5, temperature=0, reward="length:min_length=1:max_length=3")
    batch = engine.generate(PROMPTS)
    ids = policy.tokenizer(PROMPTS[0], return_tensors="pt", add_special_tokens=False)["input_ids"]
    with torch.no_grad():
        out = policy.model.generate(ids, max_new_tokens=5, do_sample=False, pad_token_id=engine.pad_id,
                                    eos_token_id=engine.stop_id)
    expected = out[0, ids.size(1):].tolist()
    if engine.stop_id in expected:
        expected = expected[:expected.index(engine.stop_id) + 1]
    assert batch.completion_ids[0] == expected
    assert batch.scores is not None and all(0.0 <= s <= 1.0 for s in batch.scores)
    assert policy.generate(PROMPTS, max_new_tokens=5, temperature=0) == batch.completions


def test_rollout_engine_rejects_bad_settings(policy):
    with pytest.raises(ValueError, match="num_generations"):
        RolloutEngine(policy, temperature=0, num_generations=2)
    with pytest.raises(ValueError, match="max_new_tokens"):
        RolloutEngine(policy, max_new_tokens=0)
