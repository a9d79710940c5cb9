"""The flat keyword style (``model_name=..., batch_size=8``), dotted overrides
(``train.learning_rate=1e-5``, ``datasets[0].max_samples=10``) and their merge into the nested form of
:class:`UnifiedConfig`."""

from __future__ import annotations

import copy
import re
from functools import lru_cache
from typing import Any

from ._introspect import accepted_keys
from .errors import ConfigIssue, ConfigValidationError, did_you_mean

Path = tuple[Any, ...]

SECTIONS = {
    "algo": "algo", "algorithm": "algo", "backend": "backend", "model": "model", "datasets": "datasets",
    "dataset": "datasets", "eval_datasets": "eval_datasets", "eval_dataset": "eval_datasets", "train": "train", "training": "train", "rewards": "rewards", "tasks": "tasks",
    "distributed": "distributed", "logging": "logging", "evaluation": "evaluation", "mirror": "mirror",
    "meta_es": "meta_es", "chat_template": "chat_template", "caching": "caching",
}

# flat names whose place is not found by the section search (or would be found in the wrong one)
EXPLICIT: dict[str, Path] = {
    "model_name": ("model", "name_or_path"),
    "name_or_path": ("model", "name_or_path"),
    "model_name_or_path": ("model", "name_or_path"),
    "dataset_name": ("datasets", 0, "name"),
    "revision": ("model", "revision"),
    "chat_template": ("chat_template",),
    "truncation_mode": ("train", "truncation_mode"),
    "padding_free": ("train", "padding_free"),
    "dataset_num_proc": ("train", "dataset_num_proc"),
    "precompute_ref_log_probs": ("train", "precompute_ref_log_probs"),
    "precompute_ref_batch_size": ("train", "precompute_ref_batch_size"),
    "gradient_checkpointing": ("model", "gradient_checkpointing"),
    "seed": ("train", "seed"),
    "weight": ("datasets", 0, "weight"),
    "root": ("caching", "root"),
    "wandb_project": ("logging", "wandb_project"),
    "eval_temperature": ("evaluation", "eval_temperature"),
}
NOT_FLAT = {"name", "enabled", "type", "params", "backend_config"}


@lru_cache(maxsize=1)
def _index() -> dict[str, Path]:
    from .dataset import DatasetConfig
    from .distributed import DistributedConfig
    from .evaluation import EvaluationConfig
    from .logging_config import LoggingConfig
    from .meta_es import MetaESConfig, NeuralMirrorConfig
    from .model import ModelConfig
    from .training import TrainingConfig
    from .unified import CachingConfig

    order = [
        (("train",), TrainingConfig), (("model",), ModelConfig), (("logging",), LoggingConfig),
        (("distributed",), DistributedConfig), (("evaluation",), EvaluationConfig), (("mirror",), NeuralMirrorConfig),
        (("meta_es",), MetaESConfig), (("caching",), CachingConfig), (("datasets", 0), DatasetConfig),
    ]
    index: dict[str, Path] = {}
    for prefix, model in order:
        aliases = getattr(model, "_aliases", {}) or {}
        for key in accepted_keys(model):
            if key not in NOT_FLAT:
                index.setdefault(key, (*prefix, aliases.get(key, key)))
    index.update(EXPLICIT)
    return index


def flat_keys() -> list[str]:
    return sorted(_index())


def flat_path(key: str, algo: str | None = None) -> Path | None:
    """Where a flat key goes. Meta-ES names win for ``algo: meta_es``."""
    if algo and str(algo).lower().replace("-", "_") in ("meta_es", "metaes"):
        from .meta_es import MetaESConfig

        if key in MetaESConfig.model_fields:
            return ("meta_es", key)
    return _index().get(key)


_SEGMENT = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def parse_path(dotted: str) -> Path:
    """``datasets[0].max_samples`` / ``datasets.0.max_samples`` -> ``("datasets", 0, "max_samples")``."""
    parts: list[Any] = []
    for name, index in _SEGMENT.findall(dotted):
        if index:
            parts.append(int(index))
        elif name.isdigit():
            parts.append(int(name))
        else:
            parts.append(name)
    if not parts:
        raise ValueError(f"{dotted!r} is not a config path")
    head = SECTIONS.get(parts[0])
    if head is not None:
        parts[0] = head
    return tuple(parts)


def set_path(tree: dict[str, Any], path: Path, value: Any) -> None:
    node: Any = tree
    for i, part in enumerate(path[:-1]):
        nxt = path[i + 1]
        if isinstance(part, int):
            if not isinstance(node, list) or part > len(node):
                raise ValueError(f"index {part} of {'.'.join(map(str, path[:i]))} is out of range")
            if part == len(node):
                node.append({})
            if isinstance(node[part], str) and path[0] == "datasets":
                from .spec_strings import parse_dataset_spec

                node[part] = parse_dataset_spec(node[part])
            node = node[part]
            continue
        if part not in node or node[part] is None:
            node[part] = [] if isinstance(nxt, int) else {}
        elif isinstance(nxt, int) and isinstance(node[part], (dict, str)):
            node[part] = [node[part]]
        node = node[part]
    last = path[-1]
    if isinstance(last, int):
        if last == len(node):
            node.append(value)
        else:
            node[last] = value
    else:
        node[last] = value


