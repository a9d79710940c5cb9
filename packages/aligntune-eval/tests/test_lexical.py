"""BLEU/chrF against sacrebleu's command line, ROUGE against rouge-score, exact match and token F1."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from aligntune_eval import get_metric, normalize_answer, token_f1


def sacrebleu_cli(tmp_path, predictions, reference_streams, *extra):
    """Scores printed by ``python -m sacrebleu`` for the files holding these lines."""
    hyp = tmp_path / "hyp.txt"
    hyp.write_text("\n".join(predictions) + "\n", encoding="utf-8")
    ref_files = []
    for i, stream in enumerate(reference_streams):
        ref = tmp_path / f"ref{i}.txt"
        ref.write_text("\n".join(stream) + "\n", encoding="utf-8")
        ref_files.append(str(ref))
    cmd = [sys.executable, "-m", "sacrebleu", *ref_files, "-i", str(hyp), "-m", "bleu", "chrf", "-w", "6", *extra]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True, timeout=120)
    return {entry["name"]: entry["score"] for entry in json.loads(out.stdout)}


def test_bleu_and_chrf_equal_sacrebleu_cli(alpaca_pairs, tmp_path):
    preds, refs = alpaca_pairs
    cli = sacrebleu_cli(tmp_path, preds, [refs])
    bleu = get_metric("bleu").compute(preds, refs)["bleu"]
    chrf = get_metric("chrf").compute(preds, refs)["chrf"]
    assert 10 < bleu < 95  # a perturbed copy: far from both 0 and 100
    assert bleu == pytest.approx(cli["BLEU"], abs=1e-4)
    assert chrf == pytest.approx(cli["chrF2"], abs=1e-4)


def test_bleu_with_two_references_equals_cli(alpaca_pairs, tmp_path):
    preds, refs = alpaca_pairs
    preds, refs = preds[:80], refs[:80]
    second = [" ".join(reversed(r.split())) for r in refs]
    cli = sacrebleu_cli(tmp_path, preds, [refs, second])
    rows = [[a, b] for a, b in zip(refs, second)]
    assert get_metric("bleu").compute(preds, rows)["bleu"] == pytest.approx(cli["BLEU"], abs=1e-4)
    assert get_metric("chrf").compute(preds, rows)["chrf"] == pytest.approx(cli["chrF2"], abs=1e-4)


def test_bleu_identical_is_100_and_misaligned_raises():
    assert get_metric("bleu").compute(["a b c d e f"], ["a b c d e f"])["bleu"] == pytest.approx(100.0)
    with pytest.raises(ValueError, match="2 predictions but 1 references"):
        get_metric("bleu").compute(["a", "b"], ["a"])


def test_rouge_equals_rouge_score(alpaca_pairs):
    from rouge_score import rouge_scorer

    preds, refs = alpaca_pairs
    scorer = rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeL", "rougeLsum"], use_stemmer=True)
    expected = {k: 0.0 for k in ("rouge1", "rouge2", "rougeL", "rougeLsum")}
    for p, r in zip(preds, refs):
        scores = scorer.score(r, p)
        for k in expected:
            expected[k] += scores[k].fmeasure / len(preds)
    got = get_metric("rouge").compute(preds, refs)
    assert set(got) == set(expected)
    for k, v in expected.items():
        assert got[k] == pytest.approx(v, abs=1e-12)
    assert 0.3 < got["rouge1"] < 1.0


def test_rouge_by_hand_with_stemming():
    got = get_metric("rouge").compute(["the cats sat"], ["the cat ran"])
    assert got["rouge1"] == pytest.approx(2 / 3)  # "the", "cat" (stemmed) of 3 tokens each side
    assert got["rouge2"] == pytest.approx(1 / 2)  # "the cat" of 2 bigrams each side
    assert get_metric("rouge", use_stemmer=False).compute(["the cats sat"], ["the cat ran"])["rouge1"] == pytest.approx(1 / 3)


@pytest.mark.parametrize(("pred", "ref", "em", "f1"), [
    ("The Eiffel Tower!", "eiffel tower", 1.0, 1.0),
    ("Paris, France", "Paris", 0.0, 2 / 3),
    ("an apple a day", "The apple day", 1.0, 1.0),
    ("cat", "dog", 0.0, 0.0),
    ("", "", 1.0, 1.0),
    ("the", "", 1.0, 1.0),  # both normalise to nothing
    ("red red blue", "red blue green", 0.0, 2 / 3),
])
def test_exact_match_and_token_f1(pred, ref, em, f1):
    assert get_metric("exact_match").compute([pred], [ref])["exact_match"] == em
    assert get_metric("token_f1").compute([pred], [ref])["token_f1"] == pytest.approx(f1)
    assert token_f1(pred, ref) == pytest.approx(f1)


def test_exact_match_best_reference_and_mean():
    em = get_metric("exact_match").compute(["blue", "green", "x"], [["red", "Blue."], ["green"], ["y"]])
    assert em["exact_match"] == pytest.approx(2 / 3)
    assert normalize_answer("  The  Quick, brown fox. ") == "quick brown fox"
