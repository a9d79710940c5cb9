"""Fast cores of the reference-overlap metrics (BLEU, ROUGE-L, METEOR), equal to the libraries' values.

Each metric is split into the work on the reference, done once per distinct reference and memoised
(in GRPO every completion of a group shares its prompt's reference), and the work on the completion,
done with C-backed building blocks (``re.findall``, ``zip``, ``Counter``, set intersections) instead of
per-token Python loops. The values are those of sacrebleu, rouge-score and nltk: the tests compare them
on real text to 1e-12.
"""

from __future__ import annotations

import re
from collections import Counter
from functools import lru_cache
from itertools import pairwise
from typing import Any

_REF_CACHE = 8192  # distinct references kept per metric


class CachedStemmer:
    """nltk's Porter stemmer (the one rouge-score and nltk's METEOR use) with a dictionary of the words
    seen; ``stem`` has the library's signature so the stemmer can be handed to nltk itself."""

    _LIMIT = 500_000

    def __init__(self) -> None:
        from nltk.stem import porter

        self._porter = porter.PorterStemmer()
        self._cache: dict[str, str] = {}

    def stem(self, word: str) -> str:
        cache = self._cache
        if word in cache:
            return cache[word]
        if len(cache) > self._LIMIT:
            cache.clear()
        value = cache[word] = self._porter.stem(word)
        return value

    def stem_all(self, words: list[str]) -> list[str]:
        cache = self._cache
        get = cache.get
        out = [get(w) for w in words]
        if None in out:
            out = [s if s is not None else self.stem(w) for s, w in zip(out, words)]
        return out


@lru_cache(maxsize=1)
def porter() -> CachedStemmer:
    return CachedStemmer()


# --- BLEU (sacrebleu) -------------------------------------------------------------------------------

# sacrebleu's 13a tokeniser applies four ``re.sub`` rules with templates, which Python 3.11 expands in
# Python once per match (the first rule matches every space). Here each rule is ``re.split`` on the same
# compiled pattern (C) and the pieces are joined with the template's spaces: the same string.
_13A_TEMPLATES = (r" \1 ", r"\1 \2 ", r" \1 \2", r"\1 \2 ")


def _spaced_one(pattern: Any, line: str) -> str:  # template " \1 "
    return " ".join(pattern.split(line))


def _spaced_after_both(pattern: Any, line: str) -> str:  # template "\1 \2 "
    parts = pattern.split(line)
    if len(parts) == 1:
        return line
    return parts[0] + "".join([f"{a} {b} {t}" for a, b, t in zip(parts[1::3], parts[2::3], parts[3::3])])


def _spaced_around_first(pattern: Any, line: str) -> str:  # template " \1 \2"
    parts = pattern.split(line)
    if len(parts) == 1:
        return line
    return parts[0] + "".join([f" {a} {b}{t}" for a, b, t in zip(parts[1::3], parts[2::3], parts[3::3])])


_WORD_CACHE = 65536  # words with punctuation whose tokens are kept (the dict is emptied when full)


class Fast13a:
    """sacrebleu's ``Tokenizer13a`` (the same compiled rules, applied by ``re.split``). Equal output,
    checked in the tests; sacrebleu's own tokeniser is used if its rules ever differ from these.

    The rules apply word by word (the whitespace-separated pieces of the line, each between spaces):
    every match is one or two adjacent characters, and a match that holds a whitespace character holds
    it as the character before a ``.``/``,`` or after one, next to the word, and adds only spaces, so
    each word's tokens depend on the word alone. A word of ASCII letters and digits is its own token;
    the tokens of other words (punctuation attached) are kept in a bounded dict."""

    def __init__(self) -> None:
        from sacrebleu.tokenizers.tokenizer_13a import Tokenizer13a
        from sacrebleu.tokenizers.tokenizer_re import TokenizerRegexp

        rules = TokenizerRegexp()._re
        self._fallback = None
        if tuple(repl for _, repl in rules) != _13A_TEMPLATES:
            self._fallback = Tokenizer13a()
        # each rule with the characters one of which its matches contain (a rule without them is skipped)
        self._words: dict[str, list[str]] = {}  # tokens of a whitespace-free word with punctuation
        self._steps = list(zip((p for p, _ in rules),
                               (_spaced_one, _spaced_after_both, _spaced_around_first, _spaced_after_both),
                               (None, ".,", ".,", "-")))

    def __call__(self, line: str) -> str:
        if self._fallback is not None:
            return self._fallback(line)
        return " ".join(self.split(line))

    def split(self, line: str) -> list[str]:
        """The tokens: ``self(line).split()``, without joining them first."""
        if self._fallback is not None:
            return self._fallback(line).split()
        line = line.replace("<skipped>", "").replace("-\n", "").replace("\n", " ")
        if "&" in line:
            line = line.replace("&quot;", '"').replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">")
        out: list[str] = []
        words = self._words
        for word in line.split():
            if word.isalnum() and word.isascii():
                out.append(word)  # letters and digits only: no rule touches it
                continue
            toks = words.get(word)
            if toks is None:
                if len(words) >= _WORD_CACHE:
                    words.clear()
                toks = words[word] = self._rules(f" {word} ").split()
            out += toks
        return out

    def _rules(self, line: str) -> str:
        for pattern, apply, needs in self._steps:
            if needs is None or any(c in line for c in needs):
                line = apply(pattern, line)
        return line


