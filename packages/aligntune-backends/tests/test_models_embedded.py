"""embedded:tiny-random and the model cache."""

from __future__ import annotations

import threading
import time

import pytest
from aligntune_backends.models import TINY_PARAMETERS, resolve_embedded
from aligntune_backends.models.cache import COMPLETE_MARKER, get_or_build
from aligntune_backends.models.embedded import build_tiny_random


def test_tiny_random_is_deterministic(tmp_path, tiny_random_path):
    import torch
    from transformers import AutoModelForCausalLM

    torch.manual_seed(999)  # the caller's RNG state must not matter ...
    build_tiny_random(tmp_path / "a")
    torch.manual_seed(5)
    build_tiny_random(tmp_path / "b")
    states = [AutoModelForCausalLM.from_pretrained(p).state_dict() for p in (tmp_path / "a", tmp_path / "b",
                                                                             tiny_random_path)]
    assert states[0].keys() == states[1].keys() == states[2].keys()
    for name, tensor in states[0].items():
        assert torch.equal(tensor, states[1][name]), name
        assert torch.equal(tensor, states[2][name]), name
    assert states[0]["model.embed_tokens.weight"].std() > 0.01  # really initialised, not zeros


def test_tiny_random_builder_leaves_the_global_rng_alone(tmp_path):
    import torch

    torch.manual_seed(3)
    expected = torch.rand(3)
    torch.manual_seed(3)
    build_tiny_random(tmp_path)
    assert torch.equal(torch.rand(3), expected)


def test_tiny_random_shape_and_parameter_count(tiny_random_path):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model = AutoModelForCausalLM.from_pretrained(tiny_random_path)
    tokenizer = AutoTokenizer.from_pretrained(tiny_random_path)
    assert sum(p.numel() for p in model.parameters()) == TINY_PARAMETERS == 93_152
    assert model.config.vocab_size == len(tokenizer) == 2330
    assert model.config.num_hidden_layers == 2 and model.config.hidden_size == 32
    assert model.config.tie_word_embeddings


def test_tiny_random_tokenizer_round_trips_and_has_a_chat_template(tiny_random_path):
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny_random_path)
    text = "Hello world! The quick brown fox, 3.14 — Ünïcødé 日本語 🤖\n\tend"
    ids = tokenizer(text, add_special_tokens=False)["input_ids"]
    assert tokenizer.decode(ids) == text
    assert max(ids) < 2304  # plain text uses BPE tokens only
    assert tokenizer.tokenize(" the")  == ["Ġthe"]  # a real merge survives the truncation
    assert tokenizer.pad_token == "<|endoftext|>" and tokenizer.eos_token == "<|im_end|>"
    assert tokenizer.pad_token_id != tokenizer.eos_token_id

    messages = [{"role": "user", "content": "What is 2+2?"}]
    prompt = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    assert prompt == "<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n"
    encoded = tokenizer.apply_chat_template(messages, add_generation_prompt=True, return_dict=True)["input_ids"]
    assert encoded[0] == tokenizer.convert_tokens_to_ids("<|im_start|>") == 2305
    assert tokenizer.decode(encoded) == prompt


def test_tiny_random_forward_backward(tiny_random_path):
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model = AutoModelForCausalLM.from_pretrained(tiny_random_path)
    tokenizer = AutoTokenizer.from_pretrained(tiny_random_path)
    batch = tokenizer(["Hello there, how are you?", "Hi"], return_tensors="pt", padding=True)
    labels = batch["input_ids"].masked_fill(batch["attention_mask"] == 0, -100)
    out = model(**batch, labels=labels)
    assert out.logits.shape == (*batch["input_ids"].shape, 2330)
    assert torch.isfinite(out.loss) and 6.0 < out.loss.item() < 9.0  # ~ln(2330)=7.75 for random weights
    out.loss.backward()
    grads = [p.grad for p in model.parameters()]
    assert all(g is not None and torch.isfinite(g).all() for g in grads)
    assert model.model.embed_tokens.weight.grad.abs().sum() > 0


def test_cache_location_follows_the_environment(tiny_random_path, model_cache, monkeypatch):
    from aligntune_backends.models import cache_dir

    assert cache_dir() == model_cache / "models" == tiny_random_path.parent
    monkeypatch.delenv("ALIGNTUNE_CACHE")
    monkeypatch.setenv("HOME", "/home/someone")
    assert str(cache_dir()) == "/home/someone/.cache/aligntune/models"


def test_resolve_reuses_the_cache(tiny_random_path, monkeypatch):
    from aligntune_backends.models import embedded

    def fail(out_dir):
        raise AssertionError("rebuilt although cached")

    model = embedded.EMBEDDED_MODELS["tiny-random"]
    monkeypatch.setitem(embedded.EMBEDDED_MODELS, "tiny-random",
                        embedded.EmbeddedModel(model.name, model.description, model.cache_key, fail))
    assert resolve_embedded("embedded:tiny-random") == tiny_random_path
    assert resolve_embedded("EMBEDDED:Tiny_Random") == tiny_random_path
    assert (tiny_random_path / COMPLETE_MARKER).is_file()
    assert {"config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json"} <= {
        p.name for p in tiny_random_path.iterdir()}


def test_unknown_embedded_name_lists_the_known_ones():
    with pytest.raises(ValueError, match=r"did you mean 'embedded:tiny-random'.*embedded:smollm2-135m-instruct"):
        resolve_embedded("embedded:tiny-randm")


def test_failed_build_leaves_nothing(tmp_path):
    def broken(out_dir):
        (out_dir / "half.bin").write_text("x")
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        get_or_build("broken", broken, root=tmp_path)
    assert [p.name for p in tmp_path.iterdir() if not p.name.endswith(".lock")] == []


def test_concurrent_first_use_builds_once(tmp_path):
    calls = []

    def slow(out_dir):
        calls.append(1)
        time.sleep(0.3)
        (out_dir / "weights").write_text("w")

    results = []
    threads = [threading.Thread(target=lambda: results.append(get_or_build("k", slow, root=tmp_path)))
               for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(calls) == 1
    assert len(set(results)) == 1 and (results[0] / "weights").read_text() == "w"


def test_unfinished_builds_of_killed_processes_are_removed(tmp_path):
    stale = tmp_path / ".k.tmp-dead"
    stale.mkdir()
    (stale / "partial").write_text("x")
    folder = get_or_build("k", lambda out: (out / "weights").write_text("w"), root=tmp_path)
    assert not stale.exists() and (folder / "weights").read_text() == "w"
