"""Surface-overlap metrics: BLEU, chrF (sacrebleu), ROUGE (rouge-score), exact match and token F1."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from .base import BaseMetric, as_reference_lists, mean, normalize_answer


def _transpose_refs(references: Sequence[Any]) -> list[list[str]]:
    """Rows of references -> sacrebleu's reference streams (one list per reference position)."""
    rows = as_reference_lists(references)
    width = max((len(r) for r in rows), default=1)
    # sacrebleu accepts None for a missing reference of a row in a stream
    return [[r[i] if i < len(r) else None for r in rows] for i in range(width)]  # type: ignore[misc]


class BLEU(BaseMetric):
    """Corpus BLEU (sacrebleu ``corpus_bleu``, 0-100, 13a tokenisation by default)."""

    name = "bleu"
    description = "Corpus BLEU, 0-100 (sacrebleu)."

    def __init__(self, tokenize: str = "13a", lowercase: bool = False, smooth_method: str = "exp"):
        self.tokenize, self.lowercase, self.smooth_method = tokenize, lowercase, smooth_method

    def compute(self, predictions, references=None, **columns) -> dict[str, float]:
        """``{"bleu": score}`` over the whole corpus."""
        import sacrebleu

        self._check(predictions, references)
        result = sacrebleu.corpus_bleu([str(p) for p in predictions], _transpose_refs(references),
                                       tokenize=self.tokenize, lowercase=self.lowercase,
                                       smooth_method=self.smooth_method)
        return {"bleu": float(result.score)}


class ChrF(BaseMetric):
    """Corpus chrF (sacrebleu ``corpus_chrf``, 0-100); ``word_order=2`` gives chrF++."""

    name = "chrf"
    description = "Corpus chrF / chrF++, 0-100 (sacrebleu)."

    def __init__(self, char_order: int = 6, word_order: int = 0, beta: int = 2):
        self.char_order, self.word_order, self.beta = char_order, word_order, beta

    def compute(self, predictions, references=None, **columns) -> dict[str, float]:
        """``{"chrf": score}`` (or ``chrf++`` when ``word_order`` > 0)."""
        import sacrebleu

        self._check(predictions, references)
        result = sacrebleu.corpus_chrf([str(p) for p in predictions], _transpose_refs(references),
                                       char_order=self.char_order, word_order=self.word_order, beta=self.beta)
        return {"chrf++" if self.word_order else "chrf": float(result.score)}


class ROUGE(BaseMetric):
    """ROUGE-1/2/L/Lsum F-measures (rouge-score, Porter stemming on), averaged over rows.

    With several references per row the best-scoring reference counts (rouge-score's ``score_multi``).
    """

    name = "rouge"
    description = "ROUGE-1/2/L/Lsum F1, 0-1, stemmed (rouge-score)."
    ROUGE_TYPES = ("rouge1", "rouge2", "rougeL", "rougeLsum")

    def __init__(self, rouge_types: Sequence[str] = ROUGE_TYPES, use_stemmer: bool = True):
        self.rouge_types = tuple(rouge_types)
        self.use_stemmer = use_stemmer
        self._scorer = None

    def compute(self, predictions, references=None, **columns) -> dict[str, float]:
        """Mean F-measure of each ROUGE type."""
        from rouge_score import rouge_scorer

        self._check(predictions, references)
        if self._scorer is None:
            self._scorer = rouge_scorer.RougeScorer(list(self.rouge_types), use_stemmer=self.use_stemmer)
        totals = {t: [] for t in self.rouge_types}
        for pred, refs in zip(predictions, as_reference_lists(references)):
            scores = self._scorer.score_multi(refs, str(pred)) if len(refs) > 1 else self._scorer.score(refs[0], str(pred))
            for t in self.rouge_types:
                totals[t].append(scores[t].fmeasure)
        return {t: mean(v) for t, v in totals.items()}


class ExactMatch(BaseMetric):
    """Share of predictions equal to a reference after SQuAD normalisation (0-1)."""

    name = "exact_match"
    description = "Exact match after SQuAD normalisation, 0-1."

    def __init__(self, normalize: bool = True):
        self.normalize = normalize

    def _norm(self, text: str) -> str:
        return normalize_answer(text) if self.normalize else str(text).strip()

    def compute(self, predictions, references=None, **columns) -> dict[str, float]:
        """``{"exact_match": share}``; the best of several references counts."""
        self._check(predictions, references)
        hits = [max(float(self._norm(p) == self._norm(r)) for r in refs)
                for p, refs in zip(predictions, as_reference_lists(references))]
        return {"exact_match": mean(hits)}


def token_f1(prediction: str, reference: str) -> float:
    """SQuAD token F1 between two strings (after normalisation)."""
    pred, ref = normalize_answer(prediction).split(), normalize_answer(reference).split()
    if not pred or not ref:
        return float(pred == ref)
    common = Counter(pred) & Counter(ref)
    same = sum(common.values())
    if same == 0:
        return 0.0
    precision, recall = same / len(pred), same / len(ref)
    return 2 * precision * recall / (precision + recall)


class TokenF1(BaseMetric):
    """SQuAD-style token F1, averaged over rows (0-1); the best of several references counts."""

    name = "token_f1"
    description = "SQuAD-style token F1, 0-1."

    def compute(self, predictions, references=None, **columns) -> dict[str, float]:
        """``{"token_f1": mean F1}``."""
        self._check(predictions, references)
        scores = [max(token_f1(str(p), r) for r in refs)
                  for p, refs in zip(predictions, as_reference_lists(references))]
        return {"token_f1": mean(scores)}