class FastSentenceBleu:
    """``sacrebleu.metrics.BLEU(...).sentence_score(hyp, refs).score`` with the reference n-grams
    memoised per distinct reference tuple and the clipped matches counted by set intersection (C)
    rather than a Python loop over every n-gram; higher orders are skipped once an order matches none.
    Tokenisation, closest reference length, smoothing and effective order are sacrebleu's own code."""

    def __init__(self, tokenize: str = "13a", lowercase: bool = False, max_order: int = 4):
        from sacrebleu.metrics import BLEU

        self.bleu = BLEU(tokenize=tokenize, lowercase=lowercase, effective_order=True, max_ngram_order=max_order)
        self.order = max_order
        tokenizer = Fast13a() if tokenize == "13a" else None
        self._split = tokenizer.split if tokenizer is not None else (lambda s: self.bleu.tokenizer(s).split())
        self.lowercase = lowercase
        self._refs = lru_cache(maxsize=_REF_CACHE)(self._reference_info)

    def _tokens(self, sent: str) -> list[str]:
        if self.lowercase:
            sent = sent.lower()
        return self._split(sent.rstrip())

    def _grams(self, tokens: list[str]) -> list[list[str]]:
        """The n-grams of each order, each as its tokens joined by single spaces (tokens hold no
        whitespace, so a string stands for one n-gram; unlike a tuple it keeps its hash once computed,
        for the set, the intersection and the counts)."""
        out = [tokens]
        grams = tokens
        for n in range(1, self.order):
            grams = [f"{a} {b}" for a, b in zip(grams, tokens[n:])]
            out.append(grams)
        return out

    def _reference_info(self, refs: tuple[str, ...]) -> tuple[list[tuple[set, dict]], list[int]]:
        merged: list[Counter] = [Counter() for _ in range(self.order)]
        lengths = []
        for ref in refs:
            tokens = self._tokens(ref)
            lengths.append(len(tokens))
            for acc, grams in zip(merged, self._grams(tokens)):
                for gram, c in Counter(grams).items():  # max over references, as sacrebleu merges them
                    acc[gram] = max(acc[gram], c)
        # per order: the n-grams, and those that occur more than once (with their counts)
        return [(set(c), {g: k for g, k in c.items() if k > 1}) for c in merged], lengths

    def score(self, hypothesis: str, refs: tuple[str, ...]) -> float:
        ref_info, ref_lens = self._refs(refs)
        tokens = self._tokens(hypothesis)
        hyp_len = len(tokens)
        correct, total = [], []
        grams = tokens
        for n, (ref_set, ref_multi) in enumerate(ref_info, start=1):
            count = max(0, hyp_len - n + 1)
            total.append(count)
            if n > 1:
                if not matched:  # no (n-1)-gram matched, so no n-gram can
                    correct.append(0)
                    continue
                grams = [f"{a} {b}" for a, b in zip(grams, tokens[n - 1:])]
            common = ref_set.intersection(grams)
            matched = len(common)  # clipped count is min(hyp count, ref count): 1 unless both repeat
            if ref_multi:
                both = common.intersection(ref_multi)
                if both:  # few n-grams: count each in the hypothesis (list.count, C)
                    matched += sum(min(grams.count(g), ref_multi[g]) - 1 for g in both)
            correct.append(matched)
        stats = [hyp_len, self.bleu._get_closest_ref_len(hyp_len, ref_lens)] + correct + total
        return self.bleu._compute_score_from_stats(stats).score


# --- ROUGE (rouge-score) ----------------------------------------------------------------------------

_ALNUM = re.compile(r"[a-z0-9]+")


def rouge_tokens(text: str, use_stemmer: bool) -> list[str]:
    """rouge-score's ``tokenize.tokenize``: lower case, alphanumeric runs, Porter stems of words longer
    than 3 characters (tokens that are not ``[a-z0-9]+`` after stemming are dropped, as there)."""
    tokens = _ALNUM.findall(text.lower())
    if not use_stemmer:
        return tokens
    stems = porter().stem_all(tokens)
    out = [s if len(t) > 3 else t for s, t in zip(stems, tokens)]
    return out if all(out) else [t for t in out if t]


@lru_cache(maxsize=_REF_CACHE)
def rouge_reference_tokens(text: str, use_stemmer: bool) -> list[str]:
    return rouge_tokens(text, use_stemmer)


