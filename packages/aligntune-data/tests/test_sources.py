"""Sources: local files in every supported format, folders, in-memory rows, built-ins, the Hub offline."""

from __future__ import annotations

import json

import aligntune_data as ad
import datasets
import pytest
from aligntune_config import DatasetConfig

ROWS = [{"instruction": f"Say {i}", "input": "", "output": f"{i}"} for i in range(6)]


def _load(name, **kw):
    return ad.load_dataset(DatasetConfig(name=str(name), shuffle=False, **kw), format="sft")


def _expected_prompts():
    return [r["instruction"] for r in ROWS]


@pytest.mark.parametrize("suffix", ["jsonl", "jsonl.gz", "json", "json.gz", "csv", "parquet", "arrow"])
def test_local_file_formats_load_the_same_rows(tmp_path, write_jsonl, suffix):
    path = tmp_path / f"data.{suffix}"
    if suffix.startswith("jsonl"):
        path = write_jsonl(ROWS, path.name)
    elif suffix == "json":
        path.write_text(json.dumps(ROWS))
    elif suffix == "json.gz":
        import gzip

        with gzip.open(path, "wt") as handle:
            json.dump(ROWS, handle)
    else:
        ds = datasets.Dataset.from_list(ROWS)
        if suffix == "csv":
            ds.to_csv(str(path), index=False)
        elif suffix == "parquet":
            ds.to_parquet(str(path))
        else:
            import pyarrow as pa

            with pa.OSFile(str(path), "wb") as sink, pa.ipc.new_stream(sink, ds.data.table.schema) as writer:
                writer.write_table(ds.data.table)
    out = _load(path)
    assert out["prompt"] == _expected_prompts()
    assert out["completion"] == [r["output"] for r in ROWS]


def test_folder_of_files_and_named_splits(tmp_path):
    folder = tmp_path / "ds"
    folder.mkdir()
    (folder / "train.jsonl").write_text("\n".join(json.dumps(r) for r in ROWS[:4]))
    (folder / "test.jsonl").write_text("\n".join(json.dumps(r) for r in ROWS[4:]))
    assert len(_load(folder)) == 4
    assert _load(folder, split="test")["prompt"] == _expected_prompts()[4:]
    assert len(_load(folder, split="train+test")) == 6
    with pytest.raises(ad.DataError, match="no files for split 'validation'"):
        _load(folder, split="validation")


def test_saved_dataset_folder_loads(tmp_path):
    datasets.Dataset.from_list(ROWS).save_to_disk(str(tmp_path / "saved"))
    assert _load(tmp_path / "saved")["prompt"] == _expected_prompts()


def test_in_memory_rows_and_dataset():
    assert sorted(ad.load_dataset(ROWS, format="sft")["completion"]) == [r["output"] for r in ROWS]
    ds = datasets.Dataset.from_list(ROWS)
    assert len(ad.load_dataset(ds, format="sft")) == len(ROWS)
    name = ad.register_in_memory("tiny", ROWS)
    out = ad.load_dataset(DatasetConfig(name=name, max_samples=2, shuffle=False), format="sft")
    assert out["prompt"] == _expected_prompts()[:2]
    with pytest.raises(ad.DataError, match="no in-memory dataset 'nope'"):
        ad.load_dataset(DatasetConfig(name="memory:nope"))


def test_hub_dataset_offline_gives_a_clear_error():
    with pytest.raises(ad.DataError) as info:
        ad.load_dataset("openai/gsm8k:train?subset=main", format="prompt")
    message = str(info.value)
    assert "openai/gsm8k" in message and "subset 'main'" in message and "HF_HUB_OFFLINE" in message


def test_builtin_arithmetic_is_gsm8k_formatted_and_deterministic():
    a = ad.load_dataset("builtin:arithmetic", format="prompt", data_seed=1)
    b = ad.load_dataset("builtin:arithmetic", format="prompt", data_seed=1)
    c = ad.load_dataset("builtin:arithmetic", format="prompt", data_seed=2)
    assert a.to_list() == b.to_list()
    assert a["prompt"] != c["prompt"]
    assert all(row["answer"].lstrip("-").isdigit() for row in a)
    raw = ad.load_dataset(DatasetConfig(name="builtin:arithmetic", format_type="gsm8k", shuffle=False), format="sft")
    assert all("\n#### " in r for r in raw["completion"])
    test = ad.load_dataset("builtin:arithmetic:test", format="prompt")
    assert len(test) == 200 and not set(test["prompt"]) >= set(a["prompt"][:50])


