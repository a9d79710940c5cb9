"""Surface-form rewards: length, conciseness, repetition, diversity, readability, overlong shaping.
All are rules over the text itself (no lexicon, no model)."""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from ..base import Reward, clamp

_SENT_SPLIT = re.compile(r"(?<=[.!?])\s+|\n+")
_WORD_RE = re.compile(r"[A-Za-z]+(?:'[A-Za-z]+)?")


def sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENT_SPLIT.split(text) if s and s.strip()]


def ngrams(tokens: list[str], n: int) -> list[tuple[str, ...]]:
    return [tuple(tokens[i:i + n]) for i in range(len(tokens) - n + 1)]


class LengthReward(Reward):
    """Length within a target range. Rule. Range [0, 1].

    ``n`` = number of ``unit`` ("words" by whitespace, or "chars"). 1.0 when
    ``min_length <= n <= max_length``; ``n / min_length`` below; ``max(0, 1 - (n - max_length) / max_length)``
    above. Params: min_length=10, max_length=200, unit="words".
    """

    name = "length"
    description = "Length within [min_length, max_length] words (or chars): 1 inside, linear decay outside."

    def __init__(self, *, min_length: int = 10, max_length: int = 200, unit: str = "words", **common: Any):
        super().__init__(**common)
        if unit not in ("words", "chars"):
            raise ValueError(f"length: unit must be 'words' or 'chars', got {unit!r}")
        if min_length < 0 or max_length <= 0 or min_length > max_length:
            raise ValueError(f"length: need 0 <= min_length <= max_length and max_length > 0, "
                             f"got min_length={min_length}, max_length={max_length}")
        self.min_length, self.max_length, self.unit = min_length, max_length, unit

    def score(self, text, *, prompt=None, reference=None, row=None):
        n = len(text) if self.unit == "chars" else len(text.split())
        if n < self.min_length:
            return n / self.min_length
        if n > self.max_length:
            return max(0.0, 1.0 - (n - self.max_length) / self.max_length)
        return 1.0


_FILLERS = re.compile(
    r"\b(as an ai(?: language model)?|it is (?:important|worth) (?:to note|noting)|needless to say|in conclusion"
    r"|basically|actually|to be honest|at the end of the day|in order to|i hope this helps|let me know if"
    r"|it should be noted|as mentioned (?:above|before|earlier))\b", re.IGNORECASE)


class ConcisenessReward(Reward):
    """Short answers without filler. Rule. Range [0, 1].

    ``min(1, target_words / n_words)`` minus ``filler_penalty`` per filler phrase ("as an AI", "needless to
    say", "I hope this helps", ...), clamped to [0, 1]; an empty text scores 0.
    Params: target_words=100, filler_penalty=0.1.
    """

    name = "conciseness"
    description = "Brevity: min(1, target_words/words) minus a penalty per filler phrase."

    def __init__(self, *, target_words: int = 100, filler_penalty: float = 0.1, **common: Any):
        super().__init__(**common)
        if target_words <= 0:
            raise ValueError(f"conciseness: target_words must be > 0, got {target_words}")
        self.target_words, self.filler_penalty = target_words, filler_penalty

    def score(self, text, *, prompt=None, reference=None, row=None):
        n = len(text.split())
        if n == 0:
            return 0.0
        return clamp(min(1.0, self.target_words / n) - self.filler_penalty * len(_FILLERS.findall(text)))


class RepetitionPenalty(Reward):
    """Penalty for repeated n-grams. Rule. Range [-1, 0].

    ``-(1 - distinct / total)`` over the word n-grams (lower-cased) of the completion: 0 when no n-gram
    repeats, towards -1 for a text that loops. Texts shorter than n words score 0. Params: n=3.
    """

    name = "repetition_penalty"
    description = "Minus the fraction of repeated word n-grams (0 = no repetition, -1 = all repeated)."

    def __init__(self, *, n: int = 3, **common: Any):
        super().__init__(**common)
        if n < 1:
            raise ValueError(f"repetition_penalty: n must be >= 1, got {n}")
        self.n = n

    def score(self, text, *, prompt=None, reference=None, row=None):
        grams = ngrams(text.lower().split(), self.n)
        if not grams:
            return 0.0
        return -(1.0 - len(set(grams)) / len(grams))


class DiversityReward(Reward):
    """Lexical diversity, distinct-n. Rule. Range [0, 1].

    Distinct word n-grams / total n-grams of the completion (lower-cased); empty texts score 0, a text
    shorter than n words scores 1 if not empty. Params: n=2.
    """

    name = "diversity"
    description = "distinct-n: unique word n-grams / total n-grams."

    def __init__(self, *, n: int = 2, **common: Any):
        super().__init__(**common)
        if n < 1:
            raise ValueError(f"diversity: n must be >= 1, got {n}")
        self.n = n

    def score(self, text, *, prompt=None, reference=None, row=None):
        tokens = text.lower().split()
        if not tokens:
            return 0.0
        grams = ngrams(tokens, self.n)
        return len(set(grams)) / len(grams) if grams else 1.0


