"""METEOR (nltk) with regex tokenisation; WordNet synonyms only when the WordNet data is installed."""

from __future__ import annotations

import logging
import threading

from .base import BaseMetric, as_reference_lists, mean, word_tokenize

logger = logging.getLogger("aligntune.eval.meteor")
_WARNED = threading.Event()


class _NoSynonyms:
    """Stands in for WordNet when its data is absent: no synonyms, so only exact and stem matches."""

    @staticmethod
    def synsets(word, *args, **kwargs):
        return []


def wordnet_or_none():
    """nltk's WordNet reader when its data is present, else None (with a one-time warning)."""
    from nltk.corpus import wordnet

    try:
        wordnet.ensure_loaded()
        return wordnet
    except LookupError:
        if not _WARNED.is_set():
            _WARNED.set()
            logger.warning("NLTK WordNet data not found: METEOR uses exact and stem matches only "
                           "(no synonyms); install it with nltk.download('wordnet') for full METEOR")
        return None


class METEOR(BaseMetric):
    """Mean sentence METEOR (nltk ``meteor_score``), 0-1; several references per row allowed."""

    name = "meteor"
    description = "METEOR, 0-1 (nltk; synonyms only with WordNet data)."

    def __init__(self, alpha: float = 0.9, beta: float = 3.0, gamma: float = 0.5, use_wordnet: bool = True):
        self.alpha, self.beta, self.gamma, self.use_wordnet = alpha, beta, gamma, use_wordnet

    def compute(self, predictions, references=None, **columns) -> dict[str, float]:
        """``{"meteor": mean sentence score}``."""
        from nltk.stem.porter import PorterStemmer
        from nltk.translate.meteor_score import meteor_score

        self._check(predictions, references)
        wordnet = (wordnet_or_none() if self.use_wordnet else None) or _NoSynonyms()
        stemmer = PorterStemmer()
        scores = []
        for pred, refs in zip(predictions, as_reference_lists(references)):
            hyp = word_tokenize(pred)
            ref_tokens = [word_tokenize(r) for r in refs]
            if not hyp or not any(ref_tokens):
                scores.append(float(hyp == [] and not any(ref_tokens)))
                continue
            scores.append(meteor_score(ref_tokens, hyp, stemmer=stemmer, wordnet=wordnet,
                                       alpha=self.alpha, beta=self.beta, gamma=self.gamma))
        return {"meteor": mean(scores)}
