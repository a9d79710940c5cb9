"""Adapters between AlignTune reward functions and TRL's GRPO reward signature, and the extra reward
terms the GRPO family adds (DAPO's soft overlong punishment)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def completion_text(item: Any) -> str:
    """TRL passes completions (and prompts) as strings or as lists of chat messages."""
    if isinstance(item, str):
        return item
    if isinstance(item, list) and item and isinstance(item[-1], dict):
        return "".join(str(m.get("content", "")) for m in item if m.get("role") == "assistant") or str(item[-1].get("content", ""))
    return str(item)


def prompt_text(item: Any) -> str:
    if isinstance(item, list) and item and isinstance(item[0], dict):
        return "\n".join(str(m.get("content", "")) for m in item)
    return completion_text(item)


class TRLReward:
    """Calls an AlignTune RewardFunction ``fn(completions, *, prompts, references, **columns)`` from TRL,
    which calls ``f(prompts=..., completions=..., completion_ids=..., **dataset_columns)``. The
    reference is the ``reference`` column, else ``answer``."""

    def __init__(self, fn: Any, name: str):
        self.fn = fn
        self.__name__ = name  # TRL logs rewards/<__name__>

    def __call__(self, prompts: Sequence[Any], completions: Sequence[Any], completion_ids: Any = None,
                 **columns: Any) -> list[float]:
        columns.pop("trainer_state", None)
        references = columns.pop("reference", None)
        if references is None:
            references = columns.get("answer")
        texts = [completion_text(c) for c in completions]
        scores = self.fn(texts, prompts=[prompt_text(p) for p in prompts], references=references, **columns)
        if len(scores) != len(texts):
            raise ValueError(f"reward {self.__name__!r} returned {len(scores)} scores for {len(texts)} completions")
        return [float(s) for s in scores]


class OverlongPunishment:
    """DAPO's soft overlong punishment as a reward term on completion token counts; the formula is the
    algorithm's own (``soft_overlong_penalty`` of its maths module, found through the algorithm registry)."""

    __name__ = "overlong_punishment"

    def __init__(self, math: Any, max_completion_length: int, buffer_length: int, penalty_factor: float):
        self.math = math
        self.max_completion_length = max_completion_length
        self.buffer_length = buffer_length
        self.penalty_factor = penalty_factor

    def __call__(self, prompts: Sequence[Any], completions: Sequence[Any], completion_ids: Sequence[Sequence[int]],
                 **columns: Any) -> list[float]:
        import torch

        lengths = torch.tensor([len(ids) for ids in completion_ids])
        return self.math.soft_overlong_penalty(lengths, self.max_completion_length, self.buffer_length,
                                               self.penalty_factor).tolist()