@lru_cache(maxsize=65536)
def _syllables(word: str) -> int:
    from .._textstat import syllables
    return syllables(word)


class ReadabilityReward(Reward):
    """Readability by the Flesch formulas (textstat's definitions). Rule. Range [0, 1].

    Without ``target_grade``: Flesch Reading Ease / 100, clamped to [0, 1] (higher = easier).
    With ``target_grade``: ``max(0, 1 - |Flesch-Kincaid grade - target_grade| / 10)``.
    Syllables come from textstat's CMUdict when its data is installed, else from textstat's fallback,
    pyphen hyphenation (no download is attempted). Params: target_grade=None.
    """

    name = "readability"
    description = "Flesch reading ease / 100, or closeness of the Flesch-Kincaid grade to target_grade."

    def __init__(self, *, target_grade: float | None = None, **common: Any):
        super().__init__(**common)
        self.target_grade = target_grade

    @staticmethod
    def stats(text: str) -> tuple[int, int, int]:
        toks = _WORD_RE.findall(text)
        n_sent = max(1, len([s for s in sentences(text) if _WORD_RE.search(s)]))
        return len(toks), n_sent, sum(_syllables(w.lower()) for w in toks)

    def score(self, text, *, prompt=None, reference=None, row=None):
        n_words, n_sent, n_syl = self.stats(text)
        if n_words == 0:
            return 0.0
        if self.target_grade is None:
            ease = 206.835 - 1.015 * (n_words / n_sent) - 84.6 * (n_syl / n_words)
            return clamp(ease / 100.0)
        grade = 0.39 * (n_words / n_sent) + 11.8 * (n_syl / n_words) - 15.59
        return max(0.0, 1.0 - abs(grade - self.target_grade) / 10.0)


def _token_counter(tokenizer: Any) -> Callable[[str], int]:
    if tokenizer is None:
        return lambda text: len(text.split())
    if isinstance(tokenizer, str):
        from aligntune_config._base import import_object
        tokenizer = import_object(tokenizer)
    if hasattr(tokenizer, "encode"):
        def count(text: str) -> int:
            try:
                return len(tokenizer.encode(text, add_special_tokens=False))
            except TypeError:
                return len(tokenizer.encode(text))
        return count
    if callable(tokenizer):
        return lambda text: len(tokenizer(text))
    raise ValueError(f"soft_overlong: tokenizer must have .encode or be callable, got {type(tokenizer).__name__}")


class SoftOverlongPunishment(Reward):
    """DAPO's soft overlong punishment (Yu et al. 2025, eq. 13). Rule. Range [-penalty_factor, 0].

    With L = completion length, L_max = ``max_completion_length`` and L_cache = ``buffer_length``:
    0 when ``L <= L_max - L_cache``; ``((L_max - L_cache) - L) / L_cache`` inside the buffer;
    -1 beyond L_max; all times ``penalty_factor``. L is the number of tokens: the ``completion_ids``
    column when the trainer passes it (TRL does), else ``tokenizer`` (object with ``encode``, callable, or
    import path), else whitespace tokens. Params: max_completion_length=4096, buffer_length=1024,
    penalty_factor=1.0, tokenizer=None.
    """

    name = "soft_overlong_punishment"
    description = "DAPO soft overlong punishment: 0 up to L_max - buffer, linear to -penalty_factor at L_max."

    def __init__(self, *, max_completion_length: int = 4096, buffer_length: int = 1024,
                 penalty_factor: float = 1.0, tokenizer: Any = None, **common: Any):
        super().__init__(**common)
        if not 0 < buffer_length <= max_completion_length:
            raise ValueError(f"soft_overlong_punishment: need 0 < buffer_length <= max_completion_length, got "
                             f"buffer_length={buffer_length}, max_completion_length={max_completion_length}")
        self.max_len, self.buffer, self.factor = max_completion_length, buffer_length, penalty_factor
        self._count = _token_counter(tokenizer)

    def penalty(self, length: int) -> float:
        start = self.max_len - self.buffer
        if length <= start:
            return 0.0
        if length <= self.max_len:
            return self.factor * (start - length) / self.buffer
        return -self.factor

    def score(self, text, *, prompt=None, reference=None, row=None):
        ids = (row or {}).get("completion_ids")
        length = len(ids) if ids is not None and not isinstance(ids, (str, int)) else self._count(text)
        return self.penalty(length)


REWARDS = [LengthReward, ConcisenessReward, RepetitionPenalty, DiversityReward, ReadabilityReward,
           SoftOverlongPunishment]
ALIASES = {"repetition": "repetition_penalty", "distinct_n": "diversity", "overlong": "soft_overlong_punishment",
           "dapo_overlong": "soft_overlong_punishment"}
