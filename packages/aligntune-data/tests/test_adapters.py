"""Schema adapters: detection from columns, each schema's canonical rows, mapping and processing."""

from __future__ import annotations

import logging

import aligntune_data as ad
import pytest
from aligntune_config import DatasetConfig


def _load(rows, format, **kw):
    name = ad.register_in_memory(kw.pop("as_name", "adapter-test"), rows)
    kw.setdefault("shuffle", False)
    return ad.load_dataset(DatasetConfig(name=name, **kw), format=format)


CHAT = [{"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello!"},
                      {"role": "user", "content": "2+2?"}, {"role": "assistant", "content": "4"}]}]
SHAREGPT = [{"conversations": [{"from": "system", "value": "Be terse."}, {"from": "human", "value": "2+2?"},
                               {"from": "gpt", "value": "4"}]}]
ULTRA = [{"prompt": "Name a color.", "prompt_id": "x", "score_chosen": 8.0, "score_rejected": 2.0,
          "chosen": [{"role": "user", "content": "Name a color."}, {"role": "assistant", "content": "Blue."}],
          "rejected": [{"role": "user", "content": "Name a color."}, {"role": "assistant", "content": "Seven."}]}]
DOLLY = [{"instruction": "Summarize.", "context": "Cats sleep a lot.", "response": "Cats sleep.", "category": "s"}]


@pytest.mark.parametrize("rows, expected", [
    (CHAT, "chat"), (SHAREGPT, "sharegpt"), (ULTRA, "ultrafeedback"), (DOLLY, "dolly"),
    ([{"question": "1+1?", "answer": "2\n#### 2"}], "gsm8k"),
    ([{"chosen": "\n\nHuman: hi\n\nAssistant: a", "rejected": "\n\nHuman: hi\n\nAssistant: b"}], "hh-rlhf"),
    ([{"prompt": "p", "chosen": "a", "rejected": "b"}], "preference"),
    ([{"instruction": "i", "input": "", "output": "o"}], "alpaca"),
    ([{"text": "t", "code": "c", "test_list": ["assert 1"]}], "mbpp"),
    ([{"prompt": "p", "completion": "c"}], "prompt_completion"),
    ([{"text": "hello"}], "text"),
])
def test_detection_picks_the_schema_and_logs_why(caplog, rows, expected):
    fmt = "preference" if expected in ("ultrafeedback", "hh-rlhf", "preference") else "sft"
    with caplog.at_level(logging.INFO, logger="aligntune.data"):
        _load(rows, fmt)
    chosen = [r.getMessage() for r in caplog.records if "schema adapter" in r.getMessage()]
    assert chosen and f"using the {expected} schema adapter (columns" in chosen[-1]


def test_chat_rows_for_sft_and_prompt():
    sft = _load(CHAT, "sft")
    assert sft[0]["messages"] == CHAT[0]["messages"]
    prompt = _load(CHAT, "prompt")
    assert [m["content"] for m in prompt[0]["prompt"]] == ["Hi", "Hello!", "2+2?"]
    assert prompt[0]["reference"] == "4"


def test_sharegpt_roles_are_mapped():
    ds = _load(SHAREGPT, "sft")
    assert [m["role"] for m in ds[0]["messages"]] == ["system", "user", "assistant"]


def test_ultrafeedback_message_lists_become_text_replies():
    ds = _load(ULTRA, "preference")
    assert ds[0]["prompt"] == "Name a color." and ds[0]["chosen"] == "Blue." and ds[0]["rejected"] == "Seven."
    conv = _load(ULTRA, "preference", chat_template="tokenizer")
    assert conv[0]["chosen"] == [{"role": "assistant", "content": "Blue."}]


def test_dolly_context_is_folded_into_prompt():
    ds = _load(DOLLY, "sft")
    assert ds[0]["prompt"] == "Summarize.\n\nCats sleep a lot." and ds[0]["completion"] == "Cats sleep."


def test_column_mapping_is_applied_before_detection():
    rows = [{"q": "What is 2+2?", "a": "2+2=4\n#### 4"}]
    ds = _load(rows, "prompt", column_mapping={"q": "question", "a": "answer"})
    assert ds[0] == {"prompt": "What is 2+2?", "answer": "4"}
    spec = ad.load_dataset(f"{ad.register_in_memory('mapped', rows)}?map.q=question&map.a=answer", format="prompt")
    assert spec[0]["answer"] == "4"


def test_custom_column_fields_are_honoured():
    rows = [{"task": "Do it.", "result": "Done."}]
    ds = _load(rows, "sft", instruction_column="task", output_column="result")
    assert ds[0] == {"prompt": "Do it.", "completion": "Done."}


def shout(row, suffix="!"):
    """A per-row processing function (module level, so its source is available)."""
    return {"instruction": row["instruction"].upper() + suffix}


def shout_batch(batch, suffix="!"):
    return {"instruction": [t.upper() + suffix for t in batch["instruction"]]}


