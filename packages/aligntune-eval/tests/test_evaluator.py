"""UnifiedEvaluator end to end on the tiny random Llama: generation, scoring and the written report."""

from __future__ import annotations

import json

import pytest
from aligntune_config.evaluation import EvaluationConfig
from aligntune_eval import UnifiedEvaluator, get_metric


@pytest.fixture(scope="module")
def rows(shared_data):
    data = json.loads((shared_data / "alpaca_200.json").read_text())
    return [{"prompt": r["instruction"], "reference": r["output"], "id": i} for i, r in enumerate(data[:6])]


def test_evaluator_end_to_end_writes_reports(tiny_model_dir, rows, tmp_path):
    evaluator = UnifiedEvaluator(str(tiny_model_dir), rows, ["bleu", "rouge", "exact_match", "perplexity"],
                                 max_new_tokens=5, batch_size=4, output_dir=tmp_path / "out", device="cpu",
                                 show_progress=False)
    results = evaluator.evaluate()
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["metrics"] == pytest.approx(results)
    assert {"bleu", "rouge1", "rougeLsum", "exact_match", "perplexity", "num_tokens"} <= set(results)
    assert report["num_generated"] == 6 and report["errors"] == {}
    assert report["generation"] == {"max_new_tokens": 5, "temperature": 0.0, "batch_size": 4}
    markdown = (tmp_path / "out" / "report.md").read_text()
    assert "| Metric | Value |" in markdown and f"| bleu | {results['bleu']:.4f} |" in markdown
    samples = [json.loads(x) for x in (tmp_path / "out" / "predictions.jsonl").read_text().splitlines()]
    assert [s["prompt"] for s in samples] == [r["prompt"] for r in rows]
    # the scores are those of the metrics on the written predictions
    preds = [s["prediction"] for s in samples]
    assert results["bleu"] == pytest.approx(get_metric("bleu").compute(preds, [r["reference"] for r in rows])["bleu"])
    # a random model: perplexity near the vocabulary size, far above 1
    assert results["perplexity"] > 1000


def test_left_padded_batches_match_one_by_one(tiny_model, tiny_tokenizer, rows):
    import torch

    prompts = [r["prompt"] for r in rows[:4]]
    batched = UnifiedEvaluator(tiny_model, tokenizer=tiny_tokenizer, max_new_tokens=4, batch_size=4,
                               show_progress=False).generate(prompts)
    assert len(batched) == 4
    for prompt, text in zip(prompts, batched):
        ids = tiny_tokenizer(prompt, return_tensors="pt")
        with torch.no_grad():
            out = tiny_model.generate(**ids, max_new_tokens=4, do_sample=False,
                                      pad_token_id=tiny_tokenizer.eos_token_id)
        assert text == tiny_tokenizer.decode(out[0, ids["input_ids"].shape[1]:], skip_special_tokens=True)


def test_evaluator_honours_evaluation_config(tiny_model, tiny_tokenizer, rows, tmp_path):
    def first_word_match(predictions, references):
        return {"custom_rows": float(len(predictions))}

    config = EvaluationConfig(compute_perplexity=False, compute_bleu=False, compute_rouge=True,
                              metrics=["token_f1"], custom_metrics=[first_word_match],
                              max_samples_for_quality_metrics=2, max_new_tokens=3)
    from datasets import Dataset

    evaluator = UnifiedEvaluator(tiny_model, Dataset.from_list(rows), config, tokenizer=tiny_tokenizer,
                                 show_progress=False)
    results = evaluator.evaluate(output_dir=tmp_path)
    assert set(results) == {"rouge1", "rouge2", "rougeL", "rougeLsum", "token_f1", "custom_rows"}
    assert results["custom_rows"] == 2.0
    assert evaluator.last_report["num_generated"] == 2
    assert evaluator.last_report["generation"]["max_new_tokens"] == 3


def test_evaluator_records_failing_metric_and_uses_model_loader(tiny_model, tiny_tokenizer, rows):
    calls = []

    def loader(name):
        calls.append(name)
        return tiny_model, tiny_tokenizer

    evaluator = UnifiedEvaluator("some-org/not-a-folder", rows[:2], ["exact_match", "no_such_metric"],
                                 model_loader=loader, max_new_tokens=2, show_progress=False)
    results = evaluator.evaluate()
    assert calls == ["some-org/not-a-folder"]
    assert "exact_match" in results
    assert "no_such_metric" in evaluator.last_report["errors"]
    with pytest.raises(Exception, match="no_such_metric"):
        UnifiedEvaluator(tiny_model, rows[:1], ["no_such_metric"], tokenizer=tiny_tokenizer,
                         raise_errors=True).evaluate()


def test_dpo_metrics_from_dataset_columns_without_generation(rows):
    data = [{"chosen_logps": -1.0, "rejected_logps": -3.0, "ref_chosen_logps": -2.0, "ref_rejected_logps": -2.0}] * 3
    results = UnifiedEvaluator(object(), data, ["dpo"], show_progress=False).evaluate()
    assert results["preference_accuracy"] == 1.0
    assert results["reward_margin"] == pytest.approx(0.1 * 1 - 0.1 * -1)


def test_sampling_is_seeded_and_differs_from_greedy(tiny_model, tiny_tokenizer, rows):
    prompts = [r["prompt"] for r in rows[:3]]

    def run(temperature, seed=0):
        return UnifiedEvaluator(tiny_model, tokenizer=tiny_tokenizer, max_new_tokens=4, temperature=temperature,
                                seed=seed, show_progress=False).generate(prompts)

    sampled = run(1.0)
    assert sampled == run(1.0)
    assert sampled != run(0.0)  # 50k-token vocabulary: sampling almost surely leaves the argmax path
