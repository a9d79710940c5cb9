"""alt-profanity-check's probabilities with its own model, for a whole batch at once.

``profanity_check.predict_prob`` runs scikit-learn's TF-IDF vectorizer, whose counting loop visits every
token in Python. Here the same analyzer steps (lower case, the vectorizer's token pattern) feed a
vocabulary lookup done by ``map(dict.get)`` in C, the counts of the batch become one sparse matrix, and
the package's own TF-IDF weighting and calibrated SVM score it (the whole batch is tokenised as one
string): the same matrix, so the same
probabilities (checked in the tests). Stop words need no filtering because the vocabulary, fitted
with them removed, holds none (checked when loaded; otherwise the library's transform is used).
"""

from __future__ import annotations

import re
from functools import lru_cache
from itertools import repeat
from typing import Any


class FastProfanity:
    def __init__(self) -> None:
        from profanity_check import profanity_check as pc

        self.vectorizer, self.model = pc.vectorizer, pc.model
        v = self.vectorizer
        params = v.get_params()
        self.vocab: dict[str, int] = v.vocabulary_
        self.tokenize = v.build_tokenizer()
        stops = v.get_stop_words() or frozenset()
        pattern = re.compile(params["token_pattern"])
        self._split = re.compile("\x00|" + pattern.pattern.removeprefix("(?u)"))
        if pattern.pattern == r"(?u)\b\w\w+\b" and all(len(k) > 1 for k in self.vocab):
            # its tokens are the word-character runs of 2+; every vocabulary entry is one, so shorter
            # runs need no filtering (they are not in the vocabulary)
            self._split = re.compile(r"\x00|\w+")
        self._get = {**self.vocab, "\x00": -2}.get
        self.exact = (params["analyzer"] == "word" and params["ngram_range"] == (1, 1) and params["lowercase"]
                      and params["strip_accents"] is None and params["preprocessor"] is None
                      and params["tokenizer"] is None and not params["binary"] and params["input"] == "content"
                      and stops.isdisjoint(self.vocab) and pattern.groups == 0
                      and not pattern.pattern.removeprefix("(?u)").startswith("(?"))

    def _counts(self, texts: list[str]) -> Any:
        """The vectorizer's count matrix of ``texts``. The batch is lower-cased and tokenised as one
        string with NUL separators (no token spans a NUL; lower-casing is per character apart from
        final sigma, whose context a NUL ends as the end of a text does); each token's row is the
        number of separators before it."""
        import numpy as np
        import scipy.sparse as sp

        joined = "\x00".join(texts).lower()
        tokens = self._split.findall(joined)
        ids = np.fromiter(map(self._get, tokens, repeat(-1)), dtype=np.int64, count=len(tokens))
        separators = ids == -2
        rows = np.cumsum(separators)
        keep = ids >= 0
        rows, cols = rows[keep], ids[keep]
        matrix = sp.csr_matrix((np.ones(len(cols), dtype=self.vectorizer.dtype), (rows, cols)),
                               shape=(len(texts), len(self.vocab)), dtype=self.vectorizer.dtype)
        matrix.sum_duplicates()
        matrix.sort_indices()
        return matrix

    def probabilities(self, texts: list[str]) -> list[float]:
        """P(offensive) for each text, as ``profanity_check.predict_prob``."""
        if not texts:
            return []
        if self.exact and not any("\x00" in t for t in texts):
            features = self.vectorizer._tfidf.transform(self._counts(texts), copy=False)
        else:
            features = self.vectorizer.transform(texts)
        return [float(p) for p in self.model.predict_proba(features)[:, 1]]


@lru_cache(maxsize=1)
def fast_profanity() -> FastProfanity:
    return FastProfanity()
