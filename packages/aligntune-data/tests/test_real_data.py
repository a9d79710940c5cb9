"""The real public datasets in ../shared/data load into the canonical formats, every row intact."""

from __future__ import annotations

import gzip
import itertools
import json

import aligntune_data as ad
from aligntune_config import DatasetConfig


def _rows(path):
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as handle:
        if path.name.endswith(".json"):
            return json.load(handle)
        return [json.loads(line) for line in handle if line.strip()]


def test_gsm8k_all_rows_become_prompts_with_numeric_answers(shared_file):
    path = shared_file("gsm8k_test.jsonl")
    raw = _rows(path)
    ds = ad.load_dataset(DatasetConfig(name=str(path), shuffle=False), format="prompt")
    assert len(ds) == len(raw) == 1319
    assert set(ds.column_names) == {"prompt", "answer"}
    for row, original in zip(ds, raw):
        assert row["prompt"] == original["question"]
        float(row["answer"])  # a number
        assert original["answer"].replace(",", "").rstrip().endswith(row["answer"])
    assert ds[0]["answer"] == "18"  # Janet's ducks


def test_hh_rlhf_all_rows_split_into_prompt_chosen_rejected(shared_file):
    path = shared_file("hh-rlhf_harmless-base_test.jsonl.gz")
    raw = _rows(path)
    ds = ad.load_dataset(DatasetConfig(name=str(path), shuffle=False), format="preference")
    assert len(ds) == len(raw) == 2312
    assert ds.column_names == ["prompt", "chosen", "rejected"]
    for row, original in zip(ds, raw):
        assert row["prompt"] + row["chosen"] == original["chosen"]
        assert row["prompt"] + row["rejected"] == original["rejected"]
        assert row["prompt"].endswith("\n\nAssistant:")
        assert row["chosen"] != row["rejected"]


def test_hh_rlhf_conversational_form_alternates_roles(shared_file):
    path = shared_file("hh-rlhf_harmless-base_test.jsonl.gz")
    raw = _rows(path)
    config = DatasetConfig(name=str(path), shuffle=False, chat_template="tokenizer")
    ds = ad.load_dataset(config, format="preference")  # no tokenizer: message lists, not rendered
    assert len(ds) == 2312
    for row, original in zip(ds, raw):
        roles = [m["role"] for m in row["prompt"]]
        assert roles[0] == "user" and roles[-1] == "user"
        assert all(a != b for a, b in itertools.pairwise(roles)), roles
        assert [m["role"] for m in row["chosen"]] == ["assistant"]
        assert original["chosen"].rstrip().endswith(row["chosen"][0]["content"])
        assert row["prompt"][0]["content"] in original["chosen"]


def test_humaneval_rows_keep_tests_and_entry_point(shared_file):
    path = shared_file("HumanEval.jsonl.gz")
    raw = _rows(path)
    ds = ad.load_dataset(DatasetConfig(name=str(path), shuffle=False), format="prompt")
    assert len(ds) == 164
    for row, original in zip(ds, raw):
        assert row["prompt"] == original["prompt"]
        assert row["test"] == original["test"] and "def check(candidate)" in row["test"]
        assert row["entry_point"] == original["entry_point"]


def test_mbpp_rows_keep_test_list_and_show_tests(shared_file):
    path = shared_file("sanitized-mbpp.json")
    raw = _rows(path)
    ds = ad.load_dataset(DatasetConfig(name=str(path), shuffle=False), format="prompt")
    assert len(ds) == 426
    for row, original in zip(ds, raw):
        assert row["test_list"] == original["test_list"]
        assert row["prompt"].startswith(original["prompt"])
        assert original["test_list"][0] in row["prompt"]


def test_alpaca_input_is_folded_into_prompt(shared_file):
    path = shared_file("alpaca_200.json")
    raw = _rows(path)
    ds = ad.load_dataset(DatasetConfig(name=str(path), shuffle=False), format="sft")
    assert len(ds) == 200 and ds.column_names == ["prompt", "completion"]
    with_input = 0
    for row, original in zip(ds, raw):
        assert row["prompt"].startswith(original["instruction"])
        assert row["completion"] == original["output"]
        if original["input"].strip():
            with_input += 1
            assert row["prompt"] == original["instruction"] + "\n\n" + original["input"]
        else:
            assert row["prompt"] == original["instruction"]
    assert with_input > 0
