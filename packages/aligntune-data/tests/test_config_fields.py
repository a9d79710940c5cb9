"""DatasetConfig fields that steer loading: auto_detect_fields, task_type, dataset_num_proc, and the cache
key of unpinned Hub datasets. Each test fails if its field were ignored."""

from __future__ import annotations

import logging
import os

import aligntune_data as ad
import datasets
import pytest
from aligntune_config import DatasetConfig, UnifiedConfig
from aligntune_data.sources import HUB_SOURCE
from aligntune_data.sources import hub as hub_module

GSM = {"question": "What is 2 + 3?", "answer": "2 + 3 = 5\n#### 5"}


def _cfg(rows, **fields) -> DatasetConfig:
    name = ad.register_in_memory(f"cfg-{abs(hash(repr(rows))) % 10**8}", rows)
    return DatasetConfig(name=name, shuffle=False, **fields)


def _resolved_default(config: DatasetConfig, **defaults) -> DatasetConfig:
    """``config`` with fields filled the way UnifiedConfig fills SFT/RL defaults (not marked as set)."""
    for key, value in defaults.items():
        object.__setattr__(config, key, value)
    return config


# -- auto_detect_fields ---------------------------------------------------------------------------------

def test_sft_unified_config_resolves_auto_detect_false_and_it_is_honoured(write_jsonl):
    path = write_jsonl([{"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}],
                         **GSM}])
    config = UnifiedConfig(algo="sft", model={"name_or_path": "x"}, datasets=[str(path)]).datasets[0]
    assert config.auto_detect_fields is False
    # detection would pick gsm8k (question/answer score higher than messages); the configured columns say chat
    assert ad.load_dataset(config, format="sft").column_names == ["messages"]
    detected = ad.load_dataset(config.model_copy(update={"auto_detect_fields": True}), format="sft")
    assert detected[0] == {"prompt": GSM["question"], "completion": GSM["answer"]}


def test_auto_detect_none_means_true():
    config = _cfg([GSM])
    assert config.auto_detect_fields is None
    assert ad.load_dataset(config, format="prompt")[0] == {"prompt": GSM["question"], "answer": "5"}


def test_auto_detect_false_without_configured_columns_is_an_error_naming_them():
    config = _cfg([GSM], auto_detect_fields=False)
    with pytest.raises(ad.DataError) as info:
        ad.load_dataset(config, format="prompt")
    message = str(info.value)
    for part in ("auto_detect_fields", "format_type", "messages_column 'messages'", "instruction_column",
                 "text_column 'text'", "question, answer"):
        assert part in message
    # format_type still works without detection
    assert len(ad.load_dataset(_cfg([GSM], auto_detect_fields=False, format_type="gsm8k"), format="prompt")) == 1


def test_auto_detect_false_instruction_columns_with_custom_names(caplog):
    rows = [{"task": "Translate", "src": "hola", "ctx": "Spanish", "reply": "hello", "text": "ignored"}]
    config = _cfg(rows, auto_detect_fields=False, instruction_column="task", input_column="src",
                  context_column="ctx", response_column="reply")
    with caplog.at_level(logging.INFO, logger="aligntune.data"):
        out = ad.load_dataset(config, format="sft")
    assert out[0] == {"prompt": "Translate\n\nhola\n\nSpanish", "completion": "hello"}
    assert "auto_detect_fields is false: instruction_column 'task' is present" in caplog.text
    assert "response_column 'reply'" in caplog.text
    # output_column wins over response_column
    rows = [{"instruction": "Say hi", "output": "hi", "response": "other"}]
    assert ad.load_dataset(_cfg(rows, auto_detect_fields=False), format="prompt")[0]["reference"] == "hi"
    with pytest.raises(ad.DataError, match="neither output_column 'output' nor response_column 'response'"):
        ad.load_dataset(_cfg([{"instruction": "x", "text": "y"}], auto_detect_fields=False), format="sft")


