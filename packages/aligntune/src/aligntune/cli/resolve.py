"""Turn CLI input (a config file and/or flags and ``--set KEY=VALUE`` overrides) into one UnifiedConfig.

``train`` (when built) and ``validate`` use this same function, so a config that validates is exactly
the config that trains. Flags override the file; ``--set`` overrides both.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from aligntune_config import ConfigIssue, ConfigLoader, ConfigValidationError, UnifiedConfig


_EXPONENT_FLOAT = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)[eE][+-]?\d+")


def parse_set(items: list[str]) -> dict[str, Any]:
    """``["train.learning_rate=1e-5", "max_steps=3"]`` -> typed overrides (values parsed as YAML scalars)."""
    import yaml

    out: dict[str, Any] = {}
    issues = []
    for item in items:
        key, eq, value = item.partition("=")
        if not eq or not key.strip():
            issues.append(ConfigIssue("--set", f"{item!r} must be KEY=VALUE, e.g. train.learning_rate=1e-5"))
            continue
        try:
            parsed = yaml.safe_load(value) if value.strip() else ""
        except yaml.YAMLError:
            parsed = value
        if isinstance(parsed, str) and _EXPONENT_FLOAT.fullmatch(parsed.strip()):
            parsed = float(parsed)  # YAML 1.1 reads 1e-5 as a string
        out[key.strip()] = parsed
    if issues:
        raise ConfigValidationError(issues)
    return out


def resolve_cli_config(
    config_path: Path | None = None,
    *,
    algo: str | None = None,
    model: str | None = None,
    datasets: list[str] | None = None,
    rewards: list[str] | None = None,
    max_steps: int | None = None,
    training_type: str | None = None,
    epochs: float | None = None,
    batch_size: int | None = None,
    backend: str | None = None,
    output_dir: str | None = None,
    sets: list[str] | None = None,
) -> UnifiedConfig:
    """Every problem of the flags, the ``--set`` items and the resulting config is collected and raised
    together as one ConfigValidationError."""
    issues: list[ConfigIssue] = []
    flags: dict[str, Any] = {}
    if algo:
        flags["algo"] = algo
    elif training_type:
        if training_type.lower() != "sft":
            issues.append(ConfigIssue("--type", f"must be 'sft' (use --algo for RL algorithms), got {training_type!r}"))
        else:
            flags["algo"] = "sft"
    if model:
        flags["model.name_or_path"] = model
    if datasets:
        flags["datasets"] = list(datasets)
    if rewards:
        flags["rewards"] = list(rewards)
    for key, value in (("train.max_steps", max_steps), ("train.epochs", epochs),
                       ("train.per_device_batch_size", batch_size), ("backend", backend),
                       ("logging.output_dir", output_dir)):
        if value is not None:
            flags[key] = value
    set_overrides: dict[str, Any] = {}
    for item in sets or []:  # one by one: a malformed item does not hide the others' errors
        try:
            set_overrides.update(parse_set([item]))
        except ConfigValidationError as exc:
            issues.extend(exc.issues)
    overrides = {**flags, **set_overrides}
    config: UnifiedConfig | None = None
    try:
        if config_path is None:
            if "datasets" not in overrides and "model.name_or_path" not in overrides:
                raise ConfigValidationError([ConfigIssue("", "give a config file or at least --model and --dataset")])
            config = ConfigLoader.load({}, overrides, default_algo="sft" if training_type else None)
        else:
            config = ConfigLoader.load(config_path, overrides)
    except ConfigValidationError as exc:
        issues.extend(exc.issues)
    if issues or config is None:
        raise ConfigValidationError(issues, source=str(config_path) if config_path is not None else None)
    return config
