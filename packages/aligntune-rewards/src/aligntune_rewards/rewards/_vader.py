"""VADER sentiment (vaderSentiment) with the same scores, computed faster.

vaderSentiment's ``polarity_scores`` walks the text character by character to replace emojis, and for
every lexicon word rebuilds the lower-cased list of *all* words several times (negation and idiom
checks), which makes it quadratic in the text length. :class:`FastVader` runs the same rules in the
same order on one lower-cased word list, skips the emoji pass when the text has no emoji, and jumps
straight to the lexicon words; vaderSentiment's own lexicon, constants and helper functions are used,
and the tests check that every score equals the library's.
"""

from __future__ import annotations

import string
from functools import lru_cache
from itertools import compress, repeat


class FastVader:
    """``polarity_scores`` and ``compound`` equal to vaderSentiment's SentimentIntensityAnalyzer."""

    def __init__(self) -> None:
        from vaderSentiment import vaderSentiment as vs

        self._vs = vs
        self.analyzer = vs.SentimentIntensityAnalyzer()
        self.lexicon: dict[str, float] = self.analyzer.lexicon
        self._lexicon_keys = self.lexicon.keys()
        self.boosters: dict[str, float] = vs.BOOSTER_DICT
        self.special: dict[str, float] = vs.SPECIAL_CASES
        self.negate = frozenset(vs.NEGATE)
        self.emoji_chars = frozenset(self.analyzer.emojis)
        # every word of a multi-word idiom or booster phrase: an idiom check can only change the valence
        # when one of the words around the lexicon word is among them
        self.idiom_words = frozenset(w for key in list(self.special) + list(self.boosters) if " " in key
                                     for w in key.split(" "))

    # --- text to words ------------------------------------------------------------------------------
    def _no_emoji(self, text: str) -> str:
        if self.emoji_chars.isdisjoint(text):
            return text.strip()
        emojis = self.analyzer.emojis  # vaderSentiment's replacement loop, verbatim in effect
        out = []
        prev_space = True
        for ch in text:
            if ch in emojis:
                if not prev_space:
                    out.append(" ")
                out.append(emojis[ch])
                prev_space = False
            else:
                out.append(ch)
                prev_space = ch == " "
        return "".join(out).strip()

    @staticmethod
    def _words(text: str) -> list[str]:
        tokens = text.split()
        stripped = list(map(str.strip, tokens, repeat(string.punctuation)))
        return [t if len(st) <= 2 else st for t, st in zip(tokens, stripped)]

    # --- the rules ----------------------------------------------------------------------------------
    def _negated(self, word: str) -> bool:
        return word in self.negate or "n't" in word

    def _negation_check(self, valence: float, low: list[str], start_i: int, i: int) -> float:
        if start_i == 0:
            if self._negated(low[i - 1]):
                valence = valence * self._vs.N_SCALAR
        elif start_i == 1:
            if low[i - 2] == "never" and (low[i - 1] == "so" or low[i - 1] == "this"):
                valence = valence * 1.25
            elif low[i - 2] == "without" and low[i - 1] == "doubt":
                pass
            elif self._negated(low[i - 2]):
                valence = valence * self._vs.N_SCALAR
        else:
            if (low[i - 3] == "never" and (low[i - 2] == "so" or low[i - 2] == "this")) or \
                    (low[i - 1] == "so" or low[i - 1] == "this"):
                valence = valence * 1.25
            elif low[i - 3] == "without" and (low[i - 2] == "doubt" or low[i - 1] == "doubt"):
                pass
            elif self._negated(low[i - 3]):
                valence = valence * self._vs.N_SCALAR
        return valence

    def _special_idioms_check(self, valence: float, low: list[str], i: int) -> float:
        n = len(low)
        if self.idiom_words.isdisjoint(low[i - 3:i + 3]):
            return valence
        special, boosters = self.special, self.boosters
        threetwoone = f"{low[i - 3]} {low[i - 2]} {low[i - 1]}"
        threetwo = f"{low[i - 3]} {low[i - 2]}"
        twoone = f"{low[i - 2]} {low[i - 1]}"
        for seq in (f"{low[i - 1]} {low[i]}", f"{low[i - 2]} {low[i - 1]} {low[i]}", twoone, threetwoone, threetwo):
            if seq in special:
                valence = special[seq]
                break
        if n - 1 > i:
            zeroone = f"{low[i]} {low[i + 1]}"
            if zeroone in special:
                valence = special[zeroone]
        if n - 1 > i + 1:
            zeroonetwo = f"{low[i]} {low[i + 1]} {low[i + 2]}"
            if zeroonetwo in special:
                valence = special[zeroonetwo]
        for n_gram in (threetwoone, threetwo, twoone):
            if n_gram in boosters:
                valence = valence + boosters[n_gram]
        return valence

    def _valence(self, words: list[str], low: list[str], i: int, is_cap_diff: bool) -> float:
        vs, lex, boosters = self._vs, self.lexicon, self.boosters
        item_lower = low[i]
        n = len(low)
        valence = lex[item_lower]
        if item_lower == "no" and i != n - 1 and low[i + 1] in lex:
            valence = 0.0
        if (i > 0 and low[i - 1] == "no") or (i > 1 and low[i - 2] == "no") or \
                (i > 2 and low[i - 3] == "no" and low[i - 1] in ("or", "nor")):
            valence = lex[item_lower] * vs.N_SCALAR
        if is_cap_diff and words[i].isupper():
            valence = valence + vs.C_INCR if valence > 0 else valence - vs.C_INCR
        for start_i in range(3):
            if i > start_i and low[i - (start_i + 1)] not in lex:
                # scalar_inc_dec is 0.0 unless the lower-cased word is a booster
                s = (vs.scalar_inc_dec(words[i - (start_i + 1)], valence, is_cap_diff)
                     if low[i - (start_i + 1)] in boosters else 0.0)
                if start_i == 1 and s != 0:
                    s = s * 0.95
                if start_i == 2 and s != 0:
                    s = s * 0.9
                valence = valence + s
                valence = self._negation_check(valence, low, start_i, i)
                if start_i == 2:
                    valence = self._special_idioms_check(valence, low, i)
        # "least" as negation
        if i > 1 and low[i - 1] not in lex and low[i - 1] == "least":
            if low[i - 2] != "at" and low[i - 2] != "very":
                valence = valence * vs.N_SCALAR
        elif i > 0 and low[i - 1] not in lex and low[i - 1] == "least":
            valence = valence * vs.N_SCALAR
        return valence

    def _sentiments(self, text: str) -> tuple[list, str]:
        text = self._no_emoji(text)
        words = self._words(text)
        n = len(words)
        low = list(map(str.lower, words))
        sentiments: list = [0] * n
        lex, boosters = self.lexicon, self.boosters
        if self._lexicon_keys.isdisjoint(low):  # no lexicon word: every valence is 0
            return sentiments, text
        n_upper = sum(map(str.isupper, words))
        is_cap_diff = 0 < n - n_upper < n
        for i in compress(range(n), map(lex.__contains__, low)):  # the lexicon words only (C filter)
            w = low[i]
            if w not in boosters and not (w == "kind" and i < n - 1 and low[i + 1] == "of"):
                sentiments[i] = self._valence(words, low, i, is_cap_diff)
        if "but" in low:
            sentiments = self.analyzer._but_check(words, sentiments)
        return sentiments, text

    # --- public -------------------------------------------------------------------------------------
    def polarity_scores(self, text: str) -> dict[str, float]:
        """vaderSentiment's ``polarity_scores``: neg, neu, pos and compound."""
        sentiments, text = self._sentiments(text)
        return self.analyzer.score_valence(sentiments, text)

    def compound(self, text: str) -> float:
        """The compound score of :meth:`polarity_scores` (the same arithmetic, without neg/neu/pos)."""
        sentiments, text = self._sentiments(text)
        if not sentiments:
            return 0.0
        total = float(sum(sentiments))
        if total:
            amplifier = self.analyzer._punctuation_emphasis(text)
            total = total + amplifier if total > 0 else total - amplifier
        return round(self._vs.normalize(total), 4)


@lru_cache(maxsize=1)
def fast_vader() -> FastVader:
    return FastVader()
