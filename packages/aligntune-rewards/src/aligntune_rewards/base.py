"""The base class of built-in rewards, and the helpers that turn TRL-style inputs into plain text.

A built-in reward subclasses :class:`Reward`, sets ``name`` and ``description``, takes its parameters
as keyword arguments of ``__init__`` and implements either ``score`` (one completion) or ``batch``
(all completions at once). Instances implement :class:`aligntune_config.interfaces.RewardFunction`.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Sequence
from typing import Any

logger = logging.getLogger("aligntune.rewards")

#: Dataset columns searched, in order, for the reference when ``references`` is not passed.
REFERENCE_COLUMNS = ("references", "reference", "answer", "solution", "ground_truth", "target", "label")


def to_text(item: Any) -> str:
    """Plain text of a completion or prompt: a string as is; a chat (list of ``{"role", "content"}``
    messages) becomes the content of its last message; a single message its content; None empty."""
    if item is None:
        return ""
    if isinstance(item, str):
        return item
    if isinstance(item, dict):
        return to_text(item.get("content", ""))
    if isinstance(item, (list, tuple)):
        if not item:
            return ""
        last = item[-1]
        if isinstance(last, dict):
            content = last.get("content", "")
            if isinstance(content, list):  # multimodal content parts
                return " ".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
            return str(content)
        return " ".join(to_text(x) for x in item)
    return str(item)


def _aligned(values: Any, n: int, what: str) -> list[Any]:
    if values is None:
        return [None] * n
    if isinstance(values, (str, bytes, dict)) or not isinstance(values, Sequence):
        return [values] * n  # one value for every completion
    values = list(values)
    if len(values) != n:
        raise ValueError(f"{what} has {len(values)} values for {n} completions; pass one per completion")
    return values


def find_references(references: Any, columns: dict[str, Any], n: int) -> list[Any]:
    """References aligned with the completions: ``references`` or the first known reference column."""
    if references is not None:
        return _aligned(references, n, "references")
    for key in REFERENCE_COLUMNS:
        if key in columns and columns[key] is not None:
            return _aligned(columns[key], n, key)
    return [None] * n


class Reward:
    """Base class of the built-in rewards.

    Subclasses implement ``score(text, *, prompt, reference, row) -> float`` (``row`` holds the other
    dataset columns of that completion) or override ``batch`` for batched scoring.
    """

    name: str = ""
    description: str = ""
    #: True when the reward loads a model (torch) when called.
    model_based: bool = False
    #: True when ``model_name`` may be given (a heuristic that can switch to a classifier, or a model reward).
    accepts_model: bool = False

    def __init__(self, *, model_name: str | None = None, device: str = "auto", cache_dir: str | None = None):
        if model_name is not None and not self.accepts_model:
            raise ValueError(f"reward {self.name!r} does not use a model; remove model_name={model_name!r}")
        self.model_name = model_name
        self.device = device
        self.cache_dir = cache_dir
        self.__name__ = self.name  # TRL names reward functions by __name__

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r}>"

    def __call__(self, completions: Sequence[Any], *, prompts: Sequence[Any] | None = None,
                 references: Sequence[Any] | None = None, **columns: Any) -> list[float]:
        texts = [to_text(c) for c in completions]
        n = len(texts)
        prompt_list = [to_text(p) if p is not None else None for p in _aligned(prompts, n, "prompts")]
        refs = find_references(references, columns, n)
        if n == 0:
            return []
        scores = self.batch(texts, prompt_list, refs, columns)
        return [float(s) for s in scores]

    def batch(self, texts: list[str], prompts: list[str | None], references: list[Any],
              columns: dict[str, Any]) -> list[float]:
        """Score all completions; the default calls :meth:`score` on each."""
        n = len(texts)
        aligned = {k: _aligned(v, n, k) for k, v in columns.items()
                   if not (isinstance(v, Sequence) and not isinstance(v, (str, bytes)) and len(v) != n)}
        out = []
        for i, text in enumerate(texts):
            row = {k: v[i] for k, v in aligned.items()}
            out.append(self.score(text, prompt=prompts[i], reference=references[i], row=row))
        return out

    def score(self, text: str, *, prompt: str | None = None, reference: Any = None,
              row: dict[str, Any] | None = None) -> float:
        raise NotImplementedError(f"{type(self).__name__} implements neither score nor batch")

    @classmethod
    def parameters(cls) -> dict[str, Any]:
        """The reward's own parameters and their defaults (from ``__init__``)."""
        out = {}
        for klass in reversed(cls.__mro__):
            init = klass.__dict__.get("__init__")
            if init is None or klass is object:
                continue
            for p in inspect.signature(init).parameters.values():
                if p.name != "self" and p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD):
                    out[p.name] = None if p.default is p.empty else p.default
        for common in ("model_name", "device", "cache_dir"):
            out.pop(common, None)
        return out


def clamp(value: float, low: float = 0.0, high: float = 1.0) -> float:
    return low if value < low else min(value, high)


def words(text: str) -> list[str]:
    """Whitespace tokens."""
    return text.split()
