"""Syllable counts as textstat computes them, without textstat's network download of CMUdict.

textstat counts English syllables with NLTK's CMUdict and falls back to pyphen hyphenation for words
the dictionary lacks; when CMUdict is not installed it *downloads* it. Here CMUdict is used only when
already installed (``nltk.data.find`` succeeds), else every word goes to textstat's pyphen fallback.
"""

from __future__ import annotations

import logging
import os
import sys
from functools import lru_cache

logger = logging.getLogger("aligntune.rewards")


def _nltk_data_has(resource: str) -> bool:
    """Whether an NLTK data resource is installed, looked up in NLTK's default folders without
    importing nltk (a slow import)."""
    roots = [os.environ[k] for k in ("NLTK_DATA",) if os.environ.get(k)]
    roots = [p for r in roots for p in r.split(os.pathsep)] + [os.path.expanduser("~/nltk_data")]
    for prefix in {sys.prefix, sys.base_prefix}:
        roots += [os.path.join(prefix, d) for d in ("nltk_data", "share/nltk_data", "lib/nltk_data")]
    roots += ["/usr/share/nltk_data", "/usr/local/share/nltk_data", "/usr/lib/nltk_data", "/usr/local/lib/nltk_data"]
    return any(os.path.exists(os.path.join(r, resource)) or os.path.exists(os.path.join(r, resource + ".zip"))
               for r in roots)


@lru_cache(maxsize=1)
def _cmudict() -> dict | None:
    if not _nltk_data_has("corpora/cmudict"):
        logger.info("readability: NLTK's cmudict is not installed; counting syllables with pyphen")
        return None
    import nltk

    return nltk.corpus.cmudict.dict()


@lru_cache(maxsize=1)
def _pyphen():
    import pyphen  # textstat's own dependency

    return pyphen.Pyphen(lang="en_US")


def syllables(word: str) -> int:
    """Syllables of one lower-cased word (textstat's rule)."""
    cmu = _cmudict()
    if cmu is not None and word in cmu:
        return sum(1 for p in cmu[word][0] if p[-1].isdigit())
    return len(_pyphen().positions(word)) + 1