def test_auto_detect_false_preference_then_text_order():
    rows = [{"prompt": "p", "chosen": "good", "rejected": "bad", "text": "t"}]
    out = ad.load_dataset(_cfg(rows, auto_detect_fields=False), format="preference")
    assert out[0] == {"prompt": "p", "chosen": "good", "rejected": "bad"}
    # text + label: detection picks classification, the configured columns pick text
    rows = [{"text": "great film", "label": "pos"}]
    assert ad.load_dataset(_cfg(rows, auto_detect_fields=False), format="sft")[0] == {"text": "great film"}
    assert ad.load_dataset(_cfg(rows), format="sft")[0] == {"prompt": "great film", "completion": "pos"}
    # ... unless the task type is a classification one
    out = ad.load_dataset(_cfg(rows, auto_detect_fields=False, task_type="classification"), format="sft")
    assert out[0] == {"prompt": "great film", "completion": "pos"}


# -- task_type --------------------------------------------------------------------------------------------

TIED = [{**GSM, "instruction": "Add the numbers", "output": "5"}]  # gsm8k and alpaca both score 0.9


def test_task_type_breaks_a_tie_between_adapters(caplog):
    assert ad.load_dataset(_cfg(TIED), format="sft")[0]["prompt"] == GSM["question"]  # gsm8k comes first
    with caplog.at_level(logging.INFO, logger="aligntune.data"):
        out = ad.load_dataset(_cfg(TIED, task_type="instruction_following"), format="sft")
    assert out[0] == {"prompt": "Add the numbers", "completion": "5"}
    assert "using the alpaca schema adapter" in caplog.text
    assert ad.load_dataset(_cfg(TIED, task_type="math"), format="prompt")[0]["answer"] == "5"
    # the SFT/RL default filled in by UnifiedConfig (not set by the user) breaks ties too
    defaulted = _resolved_default(_cfg(TIED), task_type="instruction_following")
    assert ad.load_dataset(defaulted, format="sft")[0]["prompt"] == "Add the numbers"


