"""Win rate of one set of generations against another, judged by a reward."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .base import BaseMetric, mean
from .preference import call_reward, resolve_reward


def count_wins(policy_scores: Sequence[float], baseline_scores: Sequence[float],
               tie_tolerance: float = 0.0) -> tuple[int, int, int]:
    """``(wins, ties, losses)`` of the policy: a win when its score exceeds the baseline's by more than
    ``tie_tolerance``, a loss when it falls short by more than that, a tie otherwise."""
    if len(policy_scores) != len(baseline_scores):
        raise ValueError(f"win_rate: {len(policy_scores)} policy scores but {len(baseline_scores)} baseline scores")
    wins = ties = losses = 0
    for p, b in zip(policy_scores, baseline_scores):
        if p - b > tie_tolerance:
            wins += 1
        elif b - p > tie_tolerance:
            losses += 1
        else:
            ties += 1
    return wins, ties, losses


class WinRate(BaseMetric):
    """Share of prompts where the predictions beat a baseline's generations (ties count half).

    ``judge`` scores completions: a callable ``fn(completions, **kw) -> list[float]``, an import path, a
    registered reward name or a reward spec string (``length:max_length=50``). The baseline generations
    (e.g. the reference model's, for DPO) come in the column ``baseline`` (``baseline_column=`` renames
    it); ``prompts`` and other columns are passed to the judge when it accepts them.
    """

    name = "win_rate"
    description = "Win rate of the predictions against baseline generations, judged by a reward (ties count half)."
    needs_references = False

    def __init__(self, judge: Any = None, *, baseline_column: str = "baseline", tie_tolerance: float = 0.0,
                 **judge_params: Any):
        if judge is None:
            raise ValueError("win_rate needs judge= (a reward callable, an import path, a registered reward name "
                             "or a reward spec string)")
        if tie_tolerance < 0:
            raise ValueError(f"win_rate: tie_tolerance must be >= 0, got {tie_tolerance}")
        self.judge = resolve_reward(judge, **judge_params)
        self.baseline_column, self.tie_tolerance = baseline_column, tie_tolerance

    def compute(self, predictions, references=None, **columns) -> dict[str, float]:
        """``win_rate``, ``wins``, ``ties``, ``losses`` and the mean judge scores ``policy_reward`` and
        ``baseline_reward``."""
        baseline = columns.pop(self.baseline_column, None)
        if baseline is None:
            raise ValueError(f"win_rate needs the baseline generations in the column {self.baseline_column!r}")
        if len(baseline) != len(predictions) or not len(predictions):
            raise ValueError(f"win_rate: {len(predictions)} predictions but {len(baseline)} baseline generations "
                             "(need the same non-zero number)")
        policy_scores = call_reward(self.judge, predictions, references, **columns)
        baseline_scores = call_reward(self.judge, baseline, references, **columns)
        wins, ties, losses = count_wins(policy_scores, baseline_scores, self.tie_tolerance)
        n = len(predictions)
        self.last_scores = (policy_scores, baseline_scores)
        return {"win_rate": (wins + 0.5 * ties) / n, "wins": float(wins), "ties": float(ties),
                "losses": float(losses), "policy_reward": mean(policy_scores),
                "baseline_reward": mean(baseline_scores)}
