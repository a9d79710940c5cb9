"""PPO rollouts: cutting at the stop token, the missing-EOS penalty, and weighting a reward function
against a sequence-classification reward model."""

from __future__ import annotations

import pytest
import torch


def generator(tokenizer, reward_fn=None, reward_model=None, reward_tokenizer=None, weights=(1.0, 1.0), **train):
    from aligntune_backends.ppo import RolloutGenerator
    from aligntune_config import TrainingConfig

    return RolloutGenerator(tokenizer, TrainingConfig(**train), reward_fn, reward_model, reward_tokenizer, weights)


@pytest.fixture(scope="module")
def tiny(tiny_random_path):
    from aligntune_backends.models import load_model_and_tokenizer
    from aligntune_config import ModelConfig

    return load_model_and_tokenizer(ModelConfig(name_or_path="embedded:tiny-random", precision="fp32"),
                                    for_training=False)


def test_cut_at_stop_masks_after_eos_and_keeps_it(tiny):
    _, tok = tiny
    gen = generator(tok, reward_fn=lambda c, **k: [0.0] * len(c))
    eos = tok.eos_token_id
    responses = torch.tensor([[5, eos, 7, 8], [5, 6, 7, 8]])
    cut, mask, ended = gen.cut_at_stop(responses)
    assert mask.tolist() == [[1, 1, 0, 0], [1, 1, 1, 1]] and ended.tolist() == [True, False]
    assert cut[0, 2:].tolist() == [gen.pad_id, gen.pad_id]


def test_scores_weight_reward_fn_and_reward_model_and_penalise_missing_eos(tiny):
    from aligntune_backends.models import load_model_and_tokenizer
    from aligntune_config import ModelConfig

    _, tok = tiny
    rm, rm_tok = load_model_and_tokenizer(ModelConfig(name_or_path="embedded:tiny-random", precision="fp32",
                                                      num_labels=1), for_training=False)
    seen = {}

    def fn(completions, *, prompts=None, references=None, **columns):
        seen.update(columns, references=references)
        return [1.0, 2.0]

    gen = generator(tok, fn, rm, rm_tok, weights=(2.0, 0.5), missing_eos_penalty=1.5)
    rows = {"prompt": ["a", "b"], "answer": ["x", "y"]}
    scores = gen.score(["c1", "c2"], ["a", "b"], rows, torch.tensor([True, False]), [[1], [2]])
    from aligntune_backends.ppo.models import reward_model_scores

    rm_scores = reward_model_scores(rm, rm_tok, ["ac1", "bc2"], 64)
    expected = [2.0 * 1.0 + 0.5 * rm_scores[0], 2.0 * 2.0 + 0.5 * rm_scores[1] - 1.5]
    assert scores.tolist() == pytest.approx(expected, abs=1e-5)
    assert seen["references"] == ["x", "y"] and seen["completion_ids"] == [[1], [2]]


def test_generation_config_follows_train_fields(tiny):
    _, tok = tiny
    gen = generator(tok, reward_fn=lambda c, **k: [0.0] * len(c), temperature=0.7, top_p=0.8, top_k=5,
                    response_length=3, generation_kwargs={"repetition_penalty": 1.1})
    cfg = gen.generation_config()
    assert (cfg["temperature"], cfg["top_p"], cfg["top_k"], cfg["max_new_tokens"]) == (0.7, 0.8, 5, 3)
    assert cfg["eos_token_id"] == tok.eos_token_id and cfg["repetition_penalty"] == 1.1
    with pytest.raises(ValueError, match="needs a reward"):
        generator(tok)


def test_combine_rewards_weights_each_function():
    from aligntune_backends.ppo import combine_rewards

    fn = combine_rewards([lambda c, **k: [1.0] * len(c), lambda c, **k: [len(x) for x in c]], [0.5, 2.0])
    assert fn(["ab", "c"], prompts=["p", "q"]) == [4.5, 2.5]
    with pytest.raises(ValueError, match="weights"):
        combine_rewards([fn], [1.0, 2.0])