def test_explicit_task_type_that_fits_no_adapter_is_an_error():
    rows = [{"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}]}]
    with pytest.raises(ad.DataError) as info:
        ad.load_dataset(_cfg(rows, task_type="math"), format="sft")
    assert "task_type 'math'" in str(info.value) and "gsm8k" in str(info.value) and "messages" in str(info.value)
    with pytest.raises(ad.DataError, match="task_type 'math'.*configured columns give chat"):
        ad.load_dataset(_cfg(rows, task_type="math", auto_detect_fields=False), format="sft")
    # the RL default (conversation) is not the user's statement: gsm8k data still loads
    defaulted = _resolved_default(_cfg([GSM]), task_type="conversation", auto_detect_fields=True)
    assert ad.load_dataset(defaulted, format="prompt")[0]["answer"] == "5"
    # task types without adapters of their own do not restrict anything
    assert len(ad.load_dataset(_cfg([GSM], task_type="text_generation"), format="sft")) == 1


# -- dataset_num_proc ---------------------------------------------------------------------------------------

def _with_pid(batch):
    return {**batch, "pid": [os.getpid()] * len(batch["text"])}


def _row_pid(row):
    return {"pid": os.getpid()}


ROWS = [{"text": f"row {i}"} for i in range(8)]


def test_dataset_num_proc_runs_processing_fn_in_several_processes():
    batched = _cfg(ROWS, processing_fn=_with_pid, processing_batched=True, preserve_columns=["pid"],
                   dataset_num_proc=2)
    pids = set(ad.load_dataset(batched, format="sft")["pid"])
    assert len(pids) == 2 and os.getpid() not in pids
    single = _cfg(ROWS, processing_fn=_row_pid, preserve_columns=["pid"])
    assert set(ad.load_dataset(single, format="sft")["pid"]) == {os.getpid()}
    # the global num_proc argument fills configs without their own (here a per-row function)
    pids = set(ad.load_dataset(single, format="sft", num_proc=2)["pid"])
    assert len(pids) == 2 and os.getpid() not in pids


def test_num_proc_reaches_every_map_and_the_hub_loader(monkeypatch):
    seen = []
    real_map = datasets.Dataset.map

    def recording_map(self, *args, **kwargs):
        seen.append(kwargs.get("num_proc"))
        return real_map(self, *args, **{**kwargs, "num_proc": None})

    monkeypatch.setattr(datasets.Dataset, "map", recording_map)
    own = _cfg(ROWS, processing_fn=_with_pid, processing_batched=True, dataset_num_proc=3)
    ad.load_dataset([own, _cfg(ROWS[:4], processing_fn=_with_pid, processing_batched=True)], format="sft",
                    num_proc=5)
    assert seen == [3, 5]  # the dataset's own value beats the global one
    with pytest.raises(ad.DataError, match="num_proc must be a positive integer"):
        ad.load_dataset(own, num_proc=0)

    calls = []
    monkeypatch.setattr(datasets, "load_dataset", lambda *a, **k: calls.append(k) or datasets.Dataset.from_list(ROWS))
    HUB_SOURCE.load(DatasetConfig(name="owner/data", dataset_num_proc=4))
    assert calls[-1]["num_proc"] == 4


# -- cache key of unpinned Hub datasets ---------------------------------------------------------------------

@pytest.fixture
def fake_hub(monkeypatch):
    """datasets.load_dataset answering every Hub id with ROWS, counting calls."""
    calls = []
    monkeypatch.setattr(datasets, "load_dataset", lambda *a, **k: calls.append(a) or datasets.Dataset.from_list(ROWS))
    return calls


def test_unpinned_hub_cache_key_follows_the_upstream_commit(tmp_path, monkeypatch, fake_hub):
    commit = {"sha": "a" * 40}
    monkeypatch.setattr(hub_module, "hub_commit", lambda repo, revision=None: commit["sha"])
    cache = ad.DatasetCache(tmp_path / "cache")
    config = DatasetConfig(name="owner/data", shuffle=False)
    ad.load_dataset(config, format="sft", cache=cache)
    ad.load_dataset(config, format="sft", cache=cache)
    assert len(fake_hub) == 1  # second load: cache hit
    commit["sha"] = "b" * 40  # the dataset changed upstream
    ad.load_dataset(config, format="sft", cache=cache)
    assert len(fake_hub) == 2


def test_unpinned_hub_cache_hit_with_unknown_commit_warns(tmp_path, monkeypatch, fake_hub, caplog):
    monkeypatch.setattr(hub_module, "hub_commit", lambda repo, revision=None: None)
    cache = ad.DatasetCache(tmp_path / "cache")
    ad.load_dataset(DatasetConfig(name="owner/data"), format="sft", cache=cache)
    with caplog.at_level(logging.WARNING, logger="aligntune.data"):
        ad.load_dataset(DatasetConfig(name="owner/data"), format="sft", cache=cache)
    assert len(fake_hub) == 1 and "may be stale" in caplog.text and "revision" in caplog.text

    def no_lookup(repo, revision=None):
        raise AssertionError("a pinned revision needs no lookup")

    monkeypatch.setattr(hub_module, "hub_commit", no_lookup)
    caplog.clear()
    pinned = DatasetConfig(name="owner/data", revision="c" * 40)
    for _ in range(2):
        with caplog.at_level(logging.WARNING, logger="aligntune.data"):
            ad.load_dataset(pinned, format="sft", cache=cache)
    assert "stale" not in caplog.text


def test_hub_commit_from_the_hub_or_the_local_hub_cache(tmp_path, monkeypatch):
    import huggingface_hub
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path))
    assert hub_module.hub_commit("owner/data") is None  # offline, never downloaded
    refs = tmp_path / "datasets--owner--data" / "refs"
    refs.mkdir(parents=True)
    (refs / "main").write_text("d" * 40)
    assert hub_module.hub_commit("owner/data") == "d" * 40  # offline: what datasets would load

    class Info:
        sha = "e" * 40

    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "0")
    monkeypatch.setattr(huggingface_hub.HfApi, "dataset_info", lambda self, repo, **kw: Info())
    assert hub_module.hub_commit("owner/data") == "e" * 40
