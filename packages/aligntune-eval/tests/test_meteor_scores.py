"""METEOR, DPO metrics, reward scores, custom callables and the metric registry."""

from __future__ import annotations

import logging

import aligntune_eval
import pytest
from aligntune_eval import get_metric, list_metrics


def test_meteor_identical_and_unrelated(alpaca_pairs):
    # METEOR's fragmentation penalty keeps identical short strings below 1 (one word: 0.5), so use
    # texts of 20+ words, where an identical copy scores 1 - 0.5 * (1/m)**3 > 0.99
    pairs = [(p, r) for p, r in zip(*alpaca_pairs) if len(r.split()) >= 20][:50]
    preds, refs = [p for p, _ in pairs], [r for _, r in pairs]
    meteor = get_metric("meteor")
    assert meteor.compute(refs, refs)["meteor"] > 0.99
    unrelated = [refs[(i + 7) % len(refs)] for i in range(len(refs))]
    assert meteor.compute(unrelated, refs)["meteor"] < 0.2
    noisy = meteor.compute(preds, refs)["meteor"]
    assert 0.5 < noisy < 0.99


def test_meteor_stem_matching_and_single_warning(caplog):
    from aligntune_eval import meteor as meteor_module

    meteor_module._WARNED.clear()
    metric = get_metric("meteor")
    with caplog.at_level(logging.WARNING, logger="aligntune.eval.meteor"):
        stemmed = metric.compute(["the cats were running home"], ["the cat was run home"])["meteor"]
        metric.compute(["a"], ["a"])
    exact_only = get_metric("meteor").compute(["the dogs were walking away"], ["the cat was run home"])["meteor"]
    assert stemmed > 0.5 > exact_only
    if meteor_module.wordnet_or_none() is None:
        warnings = [r for r in caplog.records if "WordNet" in r.getMessage()]
        assert len(warnings) == 1


def test_dpo_metrics_by_hand():
    got = get_metric("dpo", beta=0.5).compute(
        [], chosen_logps=[-10.0, -12.0, -8.0], rejected_logps=[-14.0, -11.0, -9.0],
        ref_chosen_logps=[-11.0, -12.0, -9.0], ref_rejected_logps=[-13.0, -12.0, -10.0])
    chosen = [0.5 * 1, 0.0, 0.5 * 1]
    rejected = [0.5 * -1, 0.5 * 1, 0.5 * 1]
    margins = [c - r for c, r in zip(chosen, rejected)]  # [1.0, -0.5, 0.0]
    assert got["preference_accuracy"] == pytest.approx(1 / 3)
    assert "win_rate" not in got  # the win rate needs generations and a judge: aligntune_eval.win_rate
    assert got["reward_margin"] == pytest.approx(sum(margins) / 3)
    assert got["chosen_reward"] == pytest.approx(sum(chosen) / 3)
    assert got["rejected_reward"] == pytest.approx(sum(rejected) / 3)
    with pytest.raises(ValueError, match="ref_rejected_logps"):
        get_metric("dpo").compute([], chosen_logps=[1.0], rejected_logps=[0.0], ref_chosen_logps=[0.0])


def test_reward_score_and_custom_callables():
    def length_reward(completions, *, references=None, **_):
        return [float(len(c)) for c in completions]

    got = get_metric("reward_score", reward=length_reward).compute(["ab", "abcd"], ["x", "y"])
    assert got == {"reward_mean": 3.0, "reward_std": 1.0}
    custom = get_metric("custom", fn=lambda p, r: sum(a == b for a, b in zip(p, r)) / len(p), name="acc")
    assert custom.compute(["a", "b"], ["a", "c"]) == {"acc": 0.5}
    as_dict = get_metric("custom", fn=lambda p, r: {"n": len(p), "m": 2})
    assert as_dict.compute(["a"], ["b"]) == {"n": 1.0, "m": 2.0}
    by_path = get_metric("custom", fn="aligntune_eval.lexical:token_f1")
    assert by_path.name == "token_f1"
    with pytest.raises(TypeError, match="expected a float"):
        get_metric("custom", fn=lambda p, r: "bad").compute(["a"], ["b"])


def test_registry_lists_and_builds_every_builtin():
    from aligntune_config.interfaces import Metric
    from aligntune_config.registry import METRICS, UnknownComponentError

    listed = list_metrics()
    for name in aligntune_eval.BUILTIN_METRICS:
        assert name in METRICS and listed[name]
    for name in ("bleu", "chrf", "rouge", "exact_match", "token_f1", "math_accuracy", "meteor", "codebleu", "dpo"):
        metric = get_metric(name)
        assert isinstance(metric, Metric) and metric.name == name
    with pytest.raises(UnknownComponentError, match="did you mean 'rouge'"):
        get_metric("rogue")


def test_get_metric_instances_and_factories():
    from aligntune_config.registry import METRICS

    class Constant:
        name = "constant_test_metric"

        def compute(self, predictions, references=None, **columns):
            return {"constant": 1.0}

    instance = Constant()
    METRICS.register("constant_test_metric", instance)
    METRICS.register("constant_factory_test_metric", lambda value=2.0: get_metric("custom", fn=lambda p, r: value))
    try:
        assert get_metric("constant_test_metric") is instance
        with pytest.raises(TypeError, match="takes no parameters"):
            get_metric("constant_test_metric", x=1)
        assert get_metric("constant_factory_test_metric", value=3.0).compute(["a"], ["a"]) == {"<lambda>": 3.0}
    finally:
        METRICS.unregister("constant_test_metric")
        METRICS.unregister("constant_factory_test_metric")


def test_import_stays_light_for_every_heavy_dependency():
    import json
    import subprocess
    import sys

    heavy = ("torch", "transformers", "sentence_transformers", "bert_score", "codebleu", "datasets", "nltk",
             "sacrebleu", "rouge_score")
    code = ("import sys, json, aligntune_eval; "
            f"print(json.dumps([m for m in {heavy!r} if m in sys.modules]))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == []


def test_entry_point_values_resolve_to_the_builtins(monkeypatch):
    """The values proposed for [project.entry-points."aligntune.metrics"] load the built-in classes."""
    from importlib import metadata

    from aligntune_config import registry

    eps = [metadata.EntryPoint(name, f"{cls.__module__}:{cls.__name__}", "aligntune.metrics")
           for name, cls in aligntune_eval.BUILTIN_METRICS.items()]
    monkeypatch.setattr(registry.metadata, "entry_points",
                        lambda group: eps if group == "aligntune.metrics" else [])
    fresh = registry.Registry("metric", "aligntune.metrics")
    assert fresh.names() == sorted(aligntune_eval.BUILTIN_METRICS)
    for name, cls in aligntune_eval.BUILTIN_METRICS.items():
        assert fresh.get(name) is cls
