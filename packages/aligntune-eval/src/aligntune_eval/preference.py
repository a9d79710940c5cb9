"""Metrics from scores rather than text overlap: DPO preference metrics, reward-model scores and
user callables."""

from __future__ import annotations

import importlib
import inspect
import math
from collections.abc import Callable
from typing import Any

from .base import BaseMetric, mean


def _floats(columns: dict[str, Any], key: str) -> list[float]:
    if key not in columns or columns[key] is None:
        raise ValueError(f"dpo metrics need the column {key!r} (per-pair summed log-probabilities)")
    value = columns[key]
    if hasattr(value, "tolist"):
        value = value.tolist()
    return [float(v) for v in value]


class DPOMetrics(BaseMetric):
    """Preference accuracy, mean reward margin and implicit rewards of DPO.

    Implicit reward: ``beta * (log pi(y|x) - log pi_ref(y|x))``. Columns: ``chosen_logps``,
    ``rejected_logps``, ``ref_chosen_logps``, ``ref_rejected_logps`` (one float per pair); predictions
    and references are not used.
    """

    name = "dpo"
    description = "DPO preference accuracy, reward margin and implicit rewards from log-probs."
    needs_references = False
    uses_generations = False

    def __init__(self, beta: float = 0.1):
        if beta <= 0:
            raise ValueError(f"dpo: beta must be > 0, got {beta}")
        self.beta = beta

    def compute(self, predictions=(), references=None, **columns) -> dict[str, float]:
        """``preference_accuracy`` (share of pairs with margin > 0), ``reward_margin``, ``chosen_reward`` and
        ``rejected_reward`` (means). The win rate against the reference model needs generations and a
        judge: see :class:`aligntune_eval.win_rate.WinRate`."""
        beta = float(columns.pop("beta", self.beta))
        c, r = _floats(columns, "chosen_logps"), _floats(columns, "rejected_logps")
        rc, rr = _floats(columns, "ref_chosen_logps"), _floats(columns, "ref_rejected_logps")
        if not len(c) == len(r) == len(rc) == len(rr) or not c:
            raise ValueError(f"dpo: the four log-prob columns must be non-empty and of equal length, got "
                             f"{len(c)}, {len(r)}, {len(rc)}, {len(rr)}")
        chosen = [beta * (a - b) for a, b in zip(c, rc)]
        rejected = [beta * (a - b) for a, b in zip(r, rr)]
        margins = [a - b for a, b in zip(chosen, rejected)]
        return {
            "preference_accuracy": mean([float(m > 0) for m in margins]),
            "reward_margin": mean(margins),
            "chosen_reward": mean(chosen),
            "rejected_reward": mean(rejected),
        }


def _accepts(fn: Callable, name: str) -> bool:
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False
    return name in params or any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())


def resolve_callable(fn: Any) -> Callable:
    """A callable from itself or an import path ``module:function`` / ``module.function``."""
    if callable(fn):
        return fn
    if isinstance(fn, str):
        module, _sep, attr = fn.partition(":") if ":" in fn else fn.rpartition(".")
        if module and attr:
            try:
                return getattr(importlib.import_module(module), attr)
            except (ImportError, AttributeError) as exc:
                raise ImportError(f"cannot import {fn!r}: {exc}") from exc
    raise TypeError(f"expected a callable or an import path 'module:function', got {fn!r}")


