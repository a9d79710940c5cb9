"""Style rewards: sentiment (VADER), tone, formality. Lexicon heuristics unless ``model_name`` is given,
in which case a sequence classifier (transformers, loaded lazily) scores the text instead."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from ..base import Reward, clamp
from ._lexicon import CONTRACTION, EMOTICON, FORMAL, HEDGES, INFORMAL, POLITE, RUDE, Tokens


@lru_cache(maxsize=1)
def vader():
    """VADER with vaderSentiment's scores, computed by :class:`._vader.FastVader` (same values)."""
    from ._vader import fast_vader

    return fast_vader()


def _label_prob(probs: dict[str, float], keys: tuple[str, ...]) -> float:
    return sum(p for label, p in probs.items() if any(k in label for k in keys))


class _ClassifierSwitch(Reward):
    """A heuristic reward that a sequence classifier replaces when ``model_name`` is set."""

    accepts_model = True

    def batch(self, texts, prompts, references, columns):
        if self.model_name is None:
            return super().batch(texts, prompts, references, columns)
        from .models import classifier_probs

        probs = classifier_probs(self.model_name, texts, device=self.device, cache_dir=self.cache_dir)
        return [self.from_probs(p) for p in probs]

    def from_probs(self, probs: dict[str, float]) -> float:
        raise NotImplementedError


class SentimentReward(_ClassifierSwitch):
    """Sentiment towards a target. Lexicon heuristic (VADER) by default. Range [0, 1].

    VADER's compound score c in [-1, 1] maps to ``(c + 1) / 2`` for target "positive", ``(1 - c) / 2`` for
    "negative", ``1 - |c|`` for "neutral". With ``model_name``: the classifier's probability of labels
    containing "pos" / "neg" / "neu" (e.g. a SST-2 or twitter-roberta sentiment model).
    Params: target="positive".
    """

    name = "sentiment"
    description = "Sentiment towards target (positive/negative/neutral): VADER lexicon, or a classifier."

    def __init__(self, *, target: str = "positive", **common: Any):
        super().__init__(**common)
        if target not in ("positive", "negative", "neutral"):
            raise ValueError(f"sentiment: target must be positive, negative or neutral, got {target!r}")
        self.target = target

    def batch(self, texts, prompts, references, columns):
        if self.model_name is None:
            compound = vader().compound
            return [self._from_compound(compound(t)) if t.strip() else 0.0 for t in texts]
        return super().batch(texts, prompts, references, columns)

    def _from_compound(self, c: float) -> float:
        if self.target == "positive":
            return (c + 1.0) / 2.0
        if self.target == "negative":
            return (1.0 - c) / 2.0
        return 1.0 - abs(c)

    def from_probs(self, probs):
        key = {"positive": ("pos",), "negative": ("neg",), "neutral": ("neu",)}[self.target]
        return clamp(_label_prob(probs, key))


class ToneReward(_ClassifierSwitch):
    """Polite, considerate tone. Lexicon heuristic. Range [0, 1].

    Starts at 0.5 + 0.25 * VADER compound; +0.1 per politeness marker ("please", "happy to help", "thank
    you", ...; at most +0.3); -0.2 per rude marker ("stupid", "shut up", "figure it out yourself", ...);
    -0.1 per shouted word (ALL CAPS, 4+ letters) and for 3+ exclamation marks; clamped to [0, 1].
    With ``model_name``: 1 - probability of labels containing "toxic"/"offensive"/"neg"/"rude".
    Params: none.
    """

    name = "tone"
    description = "Polite, considerate tone: politeness vs rudeness markers plus VADER (or a classifier)."

    def score(self, text, *, prompt=None, reference=None, row=None):
        if not text.strip():
            return 0.0
        value = 0.5 + 0.25 * vader().compound(text)
        tokens = Tokens(text)
        value += min(0.3, 0.1 * POLITE.count(tokens))
        value -= 0.2 * RUDE.count(tokens)
        # isupper (C, via filter) first: it rejects nearly every word
        shouted = sum(1 for w in filter(str.isupper, text.split()) if len(w) >= 4 and w.isalpha())
        value -= 0.1 * shouted + (0.1 if text.count("!") >= 3 else 0.0)
        return clamp(value)

    def from_probs(self, probs):
        return clamp(1.0 - _label_prob(probs, ("toxic", "offensive", "neg", "rude", "impolite")))


class FormalityReward(_ClassifierSwitch):
    """Formality of register. Lexicon heuristic. Range [0, 1].

    formality = 0.5 + 0.08 per formal marker ("therefore", "regarding", "we recommend", ...; at most +0.4)
    - 0.1 per informal marker ("gonna", "lol", "hey", ...) - 0.05 per contraction - 0.1 per emoticon/emoji
    - 0.05 per hedge ("kind of", "I guess") - 0.1 for 2+ exclamation marks, + 0.1 when every sentence starts
    with a capital letter; clamped to [0, 1]. target="formal" returns formality, "informal" 1 - formality.
    With ``model_name``: probability of labels containing "formal" (not "informal").
    Params: target="formal".
    """

    name = "formality"
    description = "Formal register (or informal with target=informal): formal vs informal markers."

    def __init__(self, *, target: str = "formal", **common: Any):
        super().__init__(**common)
        if target not in ("formal", "informal"):
            raise ValueError(f"formality: target must be 'formal' or 'informal', got {target!r}")
        self.target = target

    def formality(self, text: str) -> float:
        tokens = Tokens(text)
        value = 0.5 + min(0.4, 0.08 * FORMAL.count(tokens))
        value -= 0.1 * INFORMAL.count(tokens) + 0.05 * len(CONTRACTION.findall(text))
        value -= 0.1 * len(EMOTICON.findall(text)) + 0.05 * HEDGES.count(tokens)
        value -= 0.1 if text.count("!") >= 2 else 0.0
        starts = [s.strip()[0] for s in text.replace("!", ".").replace("?", ".").split(".") if s.strip()]
        if starts and all(c.isupper() or not c.isalpha() for c in starts):
            value += 0.1
        return clamp(value)

    def score(self, text, *, prompt=None, reference=None, row=None):
        if not text.strip():
            return 0.0
        f = self.formality(text)
        return f if self.target == "formal" else 1.0 - f

    def from_probs(self, probs):
        formal = sum(p for label, p in probs.items() if "formal" in label and "informal" not in label)
        return clamp(formal if self.target == "formal" else 1.0 - formal)


REWARDS = [SentimentReward, ToneReward, FormalityReward]
ALIASES: dict[str, str] = {"politeness": "tone"}
