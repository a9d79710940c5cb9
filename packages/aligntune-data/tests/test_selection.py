"""Selection: split slicing, percent, max_samples, seeded shuffling, and mixing by weight."""

from __future__ import annotations

import aligntune_data as ad
import pytest
from aligntune_config import DatasetConfig


def _numbered(n, prefix="row"):
    return [{"prompt": f"{prefix} {i}", "completion": f"answer {i}"} for i in range(n)]


@pytest.fixture
def hundred(write_jsonl):
    return write_jsonl(_numbered(100), "hundred.jsonl")


def _prompts(name, **kw):
    kw.setdefault("shuffle", False)
    return ad.load_dataset(DatasetConfig(name=str(name), **kw), format="sft")["prompt"]


@pytest.mark.parametrize("split, first, count", [
    ("train[:10%]", 0, 10), ("train[10:20]", 10, 10), ("train[-5:]", 95, 5), ("train[90%:]", 90, 10),
    ("train[:3]", 0, 3),
])
def test_split_slicing_on_local_files(hundred, split, first, count):
    assert _prompts(hundred, split=split) == [f"row {i}" for i in range(first, first + count)]


def test_split_slicing_on_builtin():
    full = ad.load_dataset(DatasetConfig(name="builtin:arithmetic", shuffle=False), format="prompt")
    part = ad.load_dataset(DatasetConfig(name="builtin:arithmetic", split="train[100:110]", shuffle=False),
                           format="prompt")
    assert part["prompt"] == full["prompt"][100:110]


def test_malformed_split_is_an_error(hundred):
    with pytest.raises(ad.DataError, match="slice bound 'x'"):
        _prompts(hundred, split="train[x:]")
    with pytest.raises(ad.DataError, match="one ':'"):
        _prompts(hundred, split="train[1:2:3]")


def test_percent_then_max_samples(hundred):
    assert _prompts(hundred, percent=25) == [f"row {i}" for i in range(25)]
    assert _prompts(hundred, percent=25, max_samples=7) == [f"row {i}" for i in range(7)]
    assert len(_prompts(hundred, split="train[:50]", percent=10)) == 5


def test_spec_string_selection(hundred):
    ds = ad.load_dataset(f"{hundred}:train[10:60]#percent=50|max=20", format="sft")
    assert len(ds) == 20
    assert set(ds["prompt"]) <= {f"row {i}" for i in range(10, 35)}


def test_shuffle_is_deterministic_by_seed(hundred):
    a = ad.load_dataset(str(hundred), format="sft", data_seed=3)["prompt"]
    b = ad.load_dataset(str(hundred), format="sft", data_seed=3)["prompt"]
    c = ad.load_dataset(str(hundred), format="sft", data_seed=4)["prompt"]
    assert a == b
    assert a != c and sorted(a) == sorted(c)
    assert a != [f"row {i}" for i in range(100)]


def test_mix_counts_rule():
    assert ad.mix_counts([1000, 100], [1, 1]) == [100, 100]
    assert ad.mix_counts([1000, 1000], [3, 1]) == [1000, 333]
    assert ad.mix_counts([300, 300, 300], [1, 1, 1]) == [300, 300, 300]
    assert ad.mix_counts([50], [5]) == [50]
    for sizes, weights in (([37, 91, 12], [0.2, 0.5, 0.3]), ([10, 1000], [1, 9])):
        counts = ad.mix_counts(sizes, weights)
        assert all(c <= n for c, n in zip(counts, sizes))
        assert any(c >= n - 1 for c, n in zip(counts, sizes))  # as large as the smallest share allows


def test_mixing_datasets_by_weight(write_jsonl):
    a = write_jsonl(_numbered(60, "a"), "a.jsonl")
    b = write_jsonl(_numbered(40, "b"), "b.jsonl")
    configs = [DatasetConfig(name=str(a), weight=1.0), DatasetConfig(name=str(b), weight=1.0)]
    ds = ad.load_dataset(configs, format="sft", data_seed=5)
    from_a = [p for p in ds["prompt"] if p.startswith("a ")]
    from_b = [p for p in ds["prompt"] if p.startswith("b ")]
    assert (len(from_a), len(from_b)) == (40, 40)
    assert len(set(from_a)) == 40  # without replacement
    again = ad.load_dataset(configs, format="sft", data_seed=5)
    assert again["prompt"] == ds["prompt"]
    other = ad.load_dataset(configs, format="sft", data_seed=6)
    assert other["prompt"] != ds["prompt"]
    weighted = ad.load_dataset([DatasetConfig(name=str(a), weight=3.0), DatasetConfig(name=str(b), weight=1.0)],
                               format="sft")
    assert sum(p.startswith("a ") for p in weighted["prompt"]) == 60
    assert sum(p.startswith("b ") for p in weighted["prompt"]) == 20


def test_mixing_different_schemas_into_one_format(shared_file, write_jsonl):
    gsm = shared_file("gsm8k_test.jsonl")
    ds = ad.load_dataset([f"{gsm}#max=30", "builtin:arithmetic#max=30"], format="prompt")
    assert len(ds) == 60 and ds.column_names == ["prompt", "answer"]
