"""Rewards that compare the completion with a reference answer: accuracy, factual correctness, BLEU,
ROUGE, METEOR. A missing reference scores 0 (and is logged once)."""

from __future__ import annotations

import logging
import re
import string
from functools import lru_cache
from typing import Any

from ..base import Reward, clamp
from ._lexicon import STOPWORDS, stem

logger = logging.getLogger("aligntune.rewards")
_ARTICLES = re.compile(r"\b(a|an|the)\b")
_PUNCT = str.maketrans("", "", string.punctuation)
_NUM = re.compile(r"-?\d+(?:,\d{3})*(?:\.\d+)?")
_LETTERS = re.compile(r"[a-z]+")
_warned: set[str] = set()


def normalize_answer(text: str) -> str:
    """SQuAD normalisation: lower case, no punctuation, no articles, single spaces."""
    return " ".join(_ARTICLES.sub(" ", str(text).lower().translate(_PUNCT)).split())


def _missing(name: str) -> float:
    if name not in _warned:
        _warned.add(name)
        logger.warning("reward %s: no reference for a completion (pass references= or a reference/answer "
                       "column); it scores 0", name)
    return 0.0


def _refs(reference: Any) -> list[str]:
    if reference is None:
        return []
    if isinstance(reference, (list, tuple)):
        return [str(r) for r in reference if r is not None]
    return [str(reference)]


def _as_number(text: str) -> float | None:
    try:
        return float(text.replace(",", "").replace("$", "").strip())
    except ValueError:
        return None


class AccuracyReward(Reward):
    """Match with the reference. Rule. Range {0, 1}.

    mode="normalized" (default): equal after SQuAD normalisation (case, punctuation, articles, spaces),
    or equal as numbers; "exact": equal after stripping outer whitespace; "contains": the normalised
    reference occurs in the normalised completion. A list of references matches if any does.
    Params: mode="normalized".
    """

    name = "accuracy"
    description = "1 if the completion matches the reference (exact / normalised / contains), else 0."

    def __init__(self, *, mode: str = "normalized", **common: Any):
        super().__init__(**common)
        if mode not in ("normalized", "exact", "contains"):
            raise ValueError(f"accuracy: mode must be normalized, exact or contains, got {mode!r}")
        self.mode = mode

    def score(self, text, *, prompt=None, reference=None, row=None):
        refs = _refs(reference)
        if not refs:
            return _missing(self.name)
        if self.mode == "exact":
            return 1.0 if any(text.strip() == ref.strip() for ref in refs) else 0.0
        norm_text = normalize_answer(text)
        for ref in refs:
            norm_ref = normalize_answer(ref)
            if self.mode == "contains" and norm_ref and norm_ref in norm_text:
                return 1.0
            if self.mode == "normalized":
                if norm_text == norm_ref:
                    return 1.0
                if len(text) > 40:
                    continue  # not a bare number
                a, b = _as_number(text), _as_number(ref)
                if a is not None and b is not None and abs(a - b) <= 1e-9 * max(1.0, abs(b)):
                    return 1.0
        return 0.0


class FactualCorrectnessReward(Reward):
    """Agreement of the completion's facts with the reference. Rule heuristic. Range [0, 1].

    0.6 * recall of the reference's content-word stems in the completion + 0.4 * number agreement (F1 of
    the numbers in both; 1 when neither has numbers); numbers in the completion that contradict the
    reference lower the F1. The best of several references counts. Params: none.
    """

    name = "factual_correctness"
    description = "Reference content words recalled and numbers agreeing with the reference (heuristic)."

    @staticmethod
    def _content(text: str) -> frozenset[str]:
        return frozenset(stem(t) for t in set(_LETTERS.findall(text.lower())).difference(STOPWORDS) if len(t) > 2)

    @staticmethod
    def _numbers(text: str) -> frozenset[float]:
        return frozenset(float(n.replace(",", "")) for n in _NUM.findall(text))

    def score(self, text, *, prompt=None, reference=None, row=None):
        refs = _refs(reference)
        if not refs:
            return _missing(self.name)
        best = 0.0
        content, tn = self._content(text), self._numbers(text)
        for ref in refs:
            want, rn = _reference_facts(ref)
            recall = len(want & content) / len(want) if want else 1.0
            if not rn and not tn:
                numbers = 1.0
            elif not rn or not tn:
                numbers = 0.0 if rn else 0.5
            else:
                common = len(rn & tn)
                numbers = 2 * common / (len(rn) + len(tn))
            best = max(best, 0.6 * recall + 0.4 * numbers)
        return clamp(best)


@lru_cache(maxsize=8192)
def _reference_facts(ref: str) -> tuple[frozenset[str], frozenset[float]]:
    """Content stems and numbers of a reference, memoised (completions of a group share it)."""
    return FactualCorrectnessReward._content(ref), FactualCorrectnessReward._numbers(ref)


