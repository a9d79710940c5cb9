"""Checks that need the reward registry: reward names must be known."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .errors import ConfigIssue, did_you_mean
from .registry import REWARDS

if TYPE_CHECKING:
    from .unified import UnifiedConfig


def registry_issues(config: "UnifiedConfig") -> list[ConfigIssue]:
    issues: list[ConfigIssue] = []  # the algorithm spec's own checks run on every resolution (resolve.py)
    known = REWARDS.names()
    if known:
        for i, reward in enumerate(config.rewards):
            if reward.type != "custom" and reward.type not in REWARDS:
                issues.append(ConfigIssue(f"rewards[{i}].type", f"unknown reward {reward.type!r}{did_you_mean(reward.type, known)} "
                                          "(`aligntune list rewards` shows all)"))
    return issues
