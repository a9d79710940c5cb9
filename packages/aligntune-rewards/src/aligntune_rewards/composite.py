"""Weighted combination of rewards with per-component normalisation, clipping and safety shields.

For each completion::

    total = sum_i weight_i * clip_i(normalize_i(raw_i))

- ``normalize``: ``(raw - mean) / (std + 1e-8)`` with a running mean and standard deviation (Welford's
  algorithm, population std) over every raw value this component has seen, this batch included; with
  fewer than 2 values seen, only the mean is subtracted.
- ``clip``: the (normalised) value is clipped to ``[-clip, clip]``.
- NaN raw values (a user function returned None: "not applicable") contribute 0 and are not counted in
  the running statistics.
- ``shield``: a shield component *fails* on a completion when its raw score is below its threshold
  (``params.shield_threshold``, default 0.5; the safety rewards score 1 = safe, 0 = unsafe). When any
  shield fails, the total becomes ``min(total, floor)``, where floor is ``params.shield_floor`` of the
  failing shield or else the composite's ``shield_floor`` (default -1.0). A shield also adds its
  weighted value to the total like any component (give it weight 0 to use it only as a gate).

After each call, ``last_components`` maps each component's name to its raw values,
``last_processed`` to its normalised/clipped values, and ``last_shielded`` lists which completions a
shield floored, for logging.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from aligntune_config.rewards import RewardConfig

logger = logging.getLogger("aligntune.rewards")


@dataclass
class RunningStats:
    """Welford's running mean and (population) variance."""

    count: int = 0
    mean: float = 0.0
    m2: float = 0.0

    def update(self, values: Sequence[float]) -> None:
        for x in values:
            if math.isnan(x):
                continue
            self.count += 1
            delta = x - self.mean
            self.mean += delta / self.count
            self.m2 += delta * (x - self.mean)

    @property
    def std(self) -> float:
        return math.sqrt(self.m2 / self.count) if self.count > 1 else 0.0

    def normalize(self, x: float) -> float:
        if self.count < 2:
            return x - self.mean
        return (x - self.mean) / (self.std + 1e-8)


@dataclass
class Component:
    name: str
    fn: Any
    weight: float = 1.0
    clip: float | None = None
    normalize: bool = False
    shield: bool = False
    shield_threshold: float = 0.5
    shield_floor: float | None = None
    stats: RunningStats = field(default_factory=RunningStats)


def _component(item: Any) -> Component:
    from .factory import build_reward, get_reward

    if isinstance(item, (str, dict, RewardConfig)):
        config = item if isinstance(item, RewardConfig) else (
            RewardConfig(**item) if isinstance(item, dict) else
            (RewardConfig.model_validate(item) if (":" in item or "=" in item) else RewardConfig(type=item)))
        fn = build_reward(config)
        return Component(name=getattr(fn, "name", config.type) or config.type, fn=fn, weight=config.weight,
                         clip=config.clip, normalize=config.normalize, shield=config.shield,
                         shield_threshold=float(config.params.get("shield_threshold", 0.5)),
                         shield_floor=config.params.get("shield_floor"))
    if callable(item):
        fn = get_reward(item)
        return Component(name=getattr(fn, "name", "reward"), fn=fn)
    raise TypeError(f"a composite component must be a RewardConfig, spec string, dict or callable; "
                    f"got {type(item).__name__}")


class CompositeReward:
    """Weighted sum of reward functions (see the module docstring for the exact rule)."""

    def __init__(self, configs: Sequence[Any], *, shield_floor: float = -1.0, name: str = "composite"):
        if isinstance(configs, (str, RewardConfig, dict)) or callable(configs):
            configs = [configs]
        if not configs:
            raise ValueError("CompositeReward needs at least one reward")
        self.name = self.__name__ = name
        self.shield_floor = shield_floor
        self.components: list[Component] = []
        seen: dict[str, int] = {}
        for item in configs:
            comp = _component(item)
            seen[comp.name] = seen.get(comp.name, 0) + 1
            if seen[comp.name] > 1:
                comp.name = f"{comp.name}_{seen[comp.name]}"
            self.components.append(comp)
        self.last_components: dict[str, list[float]] = {}
        self.last_processed: dict[str, list[float]] = {}
        self.last_shielded: list[bool] = []

    def __repr__(self) -> str:
        parts = ", ".join(f"{c.name}*{c.weight:g}{' [shield]' if c.shield else ''}" for c in self.components)
        return f"<CompositeReward {parts}>"

    @property
    def weights(self) -> list[float]:
        return [c.weight for c in self.components]

    def __call__(self, completions: Sequence[Any], *, prompts: Sequence[Any] | None = None,
                 references: Sequence[Any] | None = None, **columns: Any) -> list[float]:
        n = len(completions)
        totals = [0.0] * n
        floors: list[float | None] = [None] * n
        raw_all: dict[str, list[float]] = {}
        processed_all: dict[str, list[float]] = {}
        for comp in self.components:
            raw = [float(x) for x in comp.fn(completions, prompts=prompts, references=references, **columns)]
            if len(raw) != n:
                raise ValueError(f"reward {comp.name!r} returned {len(raw)} scores for {n} completions")
            raw_all[comp.name] = raw
            if comp.normalize:
                comp.stats.update(raw)
            values = []
            for i, x in enumerate(raw):
                if math.isnan(x):
                    values.append(0.0)
                    continue
                v = comp.stats.normalize(x) if comp.normalize else x
                if comp.clip is not None:
                    v = max(-comp.clip, min(comp.clip, v))
                values.append(v)
                if comp.shield and x < comp.shield_threshold:
                    floor = comp.shield_floor if comp.shield_floor is not None else self.shield_floor
                    floors[i] = floor if floors[i] is None else min(floors[i], floor)
            processed_all[comp.name] = values
            for i, v in enumerate(values):
                totals[i] += comp.weight * v
        for i, floor in enumerate(floors):
            if floor is not None:
                totals[i] = min(totals[i], floor)
        self.last_components = raw_all
        self.last_processed = processed_all
        self.last_shielded = [f is not None for f in floors]
        return totals

    def as_trl_functions(self) -> list[Any]:
        """The components as separate TRL reward functions (each with ``__name__``), with their weights
        in :attr:`weights`; shields and normalisation then do not apply (TRL sums them itself)."""
        out = []
        for comp in self.components:
            fn = comp.fn

            def trl(completions, _fn=fn, **kwargs):
                prompts = kwargs.pop("prompts", None)
                return _fn(completions, prompts=prompts, **kwargs)

            trl.__name__ = comp.name
            out.append(trl)
        return out
