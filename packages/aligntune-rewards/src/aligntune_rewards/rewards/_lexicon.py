"""Word lists and tiny text utilities shared by the heuristic rewards."""

from __future__ import annotations

import re
from functools import lru_cache

STOPWORDS = frozenset(["a", "about", "above", "after", "again", "against", "all", "am", "an", "and", "any", "are", "as", "at", "be", "because", "been", "before", "being", "below", "between", "both", "but", "by", "can", "could", "did", "do", "does", "doing", "down", "during", "each", "few", "for", "from", "further", "had", "has", "have", "having", "he", "her", "here", "hers", "herself", "him", "himself", "his", "how", "i", "if", "in", "into", "is", "it", "its", "itself", "just", "me", "more", "most", "my", "myself", "no", "nor", "not", "now", "of", "off", "on", "once", "only", "or", "other", "our", "ours", "ourselves", "out", "over", "own", "same", "she", "should", "so", "some", "such", "than", "that", "the", "their", "theirs", "them", "themselves", "then", "there", "these", "they", "this", "those", "through", "to", "too", "under", "until", "up", "very", "was", "we", "were", "what", "when", "where", "which", "while", "who", "whom", "why", "will", "with", "would", "you", "your", "yours", "yourself", "yourselves", "also", "may", "might", "must", "shall", "let", "us", "get", "got", "please", "tell", "explain", "give", "make", "one", "two", "use", "using", "want", "need", "like", "know"])

TOKEN_RE = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")

#: Characters that Python's case-insensitive matching equates with an ASCII letter but whose lower case
#: is not that letter (Turkish dotted/dotless i, long s): folded first, so substring gates never miss.
_FOLD = str.maketrans({"\u0130": "i", "\u0131": "i", "\u017f": "s"})


def has_unfolded(text: str) -> bool:
    """Whether ``text`` holds one of the characters :func:`folded` maps."""
    return "\u0130" in text or "\u0131" in text or "\u017f" in text


def folded(text: str) -> str:
    """Lower case in which every ASCII letter that ``re.IGNORECASE`` would match is that letter: a
    lower-case literal that an IGNORECASE pattern matches in ``text`` is a substring of ``folded(text)``."""
    return text.translate(_FOLD).lower() if has_unfolded(text) else text.lower()