def resolve_reward(reward: Any, **reward_params: Any) -> Callable:
    """A reward callable ``fn(completions, **kw) -> list[float]`` from a callable, an import path
    ``module:function``, a registered reward name (``length``) or a reward spec string
    (``length:weight=1:max_length=50``, the weight multiplies the scores). Registered reward classes are
    built with ``reward_params`` (plus the spec's parameters); the reward registry is looked up, not imported."""
    if reward is None:
        raise ValueError("no reward given: pass a callable, an import path 'module:function', a registered "
                         "reward name or a reward spec string")
    if isinstance(reward, str) and reward.count(":") == 1 and "=" not in reward and not reward.split(":")[1][:1].isdigit():
        return resolve_callable(reward)  # module:function
    if isinstance(reward, str):
        from aligntune_config import registry
        from aligntune_config.spec_strings import parse_reward_spec

        spec = parse_reward_spec(reward)
        name = spec["type"]
        if name not in registry.REWARDS:
            if ":" not in reward and "." in reward:
                return resolve_callable(reward)
            known = ", ".join(sorted(registry.REWARDS.describe()))
            raise ValueError(f"reward {name!r} is not in the reward registry (known: {known})")
        obj = registry.REWARDS.get(name)
        params = {**dict(spec.get("params") or {}), **reward_params}
        fn = obj(**params) if inspect.isclass(obj) else obj
        weight = float(spec.get("weight", 1.0))
        if weight == 1.0:
            return fn

        def weighted(completions, **kw):
            return [weight * float(s) for s in call_reward(fn, completions, **kw)]

        weighted.__name__ = getattr(fn, "name", name)
        return weighted
    return resolve_callable(reward)


def call_reward(fn: Callable, completions, references=None, **columns) -> list[float]:
    """``fn(completions, ...)`` passing ``references`` and the columns it accepts; one float per completion."""
    kwargs = {k: v for k, v in columns.items() if _accepts(fn, k)}
    if references is not None and _accepts(fn, "references"):
        kwargs["references"] = references
    scores = [float(s) for s in fn(list(completions), **kwargs)]
    if len(scores) != len(completions):
        raise ValueError(f"the reward returned {len(scores)} scores for {len(completions)} completions")
    return scores


class RewardModelScore(BaseMetric):
    """Mean and standard deviation of a reward callable over the predictions.

    ``reward`` is a callable ``fn(completions, **kw) -> list[float]`` (an AlignTune reward function, a
    wrapped reward model), an import path, the name of a reward in the reward registry, or a reward spec
    string. ``prompts``/``references`` and other columns are passed when the callable accepts them.
    """

    name = "reward_score"
    description = "Mean/std of a reward callable or registered reward over predictions."
    needs_references = False

    def __init__(self, reward: Any = None, prefix: str = "reward", **reward_params: Any):
        if reward is None:
            raise ValueError("reward_score needs reward= (a callable, an import path or a registered reward name)")
        self.reward = resolve_reward(reward, **reward_params)
        self.prefix = prefix

    def compute(self, predictions, references=None, **columns) -> dict[str, float]:
        """``{"reward_mean", "reward_std"}`` (population std)."""
        scores = call_reward(self.reward, predictions, references, **columns)
        mu = mean(scores)
        std = math.sqrt(mean([(s - mu) ** 2 for s in scores])) if scores else 0.0
        return {f"{self.prefix}_mean": mu, f"{self.prefix}_std": std}


class CustomMetric(BaseMetric):
    """Wraps ``fn(predictions, references) -> float | dict[str, float]`` (or an import path to one)."""

    name = "custom"
    description = "A user callable fn(predictions, references) -> float or dict of floats."
    needs_references = False

    def __init__(self, fn: Any = None, name: str | None = None):
        if fn is None:
            raise ValueError("custom needs fn= (a callable or an import path 'module:function')")
        self.fn = resolve_callable(fn)
        self.name = name or getattr(self.fn, "__name__", "custom")  # type: ignore[misc]

    def compute(self, predictions, references=None, **columns) -> dict[str, float]:
        """The callable's value as ``{name: value}``, or its dict with float values."""
        value = self.fn(predictions, references)
        if isinstance(value, dict):
            return {str(k): float(v) for k, v in value.items()}
        try:
            return {self.name: float(value)}
        except (TypeError, ValueError) as exc:
            raise TypeError(f"custom metric {self.name!r} returned {type(value).__name__}; expected a float "
                            "or a dict of floats") from exc