def lcs_length(a: list[str], b: list[str]) -> int:
    """Length of the longest common subsequence, bit-parallel (Hyyro 2004): O(len(b)) big-int steps."""
    if not a or not b:
        return 0
    masks: dict[str, int] = {}
    for i, token in enumerate(a):
        masks[token] = masks.get(token, 0) | (1 << i)
    full = (1 << len(a)) - 1
    v = full
    get = masks.get
    for token in b:
        u = v & get(token, 0)
        v = ((v + u) | (v - u)) & full
    return len(a) - v.bit_count()


def rouge_l_f(target: list[str], prediction: list[str]) -> float:
    """rouge-score's rougeL F-measure of two token lists."""
    lcs = lcs_length(target, prediction)
    if not lcs:
        return 0.0
    precision, recall = lcs / len(prediction), lcs / len(target)
    return 2 * precision * recall / (precision + recall)


def rouge_n_f(target: list[str], prediction: list[str], n: int) -> float:
    """rouge-score's rougeN F-measure of two token lists."""
    t = Counter(zip(*(target[k:] for k in range(n))))
    p = Counter(zip(*(prediction[k:] for k in range(n))))
    common = sum(min(c, p[g]) for g, c in t.items() if g in p)
    precision = common / max(sum(p.values()), 1)
    recall = common / max(sum(t.values()), 1)
    return 2 * precision * recall / (precision + recall) if precision + recall > 0 else 0.0


# --- METEOR (nltk) ----------------------------------------------------------------------------------

_METEOR_TOKEN = re.compile(r"\w+|[^\w\s]")


def meteor_tokens(text: str) -> list[str]:
    """Lower-cased words and punctuation marks (no punkt)."""
    return _METEOR_TOKEN.findall(text.lower())


@lru_cache(maxsize=_REF_CACHE)
def _meteor_reference(text: str) -> tuple[list[str], dict[str, list[int]], list[str]]:
    tokens = meteor_tokens(text)
    positions: dict[str, list[int]] = {}
    for j, w in enumerate(tokens):
        positions.setdefault(w, []).append(j)
    return tokens, positions, porter().stem_all(tokens)


def _greedy(hyp_groups: dict[str, list[int]], ref_groups: dict[str, list[int]], matches: list, hyp_left: list,
            ref_used: set) -> None:
    """nltk's ``_match_enums``: scanning the hypothesis from its end, each word takes the latest unused
    reference position of the same form, i.e. the last k occurrences pair with the last k."""
    for word, hs in hyp_groups.items():
        rs = ref_groups.get(word)
        if not rs:
            hyp_left.extend(hs)
            continue
        if len(hs) == 1:  # the usual case: one occurrence takes the last reference position
            matches.append((hs[0], rs[-1]))
            ref_used.add(rs[-1])
            continue
        k = min(len(hs), len(rs))
        cut_h, cut_r = len(hs) - k, len(rs) - k
        matches.extend(zip(hs[cut_h:], rs[cut_r:]))
        ref_used.update(rs[cut_r:])
        hyp_left.extend(hs[:cut_h])


def meteor_single(hyp: list[str], reference: str, alpha: float, beta: float, gamma: float) -> float:
    """nltk's ``single_meteor_score`` with exact and Porter-stem matching (no WordNet synonyms), same
    alignment and the same arithmetic."""
    ref, ref_pos, ref_stems = _meteor_reference(reference)
    if not hyp or not ref:
        return 0.0
    hyp_groups: dict[str, list[int]] = {}
    for i, w in enumerate(hyp):
        hyp_groups.setdefault(w, []).append(i)
    matches: list[tuple[int, int]] = []
    left: list[int] = []
    used: set[int] = set()
    _greedy(hyp_groups, ref_pos, matches, left, used)
    if left and len(used) < len(ref):
        left.sort()
        hyp_stems = porter().stem_all([hyp[i] for i in left])
        stem_groups: dict[str, list[int]] = {}
        for i, s in zip(left, hyp_stems):
            stem_groups.setdefault(s, []).append(i)
        ref_stem_groups: dict[str, list[int]] = {}
        for j, s in enumerate(ref_stems):
            if j not in used:
                ref_stem_groups.setdefault(s, []).append(j)
        _greedy(stem_groups, ref_stem_groups, matches, [], set())
    count = len(matches)
    if count == 0:
        return 0.0
    matches.sort()
    chunks = 1
    for (h0, r0), (h1, r1) in pairwise(matches):
        if h1 != h0 + 1 or r1 != r0 + 1:
            chunks += 1
    precision = float(count) / len(hyp)
    recall = float(count) / len(ref)
    fmean = (precision * recall) / (alpha * precision + (1 - alpha) * recall)
    penalty = gamma * (float(chunks) / count) ** beta
    return (1 - penalty) * fmean


def meteor_with_wordnet(hyp: list[str], references: list[str], wordnet: Any, alpha: float, beta: float,
                        gamma: float) -> float:
    """nltk's own ``meteor_score`` (used when WordNet is installed), with the cached stemmer."""
    from nltk.translate.meteor_score import meteor_score

    return float(meteor_score([meteor_tokens(r) for r in references], hyp, stemmer=porter(), wordnet=wordnet,
                              alpha=alpha, beta=beta, gamma=gamma))