@pytest.mark.parametrize("fn, batched", [(shout, False), (shout_batch, True)])
def test_processing_fn_per_row_and_batched_with_kwargs(fn, batched):
    rows = [{"instruction": "say hi", "input": "", "output": "hi"}]
    ds = _load(rows, "sft", processing_fn=fn, processing_batched=batched, processing_fn_kwargs={"suffix": "?"})
    assert ds[0]["prompt"] == "SAY HI?"


def test_system_prompt_text_and_conversational():
    rows = [{"instruction": "Add 1 and 1.", "input": "", "output": "2"}]
    assert _load(rows, "sft", system_prompt="Be exact.")[0]["prompt"] == "Be exact.\n\nAdd 1 and 1."
    conv = _load(rows, "prompt", system_prompt="Be exact.", chat_template="tokenizer")
    assert conv[0]["prompt"] == [{"role": "system", "content": "Be exact."}, {"role": "user", "content": "Add 1 and 1."}]


def test_jinja_chat_template_renders_prompt_and_completion():
    rows = [{"instruction": "Hi", "input": "", "output": "Hello"}]
    template = ("{% for m in messages %}<{{ m['role'] }}>{{ m['content'] }}</{{ m['role'] }}>{% endfor %}"
                "{% if add_generation_prompt %}<assistant>{% endif %}")
    ds = _load(rows, "sft", chat_template=template)
    assert ds[0] == {"prompt": "<user>Hi</user><assistant>", "completion": "Hello</assistant>"}
    chatml = _load(rows, "prompt", chat_template="chatml")
    assert chatml[0]["prompt"] == "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n"
    with pytest.raises(ad.DataError, match="not a valid Jinja template"):
        _load(rows, "sft", chat_template="{% for %}")


def test_tokenizer_chat_template_and_over_length_rows(qwen_tokenizer, caplog):
    rows = [{"instruction": "Hi", "input": "", "output": "Hello"},
            {"instruction": "word " * 200, "input": "", "output": "long"}]
    name = ad.register_in_memory("tok", rows)
    config = DatasetConfig(name=name, chat_template="tokenizer", shuffle=False)
    with caplog.at_level(logging.WARNING, logger="aligntune.data"):
        ds = ad.load_dataset(config, format="sft", tokenizer=qwen_tokenizer, max_length=64)
    assert len(ds) == 1
    assert ds[0]["prompt"].endswith("<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n")
    assert ds[0]["completion"].endswith("Hello<|im_end|>\n")  # Qwen3's template may add an empty think block
    assert "1 too long" in caplog.text


def test_format_type_forces_the_adapter_and_wrong_format_is_explained():
    rows = [{"instruction": "i", "input": "", "output": "o"}]
    with pytest.raises(ad.DataError, match="alpaca schema, which cannot give the 'preference' format"):
        _load(rows, "preference", format_type="alpaca")
    with pytest.raises(ad.DataError, match="look like the alpaca schema"):
        _load(rows, "preference")
    with pytest.raises(ad.DataError, match="cannot tell its schema"):
        _load([{"foo": "bar"}], "sft")


def test_format_for_algorithm():
    assert ad.format_for_algorithm("sft") == "sft"
    assert {ad.format_for_algorithm(a) for a in ("dpo", "reward_model")} == {"preference"}
    for algo in ("ppo", "grpo", "gspo", "dapo", "drgrpo", "nmgrpo", "meta_es"):
        assert ad.format_for_algorithm(algo) == "prompt"
    from aligntune_config.enums import AlgorithmType

    assert ad.format_for_algorithm(AlgorithmType("dpo")) == "preference"
    with pytest.raises(ad.DataError, match="unknown algorithm"):
        ad.format_for_algorithm("sgd")


def test_components_are_registered():
    from aligntune_config.registry import BUILTIN_DATASETS, DATASET_SOURCES, SCHEMA_ADAPTERS

    assert {"local", "hub", "builtin", "memory"} <= set(DATASET_SOURCES.names())
    assert {"hh_rlhf", "alpaca", "gsm8k", "mbpp", "humaneval", "sharegpt", "chat"} <= set(SCHEMA_ADAPTERS.names())
    assert {"arithmetic", "arithmetic_preferences", "instructions"} <= set(BUILTIN_DATASETS.names())


def test_entry_point_targets_are_the_registered_objects():
    import importlib

    from aligntune_config.registry import ALL_REGISTRIES
    from aligntune_data.registration import ENTRY_POINTS

    for group, entries in ENTRY_POINTS.items():
        registry = ALL_REGISTRIES[group]
        for name, target in entries.items():
            module, _, attr = target.partition(":")
            assert getattr(importlib.import_module(module), attr) is registry.get(name), (group, name)


def test_classification_rows():
    rows = [{"text": "great film", "label": 1}, {"text": "dull", "label": 0}]
    assert _load(rows, "prompt", format_type="classification")["reference"] == ["1", "0"]
    assert _load(rows, "sft")[0] == {"prompt": "great film", "completion": "1"}