def deep_merge(base: Any, override: Any) -> Any:
    """Mappings merge recursively (override wins); anything else is replaced."""
    if isinstance(base, dict) and isinstance(override, dict):
        out = dict(base)
        for key, value in override.items():
            out[key] = deep_merge(base[key], value) if key in base else copy.deepcopy(value)
        return out
    return copy.deepcopy(override)


def _rewards_from_lists(raw: dict[str, Any], issues: list[ConfigIssue]) -> list[dict[str, Any]] | None:
    names = raw.pop("reward_functions", None)
    weights = raw.pop("reward_function_weights", None)
    if names is None:
        if weights is not None:
            issues.append(ConfigIssue("reward_function_weights", "given without reward_functions"))
        return None
    if isinstance(names, str):
        names = [names]
    if weights is not None and len(weights) != len(names):
        issues.append(ConfigIssue("reward_function_weights", f"has {len(weights)} weights for {len(names)} reward_functions"))
        return None
    out = []
    for i, name in enumerate(names):
        entry: dict[str, Any] = {"type": name} if isinstance(name, str) else dict(name)
        if weights is not None:
            entry["weight"] = weights[i]
        out.append(entry)
    return out


def normalize(raw: dict[str, Any], source: str | None = None) -> dict[str, Any]:
    """Any mix of nested sections, dotted paths and flat keys -> the nested form."""
    if not isinstance(raw, dict):
        raise ConfigValidationError([ConfigIssue("", f"a config must be a mapping of keys to values, got {type(raw).__name__}")], source)
    raw = dict(raw)
    issues: list[ConfigIssue] = []
    nested: dict[str, Any] = {}
    reward_list = _rewards_from_lists(raw, issues)
    algo = raw.get("algo", raw.get("algorithm"))
    for key, value in raw.items():
        if key in SECTIONS:
            section = SECTIONS[key]
            if section in nested and nested[section] != value:
                issues.append(ConfigIssue(key, f"is given twice (as {key!r} and another name of {section!r})"))
                continue
            if section == "model" and isinstance(value, str):
                value = {"name_or_path": value}
            nested[section] = copy.deepcopy(value)
    if reward_list is not None:
        if "rewards" in nested:
            issues.append(ConfigIssue("reward_functions", "give rewards or reward_functions, not both"))
        else:
            nested["rewards"] = reward_list
    flat_dataset_keys = []
    for key, value in raw.items():
        if key in SECTIONS:
            continue
        try:
            path = parse_path(key) if ("." in key or "[" in key) else flat_path(key, algo)
        except ValueError as exc:
            issues.append(ConfigIssue(key, str(exc)))
            continue
        if path is None:
            hint = did_you_mean(key, [*flat_keys(), *SECTIONS])
            issues.append(ConfigIssue(key, f"unknown key{hint or ' (not a config section or a known flat key)'}"))
            continue
        if path[0] == "datasets" and len(path) == 3 and path[1] == 0 and "." not in key and "[" not in key:
            flat_dataset_keys.append(key)
        try:
            _check_duplicate(nested, path, value)
            set_path(nested, path, copy.deepcopy(value))
        except ValueError as exc:
            issues.append(ConfigIssue(key, str(exc)))
    datasets = nested.get("datasets")
    if flat_dataset_keys and isinstance(datasets, list) and len(datasets) > 1:
        issues.append(ConfigIssue(
            flat_dataset_keys[0],
            f"flat dataset keys ({', '.join(flat_dataset_keys)}) are ambiguous with {len(datasets)} datasets; "
            "set them per dataset (datasets[i].KEY)",
        ))
    if issues:
        raise ConfigValidationError(issues, source)
    return nested


def _get(tree: Any, path: Path) -> Any:
    node = tree
    for part in path:
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            return _MISSING
    return node


_MISSING = object()


def _check_duplicate(nested: dict[str, Any], path: Path, value: Any) -> None:
    existing = _get(nested, path)
    if existing is not _MISSING and existing != value:
        raise ValueError(f"conflicts with {'.'.join(map(str, path))}={existing!r} given in the same config")


def merge_overrides(base: dict[str, Any], overrides: dict[str, Any] | None, source: str | None = None) -> dict[str, Any]:
    """Apply overrides (nested, dotted or flat keys) to a normalized nested config; overrides win."""
    if not overrides:
        return base
    algo = overrides.get("algo", overrides.get("algorithm", base.get("algo")))
    issues: list[ConfigIssue] = []
    out = copy.deepcopy(base)
    for key, value in overrides.items():
        if key in SECTIONS:
            section = SECTIONS[key]
            if section == "model" and isinstance(value, str):
                value = {"name_or_path": value}
            out[section] = deep_merge(out.get(section), value) if isinstance(value, dict) else copy.deepcopy(value)
            continue
        if key in ("reward_functions", "reward_function_weights"):
            rewards = _rewards_from_lists({k: overrides[k] for k in ("reward_functions", "reward_function_weights") if k in overrides}, issues)
            if rewards is not None:
                out["rewards"] = rewards
            continue
        try:
            path = parse_path(key) if ("." in key or "[" in key) else flat_path(key, algo)
        except ValueError as exc:
            issues.append(ConfigIssue(key, str(exc)))
            continue
        if path is None:
            issues.append(ConfigIssue(key, f"unknown override{did_you_mean(key, [*flat_keys(), *SECTIONS])}"))
            continue
        try:
            set_path(out, path, copy.deepcopy(value))
        except ValueError as exc:
            issues.append(ConfigIssue(key, str(exc)))
    if issues:
        raise ConfigValidationError(issues, source)
    return out
