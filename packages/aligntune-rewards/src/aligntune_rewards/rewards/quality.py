"""Quality heuristics: helpfulness, relevance, coherence, fluency, structure. All are rules over words,
sentences and layout (no model), documented as such; ``relevance`` switches to sentence embeddings
when ``model_name`` is given."""

from __future__ import annotations

import re
from typing import Any

from ..base import Reward, clamp
from ._lexicon import CONNECTIVES, POLITE, REFUSAL, RUDE, Tokens, folded, prompt_stems, stems_of, tokens
from .text import sentences

_LIST_LINE = re.compile(r"^\s*(?:[-*\u2022]|\d+[.)])\s+\S", re.MULTILINE)
_HEADER = re.compile(r"^\s*(?:#{1,6}\s+\S|[A-Z][^\n]{0,60}:\s*$)", re.MULTILINE)
_REPEAT_CHARS = re.compile(r"(.)\1{4,}")
_SIGNALS = [re.compile(p, re.IGNORECASE | re.MULTILINE) for p in (
    r"\bfor example\b|\be\.g\.|\bsuch as\b", r"\bstep\b|^\s*\d+[.)]", r"^\s*[-*]\s", r"```|\bdef \b",
    r"\bbecause\b|\bso that\b|\bthis means\b")]
#: For each signal, literal pieces (lower case) one of which every match contains; None: a digit.
_SIGNAL_KEYS = (("for example", "e.g.", "such as"), ("step", None), ("-", "*"), ("```", "def "),
                ("because", "so that", "this means"))
_DIGIT = re.compile(r"\d")
_NO_LETTER_TOKEN = re.compile(r"(?<!\S)(?:(?!\s)[\W\d_])+(?!\S)")
_DOUBLE_WORD = re.compile(r"\b(\w+)\s+\1\b", re.IGNORECASE)


def _overlap(a: set[str], b: set[str]) -> float:
    if not a or not b:
        return 0.0
    return len(a & b) / min(len(a), len(b))


class CoherenceReward(Reward):
    """Coherence and flow between sentences. Rule heuristic. Range [0, 1].

    For 2+ sentences: 0.5 * mean lexical link between adjacent sentences (shared content-word stems /
    the smaller sentence's stems, x2, capped at 1; a pronoun or connective at the start of a sentence
    counts as a link of 0.5) + 0.3 * share of sentences with a discourse connective, capped at 1 at 50%
    + 0.2 * share of distinct sentences (repeated sentences lower it). One sentence: 0.6; empty: 0.
    Params: none.
    """

    name = "coherence"
    description = "Sentence-to-sentence lexical links, connectives and no repeated sentences (heuristic)."

    def score(self, text, *, prompt=None, reference=None, row=None):
        sents = sentences(text)
        if not sents:
            return 0.0
        if len(sents) == 1:
            return 0.6
        tokenized = [Tokens(s) for s in sents]
        stems = [stems_of(t.toks) for t in tokenized]
        links = []
        for i in range(1, len(sents)):
            link = min(1.0, 2.0 * _overlap(stems[i - 1], stems[i]))
            if CONNECTIVES.match(sents[i].lstrip()):
                link = max(link, 0.5)
            links.append(link)
        with_connective = sum(1 for t in tokenized if CONNECTIVES.search(t)) / len(sents)
        distinct = len({s.lower() for s in sents}) / len(sents)
        return clamp(0.5 * sum(links) / len(links) + 0.3 * min(1.0, 2 * with_connective) + 0.2 * distinct)


class FluencyReward(Reward):
    """Surface fluency. Rule heuristic. Range [0, 1].

    Mean of: share of sentences that start with a capital (or digit) and end with . ! ? : or a closing
    quote/bracket; share of tokens that are words (letters) rather than symbol noise; plausible mean word
    length (2-10 letters -> 1); and 1 - 0.25 per stutter ("the the") or 5+ repeated characters.
    Params: none.
    """

    name = "fluency"
    description = "Well-formed sentences, real words, no stutters or character runs (heuristic)."

    def score(self, text, *, prompt=None, reference=None, row=None):
        sents = sentences(text)
        toks = text.split()
        if not sents or not toks:
            return 0.0
        formed = sum(1 for s in sents if (s[0].isupper() or s[0].isdigit() or not s[0].isalpha())
                     and s.rstrip()[-1] in ".!?:\"')]`") / len(sents)
        wordlike = 1.0 - len(_NO_LETTER_TOKEN.findall(text)) / len(toks)
        letters = [len(w) for w in tokens(text)]
        mean_len = sum(letters) / len(letters) if letters else 0.0
        length_ok = 1.0 if 2.0 <= mean_len <= 10.0 else 0.3
        glitches = len(_DOUBLE_WORD.findall(text)) + len(_REPEAT_CHARS.findall(text))
        return clamp((formed + wordlike + length_ok + max(0.0, 1.0 - 0.25 * glitches)) / 4.0)


