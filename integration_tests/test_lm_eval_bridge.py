"""aligntune_eval.run_lm_eval: an lm-evaluation-harness task run offline on embedded:tiny-random.

The task is a multiple-choice YAML written here whose data is a local JSON file built from GSM8K test
questions (the right answer among three wrong numbers). The accuracy lm-eval reports must equal the share of
documents where the right choice has the highest log-likelihood in the per-document records lm-eval logs,
and those log-likelihoods must equal the ones computed here with a plain forward pass."""

import json
import os
import pathlib
import random
import sys

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")

SHARED = pathlib.Path(__file__).resolve().parents[2] / "shared" / "data"
GSM8K = SHARED / "gsm8k_test.jsonl"
N_DOCS = 8

TASK_YAML = """\
task: aligntune_gsm8k_choice
dataset_path: json
dataset_kwargs:
  data_files:
    test: {data}
test_split: test
output_type: multiple_choice
doc_to_text: "Question: {{{{question}}}}\\nAnswer:"
doc_to_choice: "{{{{choices}}}}"
doc_to_target: label
metric_list:
  - metric: acc
    aggregation: mean
    higher_is_better: true
metadata:
  version: 1.0
"""


def _tiny_loader(name):
    from aligntune_backends.models import load_model_and_tokenizer
    from aligntune_config import ModelConfig

    return load_model_and_tokenizer(ModelConfig(name_or_path=name, precision="fp32"), for_training=False)


@pytest.fixture()
def task_file(tmp_path):
    if not GSM8K.is_file():
        pytest.skip("shared gsm8k_test.jsonl is absent")
    rng = random.Random(0)
    rows = []
    for line in GSM8K.read_text().splitlines()[:N_DOCS]:
        doc = json.loads(line)
        answer = int(doc["answer"].split("####")[-1].strip().replace(",", ""))
        choices = [str(answer), str(answer + 1), str(answer * 2 + 3), str(answer + 10)]
        rng.shuffle(choices)
        rows.append({"question": doc["question"], "choices": choices, "label": choices.index(str(answer))})
    data = tmp_path / "gsm8k_choice.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    path = tmp_path / "tasks" / "aligntune_gsm8k_choice.yaml"
    path.parent.mkdir()
    path.write_text(TASK_YAML.format(data=data))
    return path, rows


def test_lm_eval_task_on_embedded_tiny_random(task_file, tmp_path, monkeypatch):
    pytest.importorskip("lm_eval")
    import torch
    from aligntune_eval import run_lm_eval

    monkeypatch.setenv("ALIGNTUNE_CACHE", str(tmp_path / "models"))
    path, rows = task_file
    report = run_lm_eval("embedded:tiny-random", [str(path)], model_loader=_tiny_loader, device="cpu",
                         batch_size=4, output_dir=tmp_path / "out")
    task = "aligntune_gsm8k_choice"
    acc = report["metrics"][f"{task}/acc"]
    assert 0.0 <= acc <= 1.0
    assert report["n_samples"][task]["effective"] == N_DOCS
    samples = report["samples"][task]
    assert len(samples) == N_DOCS
    # the accuracy is the share of documents whose right choice has the highest log-likelihood
    by_doc = {}
    for s in samples:
        lls = [float(r[0]) for r in s["filtered_resps"]]
        assert len(lls) == 4
        by_doc[s["doc_id"]] = (lls, int(s["target"]))
        assert s["target"] == rows[s["doc_id"]]["label"]
    expected = sum(max(range(4), key=lambda i: lls[i]) == target for lls, target in by_doc.values()) / N_DOCS
    assert acc == pytest.approx(expected)
    # the log-likelihoods are those of the model: context "Question: ...\nAnswer:", continuation " <choice>"
    model, tokenizer = _tiny_loader("embedded:tiny-random")
    lls, _ = by_doc[0]
    context = f"Question: {rows[0]['question']}\nAnswer:"
    for choice, ll in zip(rows[0]["choices"], lls):
        whole = tokenizer(context + " " + choice, add_special_tokens=False)["input_ids"]
        n_ctx = len(tokenizer(context, add_special_tokens=False)["input_ids"])
        ids = torch.tensor([whole])
        with torch.no_grad():
            logps = torch.log_softmax(model(ids).logits[0].double(), -1)
        mine = sum(logps[i - 1, whole[i]].item() for i in range(n_ctx, len(whole)))
        assert ll == pytest.approx(mine, abs=1e-3)
    saved = json.loads((tmp_path / "out" / "lm_eval_results.json").read_text())
    assert saved["metrics"] == pytest.approx(report["metrics"])
    assert len((tmp_path / "out" / "lm_eval_samples.jsonl").read_text().splitlines()) == N_DOCS


def test_missing_lm_eval_names_the_extra(monkeypatch):
    from aligntune_eval import run_lm_eval

    monkeypatch.setitem(sys.modules, "lm_eval", None)  # import lm_eval now raises ImportError
    with pytest.raises(ImportError, match=r"aligntune\[lm-eval\]"):
        run_lm_eval("embedded:tiny-random", ["hellaswag"])