@lru_cache(maxsize=131072)
def stem(word: str) -> str:
    """A crude English suffix stripper (enough to match 'running'/'runs'/'run')."""
    for suffix in ("ational", "ization", "fulness", "ousness", "iveness", "ements", "ement", "ments", "ment",
                   "ings", "ing", "edly", "ies", "ied", "ers", "est", "ed", "es", "ly", "er", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


def tokens(text: str) -> list[str]:
    return TOKEN_RE.findall(text.lower())


def content_stems(text: str) -> set[str]:
    """Stems of the non-stopword tokens."""
    return stems_of(TOKEN_RE.findall(text.lower()))


def stems_of(toks: list[str]) -> set[str]:
    """Stems of the non-stopword tokens among ``toks`` (tokens of :data:`TOKEN_RE`)."""
    return {stem(t) for t in set(toks).difference(STOPWORDS) if len(t) > 1}


@lru_cache(maxsize=16384)
def prompt_stems(prompt: str) -> frozenset[str]:
    """:func:`content_stems` of a prompt, memoised (every completion of a group shares its prompt)."""
    return frozenset(content_stems(prompt))


_PHRASE_TOKEN = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")


class Tokens:
    """A text lower-cased and tokenised once, shared by every :class:`PhraseMatcher` that looks at it
    (a reward that checks several lexicons tokenises the completion once)."""

    __slots__ = ("_joined", "lower", "toks")

    def __init__(self, text: str):
        self.lower = text.lower()
        self.toks = _PHRASE_TOKEN.findall(self.lower)
        self._joined: str | None = None

    @property
    def joined(self) -> str:
        """The tokens joined by single spaces, with a space at each end."""
        if self._joined is None:
            self._joined = " " + " ".join(self.toks) + " "
        return self._joined


class PhraseMatcher:
    """Case-insensitive whole-word phrase matching, faster than one big regex alternation: the text is
    lower-cased and tokenised once; one-word phrases are set lookups, longer ones substring scans of
    the space-joined tokens. ``count``/``findall`` give the phrases found (with repeats), ``search``
    whether any is found, ``match`` whether the text starts with one. ``count`` and ``search`` also take
    a :class:`Tokens` of the text, to share its tokenisation."""

    def __init__(self, phrases: list[str] | tuple[str, ...]):
        normed = {" ".join(_PHRASE_TOKEN.findall(p.lower())) for p in phrases}
        self.words = frozenset(p for p in normed if p and " " not in p)
        self.multi = tuple(sorted(p for p in normed if " " in p))
        self._padded = tuple(" " + p + " " for p in self.multi)
        # a multi-word phrase can only occur when its first word is a token of the text
        self._firsts = frozenset(p.split(" ")[0] for p in self.multi)

    @staticmethod
    def _tokens(text: str | Tokens) -> Tokens:
        return text if isinstance(text, Tokens) else Tokens(text)

    def findall(self, text: str | Tokens) -> list[str]:
        tk = self._tokens(text)
        words = self.words
        found = [t for t in tk.toks if t in words] if not words.isdisjoint(tk.toks) else []
        if self.multi and not self._firsts.isdisjoint(tk.toks):
            joined = tk.joined
            for phrase, padded in zip(self.multi, self._padded):
                hits = joined.count(padded)
                found.extend([phrase] * hits)
        return found

    def count(self, text: str | Tokens) -> int:
        """Number of phrase occurrences (``len(findall(text))``)."""
        tk = self._tokens(text)
        words = self.words
        n = sum(1 for t in tk.toks if t in words) if not words.isdisjoint(tk.toks) else 0
        if self.multi and not self._firsts.isdisjoint(tk.toks):
            joined = tk.joined
            n += sum(joined.count(padded) for padded in self._padded)
        return n

    def search(self, text: str | Tokens) -> bool:
        tk = self._tokens(text)
        if not self.words.isdisjoint(tk.toks):
            return True
        if not self.multi or self._firsts.isdisjoint(tk.toks):
            return False
        joined = tk.joined
        return any(padded in joined for padded in self._padded)

    def match(self, text: str) -> bool:
        toks = _PHRASE_TOKEN.findall(text[:80].lower())
        if not toks:
            return False
        if toks[0] in self.words:
            return True
        joined = " ".join(toks) + " "
        return any(joined.startswith(phrase + " ") for phrase in self.multi)


def phrase_regex(phrases: list[str] | tuple[str, ...]) -> PhraseMatcher:
    """A :class:`PhraseMatcher` for the phrases (whole words, any case)."""
    return PhraseMatcher(phrases)


REFUSAL = phrase_regex([
    "i can't help", "i cannot help", "i can't assist", "i cannot assist", "i won't", "i will not", "i'm unable to",
    "i am unable to", "i'm not able to", "i am not able to", "i refuse", "i don't want to", "not going to help",
    "i can't do that", "i cannot do that", "i can't provide", "i cannot provide", "as an ai, i cannot",
    "figure it out yourself", "do it yourself", "look it up yourself", "google it",
])
RUDE = phrase_regex([
    "stupid", "idiot", "dumb", "moron", "shut up", "pathetic", "loser", "ridiculous question", "obviously",
    "waste of my time", "who cares", "whatever", "go away", "nobody cares", "useless", "figure it out yourself",
    "are you serious", "duh", "ugh", "lazy", "incompetent", "annoying", "get lost",
])
POLITE = phrase_regex([
    "please", "thank you", "thanks", "you're welcome", "happy to help", "glad to help", "i'd be happy",
    "i would be happy", "certainly", "of course", "sure", "great question", "i hope this helps", "kindly",
    "i appreciate", "sorry", "apologies", "feel free", "let me know", "i understand", "good luck",
])
HEDGES = phrase_regex(["i think", "maybe", "perhaps", "probably", "kind of", "sort of", "i guess", "might be"])
CONNECTIVES = phrase_regex([
    "first", "second", "third", "then", "next", "finally", "therefore", "thus", "hence", "because", "so", "however",
    "moreover", "furthermore", "in addition", "for example", "for instance", "as a result", "consequently",
    "in contrast", "on the other hand", "similarly", "meanwhile", "afterwards", "this means", "which", "since",
    "although", "overall", "in summary", "to summarize", "also", "this", "these", "it", "they",
])
INFORMAL = phrase_regex([
    "gonna", "wanna", "gotta", "kinda", "sorta", "yeah", "yep", "nope", "hey", "lol", "lmao", "omg", "btw", "idk",
    "tbh", "u", "ur", "thx", "pls", "cool", "awesome", "stuff", "guys", "dude", "okay", "ok", "ya", "y'all", "ain't",
    "hella", "super", "totally", "nah", "wow", "huh", "yo", "bro",
])
FORMAL = phrase_regex([
    "therefore", "furthermore", "moreover", "consequently", "nevertheless", "regarding", "in accordance with",
    "sincerely", "respectfully", "hereby", "thus", "accordingly", "additionally", "subsequently", "whereas",
    "notwithstanding", "pursuant to", "with respect to", "it is recommended", "we recommend", "please note",
    "in addition", "approximately", "demonstrate", "obtain", "require", "assist", "provide", "ensure",
])
CONTRACTION = re.compile(r"\b\w+'(?:t|s|re|ve|ll|d|m)\b", re.IGNORECASE)
EMOTICON = re.compile(r"(?::\)|:\(|:D|;\)|<3|xD|:P|[\U0001F300-\U0001FAFF\u2600-\u27BF])")
