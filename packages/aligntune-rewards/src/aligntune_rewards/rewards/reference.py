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
    def _content(text: str) -> set[str]:
        return {stem(t) for t in re.findall(r"[a-z]+", text.lower()) if t not in STOPWORDS and len(t) > 2}

    @staticmethod
    def _numbers(text: str) -> set[float]:
        return {float(n.replace(",", "")) for n in _NUM.findall(text)}

    def score(self, text, *, prompt=None, reference=None, row=None):
        refs = _refs(reference)
        if not refs:
            return _missing(self.name)
        best = 0.0
        for ref in refs:
            want = self._content(ref)
            recall = len(want & self._content(text)) / len(want) if want else 1.0
            rn, tn = self._numbers(ref), self._numbers(text)
            if not rn and not tn:
                numbers = 1.0
            elif not rn or not tn:
                numbers = 0.0 if rn else 0.5
            else:
                common = len(rn & tn)
                numbers = 2 * common / (len(rn) + len(tn))
            best = max(best, 0.6 * recall + 0.4 * numbers)
        return clamp(best)


class BleuReward(Reward):
    """Sentence BLEU with sacrebleu (exponential smoothing), divided by 100. Range [0, 1].
    Params: tokenize="13a", lowercase=False."""

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
        if self._bleu is None:  # one scorer reused: what sacrebleu.sentence_bleu builds on every call
            from sacrebleu.metrics import BLEU

            self._bleu = BLEU(tokenize=self.tokenize, lowercase=self.lowercase, effective_order=True)
        return self._bleu.sentence_score(text, refs).score / 100.0


class _RougeTokenizer:
    """rouge-score's own tokenisation, with the Porter stems cached (stemming dominates its cost)."""

    def __init__(self, use_stemmer: bool):
        self._stem = None
        if use_stemmer:
            from nltk.stem import porter  # the stemmer rouge-score uses

            self._stem = lru_cache(maxsize=131072)(porter.PorterStemmer().stem)

    def stem(self, word: str) -> str:
        return self._stem(word)  # type: ignore[misc]

    def tokenize(self, text: str) -> list[str]:
        from rouge_score import tokenize

        return tokenize.tokenize(text, self if self._stem is not None else None)


def lcs_length(a: list[str], b: list[str]) -> int:
    """Length of the longest common subsequence, bit-parallel (Hyyro 2004): O(len(b)) big-int steps."""
    if not a or not b:
        return 0
    masks: dict[str, int] = {}
    for i, token in enumerate(a):
        masks[token] = masks.get(token, 0) | (1 << i)
    full = (1 << len(a)) - 1
    v = full
    for token in b:
        u = v & masks.get(token, 0)
        v = ((v + u) | (v - u)) & full
    return len(a) - v.bit_count()


@lru_cache(maxsize=8)
def _rouge_scorer(rouge_type: str, use_stemmer: bool):
    from rouge_score import rouge_scorer

    return rouge_scorer.RougeScorer([rouge_type], tokenizer=_RougeTokenizer(use_stemmer))


@lru_cache(maxsize=2)
def _rouge_tokenizer(use_stemmer: bool) -> _RougeTokenizer:
    return _RougeTokenizer(use_stemmer)


class RougeReward(Reward):
    """ROUGE F-measure with Google's rouge-score (its tokeniser and Porter stemmer, stems cached; for
    rougeL the LCS is computed bit-parallel, same value). Range [0, 1]; the best reference counts.
    Params: rouge_type="rougeL" (rouge1, rouge2, rougeL, rougeLsum), use_stemmer=True."""

    name = "rouge"
    description = "rouge-score F-measure (rougeL by default) against the reference(s)."

    def __init__(self, *, rouge_type: str = "rougeL", use_stemmer: bool = True, **common: Any):
        super().__init__(**common)
        if rouge_type not in ("rouge1", "rouge2", "rouge3", "rougeL", "rougeLsum"):
            raise ValueError(f"rouge: rouge_type must be rouge1, rouge2, rouge3, rougeL or rougeLsum, got {rouge_type!r}")
        self.rouge_type, self.use_stemmer = rouge_type, use_stemmer

    def score(self, text, *, prompt=None, reference=None, row=None):
        refs = _refs(reference)
        if not refs:
            return _missing(self.name)
        if self.rouge_type == "rougeL":  # the same F-measure as rouge-score, with a bit-parallel LCS
            tok = _rouge_tokenizer(self.use_stemmer)
            hyp = tok.tokenize(text)
            best = 0.0
            for ref in refs:
                target = tok.tokenize(ref)
                lcs = lcs_length(target, hyp)
                if lcs:
                    precision, recall = lcs / len(hyp), lcs / len(target)
                    best = max(best, 2 * precision * recall / (precision + recall))
            return best
        scorer = _rouge_scorer(self.rouge_type, self.use_stemmer)
        return max(scorer.score(ref, text)[self.rouge_type].fmeasure for ref in refs)


class _NoWordNet:
    """Stands in for WordNet in nltk's METEOR: no synonyms, so only exact and stem matches count."""

    def synsets(self, *args: Any, **kwargs: Any) -> list:
        return []


class MeteorReward(Reward):
    """METEOR with nltk, exact + Porter-stem matching. Range [0, 1].

    WordNet synonym matching needs NLTK data that PyPI does not ship; when WordNet is not installed the
    synonym stage is skipped (a one-time warning says so). Tokens: lower-cased words and punctuation by
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
        from nltk.translate.meteor_score import meteor_score

        refs = _refs(reference)
        if not refs:
            return _missing(self.name)
        hyp = re.findall(r"\w+|[^\w\s]", text.lower())
        if not hyp:
            return 0.0
        ref_tokens = [re.findall(r"\w+|[^\w\s]", r.lower()) for r in refs]
        return float(meteor_score(ref_tokens, hyp, wordnet=self._get_wordnet(), alpha=self.alpha, beta=self.beta,
                                  gamma=self.gamma))


REWARDS = [AccuracyReward, FactualCorrectnessReward, BleuReward, RougeReward, MeteorReward]
ALIASES = {"exact_match": "accuracy", "factuality": "factual_correctness"}
