"""``get_reward`` and ``list_rewards``; user-function adapters; registration of the built-ins.

User functions come in two forms, told apart by their signature (:func:`function_style`):

- per-sample (the AlignTune spec): ``fn(text, reference=None, **kwargs) -> float``, called once per
  completion with ``reference``, ``prompt`` and the row's other columns as keywords (only those the
  function accepts, unless it takes ``**kwargs``);
- batched (TRL): ``fn(completions, **kwargs) -> list[float]``, called once with ``completions``,
  ``prompts``, ``references`` and all columns as keyword lists (again filtered to what it accepts).

Rule: the first parameter named ``completions``/``texts``/``responses``/``outputs``/``samples``/
``predictions`` (plural) means batched; any other first parameter means per-sample. An explicit
``style="batched"`` / ``style="per_sample"`` param, or a ``batched = True`` attribute on the function,
overrides the rule. ``None`` scores (TRL's "not applicable") become NaN; a composite treats NaN as 0.
"""

from __future__ import annotations

import inspect
import logging
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from aligntune_config.errors import did_you_mean
from aligntune_config.registry import REWARDS, ComponentLoadError
from aligntune_config.rewards import RewardConfig

from .base import Reward, find_references, to_text

logger = logging.getLogger("aligntune.rewards")
BATCHED_NAMES = {"completions", "texts", "responses", "outputs", "samples", "predictions", "generations"}
_MODEL_FIELDS = ("model_name", "device", "cache_dir")


