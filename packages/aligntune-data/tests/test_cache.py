"""DatasetCache: hits, invalidation by file content, mapping, processing function, seed; cleanup."""

from __future__ import annotations

import os
import time

import aligntune_data as ad
import pytest
from aligntune_config import DatasetConfig
from aligntune_config.unified import CachingConfig


@pytest.fixture
def data_file(write_jsonl):
    return write_jsonl([{"q": f"question {i}", "a": f"{i}\n#### {i}"} for i in range(50)], "cached.jsonl")


@pytest.fixture
def cache(tmp_path):
    return ad.DatasetCache(tmp_path / "cache")


def _config(path, **kw):
    return DatasetConfig(name=str(path), column_mapping={"q": "question", "a": "answer"}, **kw)


def _builds(monkeypatch):
    """Count how often the real loading runs (cache misses)."""
    from aligntune_data import loader

    calls = []
    real = loader.build
    monkeypatch.setattr(loader, "build", lambda *a, **k: calls.append(1) or real(*a, **k))
    return calls


def test_second_load_is_a_hit_with_the_same_rows(data_file, cache, monkeypatch):
    calls = _builds(monkeypatch)
    first = ad.load_dataset(_config(data_file), format="prompt", cache=cache)
    second = ad.load_dataset(_config(data_file), format="prompt", cache=cache)
    assert len(calls) == 1
    assert first.to_list() == second.to_list()
    assert len(cache.entries()) == 1


def test_changing_the_file_invalidates(data_file, cache, monkeypatch):
    calls = _builds(monkeypatch)
    ad.load_dataset(_config(data_file), format="prompt", cache=cache)
    stat = data_file.stat()
    text = data_file.read_text().replace("question 0", "question X")
    data_file.write_text(text)
    os.utime(data_file, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # same mtime: the content hash still sees it
    changed = ad.load_dataset(_config(data_file), format="prompt", cache=cache)
    assert len(calls) == 2
    assert "question X" in changed["prompt"]


def test_changing_mapping_selection_seed_or_format_invalidates(data_file, cache, monkeypatch):
    calls = _builds(monkeypatch)
    ad.load_dataset(_config(data_file), format="prompt", cache=cache)
    ad.load_dataset(_config(data_file, max_samples=10), format="prompt", cache=cache)
    ad.load_dataset(_config(data_file), format="prompt", cache=cache, data_seed=1)
    ad.load_dataset(_config(data_file), format="sft", cache=cache)
    renamed = DatasetConfig(name=str(data_file), column_mapping={"q": "prompt", "a": "completion"})
    ad.load_dataset(renamed, format="sft", cache=cache)
    assert len(calls) == 5
    ad.load_dataset(_config(data_file, max_samples=10), format="prompt", cache=cache)
    assert len(calls) == 5


def add_tag(row, tag="v1"):
    return {"question": row["question"] + f" [{tag}]"}


def add_other_tag(row, tag="v1"):
    return {"question": row["question"] + f" <{tag}>"}


def test_processing_function_source_and_kwargs_are_in_the_key(data_file, cache):
    key = lambda fn, **kw: cache.key([_config(data_file, processing_fn=fn, processing_fn_kwargs=kw)],
                                     format="prompt", seed=47)
    assert key(add_tag) == key(add_tag)
    assert key(add_tag) != key(add_other_tag)
    assert key(add_tag) != key(add_tag, tag="v2")
    assert ad.cache.function_identity(add_tag).startswith("def add_tag")


def test_builtin_key_depends_on_seed(cache):
    config = [DatasetConfig(name="builtin:arithmetic")]
    assert cache.key(config, format="prompt", seed=1) != cache.key(config, format="prompt", seed=2)


def test_caching_config_and_path_are_accepted(data_file, tmp_path):
    config = CachingConfig(root=str(tmp_path / "cc"))
    ad.load_dataset(_config(data_file), format="prompt", cache=config)
    ad.load_dataset(_config(data_file), format="prompt", cache=str(tmp_path / "p"))
    assert ad.DatasetCache(tmp_path / "cc").entries() and ad.DatasetCache(tmp_path / "p").entries()
    ad.load_dataset(_config(data_file), format="prompt", cache=CachingConfig(root=str(tmp_path / "off"), enabled=False))
    assert not (tmp_path / "off").exists()


def test_write_is_atomic_and_damaged_entries_are_rebuilt(data_file, cache, monkeypatch):
    calls = _builds(monkeypatch)
    ds = ad.load_dataset(_config(data_file), format="prompt", cache=cache)
    assert not list(cache.root.glob(".tmp-*"))
    (entry,) = cache.entries()
    for arrow in entry["path"].glob("*.arrow"):
        arrow.write_bytes(b"garbage")
    again = ad.load_dataset(_config(data_file), format="prompt", cache=cache)
    assert len(calls) == 2
    assert again.to_list() == ds.to_list()
    assert ad.load_dataset(_config(data_file), format="prompt", cache=cache).to_list() == ds.to_list()
    assert len(calls) == 2


def test_cleanup_by_age_and_size(data_file, cache):
    ad.load_dataset(_config(data_file), format="prompt", cache=cache)
    ad.load_dataset(_config(data_file, max_samples=5), format="prompt", cache=cache)
    old, new = cache.entries()
    meta = old["path"] / "aligntune_cache.json"
    past = time.time() - 10 * 86400
    os.utime(meta, (past, past))
    assert cache.cleanup(max_age_days=5) == [old["key"]]
    assert [e["key"] for e in cache.entries()] == [new["key"]]
    assert cache.cleanup(max_size_gb=1e-9) == [new["key"]]
    assert cache.entries() == []


def test_tokenizer_and_package_version_are_in_the_key(data_file, cache, monkeypatch):
    class FakeTokenizer:
        def __init__(self, name):
            self.name_or_path = name
            self.chat_template = None

    configs = [_config(data_file)]
    a = cache.key(configs, format="prompt", seed=1, tokenizer=FakeTokenizer("tok-a"))
    b = cache.key(configs, format="prompt", seed=1, tokenizer=FakeTokenizer("tok-b"))
    assert a != b
    monkeypatch.setattr(ad, "__version__", "9.9.9")
    assert cache.key(configs, format="prompt", seed=1, tokenizer=FakeTokenizer("tok-a")) != a