class BleuReward(Reward):
    """Sentence BLEU with sacrebleu (exponential smoothing), divided by 100. Range [0, 1].

    The value of ``sacrebleu.sentence_bleu``: sacrebleu's tokeniser, closest reference length, smoothing
    and effective order; the reference n-grams are counted once per distinct reference (see
    :mod:`._overlap`). Params: tokenize="13a", lowercase=False."""

    name = "bleu"
    description = "sacrebleu sentence BLEU / 100 against the reference(s)."

    def __init__(self, *, tokenize: str = "13a", lowercase: bool = False, **common: Any):
        super().__init__(**common)
        self.tokenize, self.lowercase = tokenize, lowercase
        self._bleu: Any = None

    def score(self, text, *, prompt=None, reference=None, row=None):
        refs = _refs(reference)
        if not refs:
            return _missing(self.name)
        if self._bleu is None:
            from ._overlap import FastSentenceBleu

            self._bleu = FastSentenceBleu(tokenize=self.tokenize, lowercase=self.lowercase)
        return self._bleu.score(text, tuple(refs)) / 100.0


@lru_cache(maxsize=8)
def _rouge_scorer(rouge_type: str, use_stemmer: bool):
    from rouge_score import rouge_scorer

    return rouge_scorer.RougeScorer([rouge_type], use_stemmer=use_stemmer)


class RougeReward(Reward):
    """ROUGE F-measure with the definitions of Google's rouge-score. Range [0, 1]; the best reference
    counts. rouge1/2/3 and rougeL use rouge-score's tokenisation and Porter stemmer re-implemented with
    cached stems, reference tokens memoised and a bit-parallel LCS (same values, checked against
    rouge-score in the tests); rougeLsum calls rouge-score itself.
    Params: rouge_type="rougeL" (rouge1, rouge2, rouge3, rougeL, rougeLsum), use_stemmer=True."""

    name = "rouge"
    description = "rouge-score F-measure (rougeL by default) against the reference(s)."

    def __init__(self, *, rouge_type: str = "rougeL", use_stemmer: bool = True, **common: Any):
        super().__init__(**common)
        if rouge_type not in ("rouge1", "rouge2", "rouge3", "rougeL", "rougeLsum"):
            raise ValueError(f"rouge: rouge_type must be rouge1, rouge2, rouge3, rougeL or rougeLsum, got {rouge_type!r}")
        self.rouge_type, self.use_stemmer = rouge_type, use_stemmer

    def score(self, text, *, prompt=None, reference=None, row=None):
        from ._overlap import rouge_l_f, rouge_n_f, rouge_reference_tokens, rouge_tokens

        refs = _refs(reference)
        if not refs:
            return _missing(self.name)
        if self.rouge_type == "rougeLsum":
            scorer = _rouge_scorer(self.rouge_type, self.use_stemmer)
            return max(scorer.score(ref, text)[self.rouge_type].fmeasure for ref in refs)
        hyp = rouge_tokens(text, self.use_stemmer)
        targets = [rouge_reference_tokens(ref, self.use_stemmer) for ref in refs]
        if self.rouge_type == "rougeL":
            return max(rouge_l_f(target, hyp) for target in targets)
        n = int(self.rouge_type[-1])
        return max(rouge_n_f(target, hyp, n) for target in targets)


class _NoWordNet:
    """Stands in for WordNet in nltk's METEOR: no synonyms, so only exact and stem matches count."""

    def synsets(self, *args: Any, **kwargs: Any) -> list:
        return []


class MeteorReward(Reward):
    """METEOR with nltk, exact + Porter-stem matching. Range [0, 1].

    WordNet synonym matching needs NLTK data that PyPI does not ship; when WordNet is not installed the
    synonym stage is skipped (a one-time warning says so) and nltk's exact and stem alignment runs
    re-implemented with the reference side memoised (same values as nltk, checked in the tests); with
    WordNet installed nltk's ``meteor_score`` itself runs. Tokens: lower-cased words and punctuation by
    regex (no punkt). Params: alpha=0.9, beta=3.0, gamma=0.5.
    """

    name = "meteor"
    description = "nltk METEOR (exact + stem matches; WordNet synonyms only when installed)."
    _warned = False

    def __init__(self, *, alpha: float = 0.9, beta: float = 3.0, gamma: float = 0.5, **common: Any):
        super().__init__(**common)
        self.alpha, self.beta, self.gamma = alpha, beta, gamma
        self._wordnet: Any = None

    def _get_wordnet(self) -> Any:
        if self._wordnet is None:
            import nltk

            try:
                nltk.data.find("corpora/wordnet")
                from nltk.corpus import wordnet

                self._wordnet = wordnet
            except LookupError:
                if not MeteorReward._warned:
                    MeteorReward._warned = True
                    logger.warning("meteor: NLTK WordNet is not installed; METEOR uses exact and stem matches "
                                   "only (no synonyms)")
                self._wordnet = _NoWordNet()
        return self._wordnet

    def score(self, text, *, prompt=None, reference=None, row=None):
        from ._overlap import meteor_single, meteor_tokens, meteor_with_wordnet

        refs = _refs(reference)
        if not refs:
            return _missing(self.name)
        hyp = meteor_tokens(text)
        if not hyp:
            return 0.0
        wordnet = self._get_wordnet()
        if not isinstance(wordnet, _NoWordNet):  # synonyms: nltk's own alignment
            return meteor_with_wordnet(hyp, refs, wordnet, self.alpha, self.beta, self.gamma)
        return max(meteor_single(hyp, ref, self.alpha, self.beta, self.gamma) for ref in refs)


REWARDS = [AccuracyReward, FactualCorrectnessReward, BleuReward, RougeReward, MeteorReward]
ALIASES = {"exact_match": "accuracy", "factuality": "factual_correctness"}