def test_builtin_arithmetic_answers_are_correct():
    ds = ad.load_dataset(DatasetConfig(name="builtin:arithmetic", shuffle=False, max_samples=200), format="sft")
    for completion in ds["completion"]:
        *steps, final = completion.split("\n")
        # each step's <<a op b=c>> annotation is right, and the final line repeats the last result
        for step in steps:
            expr, result = step.split("<<")[1].split(">>")[0].split("=")
            assert eval(expr) == float(result)  # generated arithmetic only
        assert final == "#### " + steps[-1].split(">>")[1].split()[0].rstrip(".")


def test_builtin_preferences_chosen_correct_rejected_wrong():
    ds = ad.load_dataset("builtin:arithmetic-preferences", format="preference")
    assert len(ds) == 2000
    for row in ds:
        assert row["chosen"] != row["rejected"]
        assert row["chosen"].rsplit("#### ", 1)[1] != row["rejected"].rsplit("#### ", 1)[1]
    prompts = ad.load_dataset(DatasetConfig(name="builtin:arithmetic-preferences", shuffle=False), format="prompt")
    assert prompts.column_names == ["prompt", "answer"]  # the reference answer stays for rewards
    answers = dict(zip(prompts["prompt"], prompts["answer"]))
    assert all(row["chosen"].rsplit("#### ", 1)[1] == answers[row["prompt"]] for row in ds)


def test_builtin_instructions_outputs_pass_their_checks():
    ds = ad.load_dataset(DatasetConfig(name="builtin:instructions", shuffle=False, preserve_columns=["check"]),
                         format="sft")
    assert len(ds) == 2000
    assert all(ad.check_instruction_output(r["check"], r["completion"]) for r in ds)
    assert not ad.check_instruction_output(ds[0]["check"], "something else entirely")
    kinds = {json.loads(c)["kind"] for c in ds["check"]}
    assert {"uppercase_word", "bullet_count"} <= kinds


def test_unknown_builtin_lists_known_ones():
    with pytest.raises(ad.DataError, match="arithmetic"):
        ad.load_dataset("builtin:arithmetik")


def test_in_memory_dataset_dict_uses_the_split():
    dd = datasets.DatasetDict({"train": datasets.Dataset.from_list(ROWS[:4]),
                               "test": datasets.Dataset.from_list(ROWS[4:])})
    name = ad.register_in_memory("dd", dd)
    assert _load(name, split="test")["prompt"] == _expected_prompts()[4:]
    with pytest.raises(ad.DataError, match="no split 'dev'"):
        _load(name, split="dev")


def test_configs_as_dicts_and_specs_mix(write_jsonl):
    path = write_jsonl(ROWS, "rows.jsonl")
    as_dicts = ad.load_dataset([{"name": str(path), "shuffle": False}, {"name": str(path), "max_samples": 2}],
                               format="sft")
    assert len(as_dicts) == 4  # equal weights: 2 rows of each
    # a list of dicts that are not DatasetConfig fields is in-memory rows
    assert len(ad.load_dataset([{"name": "x", "completion": "y", "prompt": "z"}], format="sft")) == 1


def test_hub_source_code_path_reads_a_local_repo_folder(tmp_path):
    """The Hub source calls datasets.load_dataset(name, subset, split=...); a local folder laid out like a
    Hub repo exercises that real call offline."""
    from aligntune_data.sources import HUB_SOURCE

    repo = tmp_path / "repo" / "data"
    repo.mkdir(parents=True)
    datasets.Dataset.from_list(ROWS).to_json(str(repo / "train.jsonl"))
    config = DatasetConfig(name=str(tmp_path / "repo"), split="train[:2]")
    ds = HUB_SOURCE.load(config)
    assert ds["instruction"] == _expected_prompts()[:2]
    with pytest.raises(ad.DataError, match=r"split 'nosuch': cannot be loaded"):
        HUB_SOURCE.load(DatasetConfig(name=str(tmp_path / "repo"), split="nosuch"))


def test_instruction_check_metric_scores_replies_by_rule():
    from aligntune_config.registry import METRICS
    from aligntune_data import load_dataset

    from aligntune_config import DatasetConfig

    data = load_dataset(DatasetConfig(name="builtin:instructions", split="test", max_samples=12,
                                      preserve_columns=["check"]), format="sft")
    metric = METRICS.get("instruction_check")()
    gold = metric.compute(data["completion"], check=data["check"])
    assert gold == {"instruction_accuracy": 1.0}
    wrong = metric.compute(["no"] * len(data), check=data["check"])
    assert wrong["instruction_accuracy"] == 0.0
