"""Bad rows (counted per reason, handled by on_bad_rows) and clear errors for bad input."""

from __future__ import annotations

import logging

import aligntune_data as ad
import pytest
from aligntune_config import DatasetConfig

ROWS = [
    {"prompt": "good 1", "chosen": "a", "rejected": "b"},
    {"prompt": "", "chosen": "a", "rejected": "b"},              # empty prompt
    {"prompt": "same", "chosen": "x", "rejected": "x"},          # chosen == rejected
    {"prompt": "good 2", "chosen": "a", "rejected": "c"},
    {"prompt": None, "chosen": "a", "rejected": "b"},            # missing prompt
]


@pytest.fixture
def bad_file(write_jsonl):
    return write_jsonl(ROWS, "bad.jsonl")


def _load(path, policy, format="preference"):
    return ad.load_dataset(DatasetConfig(name=str(path), on_bad_rows=policy, shuffle=False), format=format)


def test_warn_skips_bad_rows_and_logs_counts_per_reason(bad_file, caplog):
    with caplog.at_level(logging.INFO, logger="aligntune.data"):
        ds = _load(bad_file, "warn")
    assert ds["prompt"] == ["good 1", "good 2"]
    warning = [r for r in caplog.records if r.levelno == logging.WARNING][-1].getMessage()
    assert "skipped 3 of 5 rows" in warning
    for reason in ("1 empty prompt", "1 chosen == rejected", "1 missing field"):
        assert reason in warning


def test_skip_drops_quietly_and_error_raises_with_row(bad_file, caplog):
    with caplog.at_level(logging.WARNING, logger="aligntune.data"):
        assert len(_load(bad_file, "skip")) == 2
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    with pytest.raises(ad.DataError, match=r"on_bad_rows='error'.*empty prompt \(first: row 1"):
        _load(bad_file, "error")


def test_non_string_content_is_a_bad_row():
    rows = [{"prompt": f"p{i}", "completion": i} for i in range(3)]  # numbers where text is needed
    with pytest.raises(ad.DataError, match=r"no usable rows out of 3: 3 non-string content.*completion is a int"):
        ad.load_dataset(rows, format="sft")


def test_wrong_type_names_the_field_and_rows(write_jsonl):
    mixed = [{"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}]},
             {"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": ["x"]}]}]
    with pytest.raises(ad.DataError, match=r"field 'messages': item field 'content' is a string in row 0 but a list"):
        ad.load_dataset(str(write_jsonl(mixed, "chat.jsonl")), format="sft")


def test_no_usable_rows_says_why():
    rows = [{"prompt": "same", "chosen": "x", "rejected": "x"}] * 3
    with pytest.raises(ad.DataError, match=r"no usable rows out of 3: 3 chosen == rejected"):
        ad.load_dataset(rows, format="preference")


def test_corrupt_jsonl_line_names_file_and_line(write_jsonl):
    path = write_jsonl([{"text": "ok"}, '{"text": "broken', {"text": "ok"}], "corrupt.jsonl")
    with pytest.raises(ad.DataError, match=r"corrupt\.jsonl, line 2: not valid JSON"):
        ad.load_dataset(str(path))


def test_non_object_line_and_mixed_types_name_the_field(write_jsonl):
    with pytest.raises(ad.DataError, match=r"line 2: a JSON list"):
        ad.load_dataset(str(write_jsonl([{"text": "a"}, "[1, 2]"], "list.jsonl")))
    path = write_jsonl([{"text": "a", "n": 1}, {"text": "b", "n": {"x": 1}}], "types.jsonl")
    with pytest.raises(ad.DataError, match=r"types\.jsonl: field 'n' is a number in row 0 but a object in row 1"):
        ad.load_dataset(str(path))


def test_empty_file_and_missing_path(tmp_path):
    (tmp_path / "empty.jsonl").write_text("")
    with pytest.raises(ad.DataError, match=r"empty\.jsonl: the file is empty"):
        ad.load_dataset(str(tmp_path / "empty.jsonl"))
    (tmp_path / "blank.json").write_text("[]")
    with pytest.raises(ad.DataError, match=r"blank\.json: the file holds no rows"):
        ad.load_dataset(str(tmp_path / "blank.json"))
    with pytest.raises(ad.DataError, match=r"the path '.*nothing\.jsonl' does not exist"):
        ad.load_dataset(str(tmp_path / "nothing.jsonl"))


def test_missing_column_for_forced_format_and_mapping(write_jsonl):
    path = write_jsonl([{"question": "q", "solution": "s"}], "gsm.jsonl")
    with pytest.raises(ad.DataError, match=r"format gsm8k\): missing column\(s\) answer; it has question, solution"):
        ad.load_dataset(DatasetConfig(name=str(path), format_type="gsm8k"), format="prompt")
    with pytest.raises(ad.DataError, match=r"column_mapping names column\(s\) 'answr'"):
        ad.load_dataset(DatasetConfig(name=str(path), column_mapping={"answr": "answer"}))
    with pytest.raises(ad.DataError, match=r"preserve_columns names column\(s\) 'id'"):
        ad.load_dataset(DatasetConfig(name=str(path), preserve_columns=["id"]))


def test_malformed_spec_and_bad_arguments():
    with pytest.raises(ad.DataError, match="dataset spec 'x#percent=200' is malformed"):
        ad.load_dataset("x#percent=200")
    with pytest.raises(ad.DataError, match="format must be one of sft, preference, prompt"):
        ad.load_dataset("builtin:arithmetic", format="dpo")
    with pytest.raises(ad.DataError, match="expected a DatasetConfig"):
        ad.load_dataset(3.5)


def test_processing_fn_failure_names_the_function():
    def explode(row):
        raise KeyError("nope")

    with pytest.raises(ad.DataError, match=r"processing_fn .*explode failed \(KeyError"):
        ad.load_dataset(DatasetConfig(name="builtin:arithmetic", processing_fn=explode, max_samples=3))


def test_list_that_is_not_messages_is_a_bad_row(caplog):
    rows = [{"prompt": "ok", "completion": ["a", "b"]}, {"prompt": "fine", "completion": ["c"]}]
    with pytest.raises(ad.DataError, match=r"no usable rows out of 2: 2 wrong type"):
        ad.load_dataset(rows, format="sft")


def test_token_classification_fields_are_refused_not_ignored():
    import pytest

    from aligntune_config import DatasetConfig
    from aligntune_data import DataError, load_dataset

    with pytest.raises(DataError, match="token classification .* is not built yet"):
        load_dataset(DatasetConfig(name="builtin:instructions", tags_column="labels"))
    with pytest.raises(DataError, match="token classification"):
        load_dataset(DatasetConfig(name="builtin:instructions", task_type="token_classification"))