def function_style(fn: Callable[..., Any]) -> str:
    """``"batched"`` or ``"per_sample"`` for a user function (see the module docstring for the rule)."""
    if getattr(fn, "batched", None) is True:
        return "batched"
    try:
        params = [p for p in inspect.signature(fn).parameters.values()
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
    except (TypeError, ValueError):
        return "per_sample"
    return "batched" if params and params[0].name in BATCHED_NAMES else "per_sample"


def _accepts(fn: Callable[..., Any]) -> tuple[set[str], bool]:
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return set(), True
    names = {p.name for p in sig.parameters.values() if p.kind != p.VAR_POSITIONAL and p.kind != p.VAR_KEYWORD}
    return names, any(p.kind == p.VAR_KEYWORD for p in sig.parameters.values())


def _to_float(value: Any, name: str = "reward") -> float:
    if value is None:
        return math.nan
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ValueError(f"reward {name!r} returned {value!r}; it must return a number (or None)") from None


class FunctionReward:
    """Adapts a user function (per-sample or batched) to the RewardFunction protocol.
    Extra ``params`` are passed to the function as keywords on every call."""

    def __init__(self, fn: Callable[..., Any] | str, *, name: str | None = None, style: str | None = None,
                 **params: Any):
        if isinstance(fn, str):
            from aligntune_config._base import import_object

            fn = import_object(fn)
        if not callable(fn):
            raise TypeError(f"reward_function must be callable or an import path, got {type(fn).__name__}")
        if style not in (None, "batched", "per_sample"):
            raise ValueError(f"style must be 'batched' or 'per_sample', got {style!r}")
        self.fn = fn
        self.style = style or function_style(fn)
        self.params = params
        self.name = name or getattr(fn, "__name__", type(fn).__name__)
        self.__name__ = self.name  # TRL names reward functions by __name__
        self.description = ((getattr(fn, "__doc__", None) or "").strip().splitlines() or [""])[0]
        self._names, self._var_kw = _accepts(fn)

    def __repr__(self) -> str:
        return f"<FunctionReward {self.name!r} ({self.style})>"

    def _kwargs(self, values: Mapping[str, Any]) -> dict[str, Any]:
        merged = {**values, **self.params}
        if self._var_kw:
            return merged
        return {k: v for k, v in merged.items() if k in self._names}

    def __call__(self, completions: Sequence[Any], *, prompts: Sequence[Any] | None = None,
                 references: Sequence[Any] | None = None, **columns: Any) -> list[float]:
        n = len(completions)
        if n == 0:
            return []
        if self.style == "batched":
            values = {"prompts": prompts, **columns}
            if references is not None:
                values["references"] = references
            values = {k: v for k, v in values.items() if v is not None}
            out = self.fn(list(completions), **self._kwargs(values))
            if not isinstance(out, Sequence) or isinstance(out, str) or len(out) != n:
                raise ValueError(f"reward {self.name!r} (batched) must return one float per completion "
                                 f"({n}), got {type(out).__name__} of length {len(out) if hasattr(out, '__len__') else '?'}")
            return [_to_float(v, self.name) for v in out]
        refs = find_references(references, columns, n)
        out = []
        for i, completion in enumerate(completions):
            row = {k: (v[i] if isinstance(v, Sequence) and not isinstance(v, (str, bytes)) and len(v) == n else v)
                   for k, v in columns.items()}
            row["reference"] = refs[i]
            if prompts is not None:
                row["prompt"] = to_text(prompts[i])
            out.append(_to_float(self.fn(to_text(completion), **self._kwargs(row)), self.name))
        return out


class CustomReward(FunctionReward):
    """A user function given as params.reward_function (callable or 'module:function'); per-sample
    ``fn(text, reference=None, **kw) -> float`` or batched ``fn(completions, **kw) -> list[float]``."""

    name = "custom"

    description = "Your own function: params.reward_function (per-sample or TRL-style batched)."

    def __init__(self, *, reward_function: Callable[..., Any] | str | None = None, **params: Any):
        if reward_function is None:
            raise ValueError("custom: params.reward_function is required (a callable or 'module:function')")
        for key in _MODEL_FIELDS:
            params.pop(key, None)
        super().__init__(reward_function, **params)


def _instantiate(obj: Any, name: str, params: dict[str, Any], model: dict[str, Any]) -> Any:
    if isinstance(obj, type) and issubclass(obj, Reward):
        accepted = obj.parameters()
        takes_any = any(p.kind == p.VAR_KEYWORD for p in inspect.signature(obj.__init__).parameters.values()
                        if p.name != "common")
        unknown = [k for k in params if k not in accepted]
        if unknown and not takes_any:
            hint = did_you_mean(unknown[0], list(accepted))
            raise ValueError(f"reward {name!r} has no parameter {unknown[0]!r}{hint} "
                             f"Valid parameters: {', '.join(sorted(accepted)) or 'none'}")
        if model.get("model_name") is not None and not obj.accepts_model:
            raise ValueError(f"reward {name!r} does not use a model; remove model_name={model['model_name']!r}")
        model = {k: v for k, v in model.items() if v is not None}
        return obj(**params, **model)
    if isinstance(obj, type):  # CustomReward, or a third-party class implementing the protocol
        return obj(**params)
    if callable(obj) and hasattr(obj, "name") and not inspect.isfunction(obj):
        if params:
            raise ValueError(f"reward {name!r} is a ready-made instance and takes no parameters; got {sorted(params)}")
        return obj
    if callable(obj):
        return FunctionReward(obj, name=name, **params)
    raise TypeError(f"reward {name!r} is registered as a {type(obj).__name__}, which is not callable")


def _config_of(spec: Any, params: dict[str, Any]) -> RewardConfig:
    if isinstance(spec, RewardConfig) and not params:
        return spec
    if isinstance(spec, RewardConfig):
        data = {k: getattr(spec, k) for k in spec.model_fields_set | {"type", "params"}}
    elif isinstance(spec, str):
        from aligntune_config.spec_strings import parse_reward_spec

        data = parse_reward_spec(spec)
    elif isinstance(spec, Mapping):
        data = dict(spec)
    else:
        raise TypeError(f"get_reward takes a name, a spec string, a RewardConfig, a dict or a callable; "
                        f"got {type(spec).__name__}")
    for key in _MODEL_FIELDS:
        if key in params:
            data[key] = params.pop(key)
    if params:
        data["params"] = {**dict(data.get("params") or {}), **params}
    return RewardConfig(**data)


def build_reward(config: RewardConfig) -> Any:
    """The reward function of one RewardConfig (ignoring weight/clip/normalize/shield)."""
    params = dict(config.params)
    params.pop("shield_threshold", None)
    params.pop("shield_floor", None)
    obj = REWARDS.get(config.type)
    model = {"model_name": config.model_name, "device": config.device, "cache_dir": config.cache_dir}
    return _instantiate(obj, config.type, params, model)


def get_reward(spec: Any, **params: Any) -> Any:
    """A RewardFunction from a name (``"length"``), a spec string (``"length:min_length=5"``), a
    :class:`RewardConfig`, a dict of its fields, a callable (adapted by :class:`FunctionReward`) or a
    reward object. ``params`` add to / override the reward's params. When the spec sets a weight other
    than 1, clip, normalize or shield, the result is a one-component :class:`CompositeReward` that
    applies them."""
    if callable(spec) and not isinstance(spec, (str, type)):
        if hasattr(spec, "name") and not inspect.isfunction(spec) and not params:
            return spec
        return FunctionReward(spec, **params)
    if isinstance(spec, type) and issubclass(spec, Reward):
        return _instantiate(spec, spec.name, params, {})
    config = _config_of(spec, dict(params))
    if config.weight != 1.0 or config.clip is not None or config.normalize or config.shield:
        from .composite import CompositeReward

        return CompositeReward([config])
    return build_reward(config)


def list_rewards() -> dict[str, str]:
    """Every registered reward: name -> one-line description (aliases say what they stand for)."""
    out = {}
    for name, text in REWARDS.describe().items():
        try:
            obj = REWARDS.get(name)
        except ComponentLoadError:  # a broken third-party entry point; describe() already reported it
            out[name] = text
            continue
        real = getattr(obj, "name", None)
        out[name] = f"alias of {real}: {text}" if isinstance(real, str) and real and real != name else text
    return out


def register_builtins(groups: Sequence[tuple[list[type], dict[str, str]]]) -> None:
    """Register built-in reward classes (and aliases) in ``aligntune_config.registry.REWARDS``."""
    for classes, aliases in groups:
        by_name = {cls.name: cls for cls in classes}
        for name, cls in list(by_name.items()) + [(alias, by_name[target]) for alias, target in aliases.items()
                                                   if target in by_name]:
            try:
                REWARDS.register(name, cls)
            except ValueError:
                logger.debug("reward %r is already registered elsewhere; keeping that one", name)