class StructureReward(Reward):
    """Organisation of the text. Rule heuristic. Range [0, 1].

    Mean of four checks: sentences end with punctuation; paragraphs (a text over ``min_words_for_layout``
    words should have 2+ paragraphs, a list or headers; shorter texts pass); lists/headers are well formed
    (list items not empty, at least 2 items when there is a list); code fences and brackets balanced.
    Params: min_words_for_layout=80.
    """

    name = "structure"
    description = "Paragraphs/lists/headers for long texts, terminated sentences, balanced fences (heuristic)."

    def __init__(self, *, min_words_for_layout: int = 80, **common: Any):
        super().__init__(**common)
        self.min_words = min_words_for_layout

    def score(self, text, *, prompt=None, reference=None, row=None):
        if not text.strip():
            return 0.0
        sents = [s for s in sentences(text) if not _LIST_LINE.match(s) and not _HEADER.match(s)]
        terminated = (sum(1 for s in sents if s.rstrip()[-1] in ".!?:)\"'`") / len(sents)) if sents else 1.0
        paragraphs = [p for p in re.split(r"\n\s*\n", text) if p.strip()]
        items = _LIST_LINE.findall(text)
        has_layout = len(paragraphs) >= 2 or len(items) >= 2 or bool(_HEADER.search(text))
        layout = 1.0 if has_layout or len(text.split()) <= self.min_words else 0.3
        lists_ok = 0.5 if len(items) == 1 else 1.0
        balanced = 1.0
        if text.count("```") % 2:
            balanced -= 0.5
        for a, b in ("()", "[]", "{}"):
            if text.count(a) != text.count(b):
                balanced -= 0.25
        return clamp((terminated + layout + lists_ok + max(0.0, balanced)) / 4.0)


class RelevanceReward(Reward):
    """Relevance of the completion to its prompt. Rule heuristic (or embeddings). Range [0, 1].

    Heuristic: share of the prompt's content-word stems (stopwords removed, crude stemming) that appear in
    the completion, x1.5, capped at 1. With ``model_name`` (a sentence-transformers model or folder):
    cosine similarity of prompt and completion embeddings, clamped to [0, 1]. No prompt: 0.5.
    Params: none.
    """

    name = "relevance"
    description = "Prompt keywords covered by the completion (heuristic), or embedding cosine with model_name."
    accepts_model = True

    def batch(self, texts, prompts, references, columns):
        if self.model_name is not None:
            from .models import cosine_similarities

            pairs = [(p or "", t) for p, t in zip(prompts, texts)]
            sims = cosine_similarities(self.model_name, pairs, device=self.device, cache_dir=self.cache_dir)
            return [0.5 if not p else clamp(s) for (p, _), s in zip(pairs, sims)]
        return super().batch(texts, prompts, references, columns)

    def score(self, text, *, prompt=None, reference=None, row=None):
        if not prompt:
            return 0.5
        if not prompt_stems(prompt):
            return 0.5
        if not text.strip():
            return 0.0
        return self.coverage(prompt, Tokens(text).toks)

    @staticmethod
    def coverage(prompt: str, toks: list[str]) -> float:
        """The heuristic score of a non-empty completion with tokens ``toks`` (of :class:`Tokens`)."""
        wanted = prompt_stems(prompt)
        if not wanted:
            return 0.5
        return clamp(1.5 * len(wanted.intersection(stems_of(toks))) / len(wanted))


class HelpfulnessReward(Reward):
    """How helpful the answer looks. Rule heuristic. Range [0, 1].

    0.35 * substance (words / ``target_words``, capped at 1) + 0.25 * relevance to the prompt (as in
    ``relevance``; 0.5 without a prompt) + 0.15 * explanation signals (examples, steps, lists, code,
    "because") + 0.1 * politeness + 0.15 base; minus 0.5 for a refusal ("I can't help", "figure it out
    yourself") and 0.2 per rude marker; clamped to [0, 1]. Params: target_words=50.
    """

    name = "helpfulness"
    description = "Substance, prompt coverage, explanation and politeness; refusals and rudeness penalised."

    def __init__(self, *, target_words: int = 50, **common: Any):
        super().__init__(**common)
        self.target_words = target_words

    def score(self, text, *, prompt=None, reference=None, row=None):
        if not text.strip():
            return 0.0
        substance = min(1.0, len(text.split()) / self.target_words)
        tokens = Tokens(text)
        relevance = RelevanceReward.coverage(prompt, tokens.toks) if prompt else 0.5
        low = folded(text)
        signals = 0
        for pattern, keys in zip(_SIGNALS, _SIGNAL_KEYS):  # a pattern runs only when it could match
            if any((key in low) if key is not None else _DIGIT.search(text) is not None for key in keys) \
                    and pattern.search(text):
                signals += 1
        value = 0.15 + 0.35 * substance + 0.25 * relevance + 0.15 * min(1.0, signals / 2)
        value += 0.1 * min(1.0, POLITE.count(tokens) / 2)
        if REFUSAL.search(tokens):
            value -= 0.5
        value -= 0.2 * RUDE.count(tokens)
        return clamp(value)


REWARDS = [CoherenceReward, FluencyReward, StructureReward, RelevanceReward, HelpfulnessReward]
ALIASES: dict[str, str] = {}
