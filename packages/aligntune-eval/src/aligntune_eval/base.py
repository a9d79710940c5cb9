"""Shared pieces of the metrics: a base class, input checks and text helpers."""

from __future__ import annotations

import re
import string
from collections.abc import Sequence
from typing import Any, ClassVar

_ARTICLES = re.compile(r"\b(a|an|the)\b", re.UNICODE)
_PUNCT = set(string.punctuation)
_WORD = re.compile(r"\w+|[^\w\s]", re.UNICODE)


class BaseMetric:
    """Base of the built-in metrics: a ``name``, a one-line ``description`` and :meth:`compute`.

    Subclasses implement :meth:`compute` and return named floats; they satisfy
    :class:`aligntune_config.interfaces.Metric`.
    """

    name: ClassVar[str] = "metric"
    description: ClassVar[str] = ""
    needs_references: ClassVar[bool] = True
    uses_generations: ClassVar[bool] = True  # False: scored from dataset columns, no generation needed

    def compute(self, predictions: Sequence[Any], references: Sequence[Any] | None = None,
                **columns: Sequence[Any]) -> dict[str, float]:
        """Score ``predictions`` against ``references``; subclasses override."""
        raise NotImplementedError

    def __call__(self, predictions: Sequence[Any], references: Sequence[Any] | None = None,
                 **columns: Sequence[Any]) -> dict[str, float]:
        return self.compute(predictions, references, **columns)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r})"

    def _check(self, predictions: Sequence[Any], references: Sequence[Any] | None) -> None:
        """Raise a clear error when references are missing or misaligned."""
        if isinstance(predictions, str):
            raise TypeError(f"{self.name}: predictions must be a sequence of strings, not one string")
        if not self.needs_references:
            return
        if references is None:
            raise ValueError(f"{self.name}: references are required")
        if isinstance(references, str):
            raise TypeError(f"{self.name}: references must be a sequence, not one string")
        if len(predictions) != len(references):
            raise ValueError(f"{self.name}: {len(predictions)} predictions but {len(references)} references")


def as_reference_lists(references: Sequence[Any]) -> list[list[str]]:
    """Each reference as a list of strings (a row may hold one string or several)."""
    out = []
    for ref in references:
        if isinstance(ref, str):
            out.append([ref])
        elif ref is None:
            out.append([""])
        else:
            out.append([str(r) for r in ref])
    return out


def normalize_answer(text: str) -> str:
    """SQuAD normalisation: lower case, drop punctuation and articles, squeeze whitespace."""
    text = str(text).lower()
    text = "".join(ch for ch in text if ch not in _PUNCT)
    text = _ARTICLES.sub(" ", text)
    return " ".join(text.split())


def word_tokenize(text: str) -> list[str]:
    """Regex tokenisation (words and single punctuation marks); needs no punkt data."""
    return _WORD.findall(str(text))


def mean(values: Sequence[float]) -> float:
    """Arithmetic mean; 0.0 for an empty sequence."""
    return float(sum(values) / len(values)) if len(values) else 0.0
