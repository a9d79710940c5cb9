"""ConfigLoader: every entry (file, dict, keyword arguments, overrides) resolves to one UnifiedConfig,
and the resolved config is written beside a run's outputs."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any


from pydantic import BaseModel, ValidationError

from .errors import ConfigIssue, ConfigValidationError, issues_from_pydantic
from .flat import merge_overrides, normalize
from .interpolate import interpolate
from .unified import UnifiedConfig

logger = logging.getLogger("aligntune.config")

RESOLVED_FILENAME = "resolved_config.yaml"
SECRET_FIELDS = {("logging", "hub_token"), ("logging", "wandb_api_key")}
_SECRET_KEY = re.compile(r"(token|api[_-]?key|secret|password|passwd|credential)", re.IGNORECASE)


def _read_file(path: str | Path) -> tuple[dict[str, Any], str]:
    path = Path(path)
    if not path.exists():
        raise ConfigValidationError([ConfigIssue("", f"config file {str(path)!r} does not exist")])
    if path.is_dir():
        raise ConfigValidationError([ConfigIssue("", f"{str(path)!r} is a folder; expected a .yaml, .yml or .json file")])
    import yaml

    text = path.read_text(encoding="utf-8")
    suffix = path.suffix.lower()
    try:
        if suffix == ".json":
            data = json.loads(text) if text.strip() else None
        elif suffix in (".yaml", ".yml"):
            data = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
        else:
            raise ConfigValidationError([ConfigIssue("", f"{str(path)!r}: unknown config format {suffix!r}; use .yaml, .yml or .json")])
    except json.JSONDecodeError as exc:
        raise ConfigValidationError([ConfigIssue("", f"invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}")], str(path)) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigValidationError([ConfigIssue("", f"invalid YAML{where}: {problem}")], str(path)) from None
    if data is None:
        raise ConfigValidationError([ConfigIssue("", "the file is empty")], str(path))
    if not isinstance(data, dict):
        raise ConfigValidationError([ConfigIssue("", f"the top level must be a mapping of keys to values, got {type(data).__name__}")], str(path))
    return data, str(path)


def _scrub(node: Any, path: str = "") -> Any:
    """Drop secret-looking keys from free-form mappings (e.g. model_init_kwargs.token)."""
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if isinstance(key, str) and _SECRET_KEY.search(key) and isinstance(value, str) and value:
                logger.debug("not writing secret-looking key %s.%s", path, key)
                continue
            out[key] = _scrub(value, f"{path}.{key}" if path else str(key))
        return out
    if isinstance(node, list):
        return [_scrub(v, path) for v in node]
    return node


class ConfigLoader:
    """Load, validate and save configurations (``ConfigLoader.load_from_yaml("config.yaml")``)."""

    default_algo: str | None = None

    @classmethod
    def _build(cls, raw: Mapping[str, Any], overrides: Mapping[str, Any] | None, source: str | None,
               default_algo: str | None) -> UnifiedConfig:
        raw, issues = interpolate(dict(raw))
        if issues:
            raise ConfigValidationError(issues, source)
        nested = normalize(raw, source)
        nested = merge_overrides(nested, dict(overrides) if overrides else None, source)
        algo = default_algo or cls.default_algo
        if "algo" not in nested and algo:
            nested["algo"] = algo
        config = UnifiedConfig.validate_dict(nested, source=source)
        return config

    @classmethod
    def load(cls, source: str | Path | Mapping[str, Any] | UnifiedConfig, overrides: Mapping[str, Any] | None = None,
             *, default_algo: str | None = None) -> UnifiedConfig:
        """Load from a path (YAML/JSON), a mapping (nested, flat or mixed) or a UnifiedConfig."""
        if isinstance(source, UnifiedConfig):
            if not overrides:
                return source
            return cls._build(cls.to_dict(source, include_secrets=True), overrides, None, default_algo)
        if isinstance(source, Mapping):
            return cls._build(source, overrides, None, default_algo)
        data, where = _read_file(source)
        return cls._build(data, overrides, where, default_algo)

    @classmethod
    def load_from_yaml(cls, path: str | Path, overrides: Mapping[str, Any] | None = None, **kw: Any) -> UnifiedConfig:
        if Path(path).suffix.lower() not in (".yaml", ".yml"):
            raise ConfigValidationError([ConfigIssue("", f"{str(path)!r} is not a .yaml/.yml file")])
        return cls.load(path, overrides, **kw)

    @classmethod
    def load_from_json(cls, path: str | Path, overrides: Mapping[str, Any] | None = None, **kw: Any) -> UnifiedConfig:
        if Path(path).suffix.lower() != ".json":
            raise ConfigValidationError([ConfigIssue("", f"{str(path)!r} is not a .json file")])
        return cls.load(path, overrides, **kw)

    @classmethod
    def load_from_dict(cls, data: Mapping[str, Any], overrides: Mapping[str, Any] | None = None, **kw: Any) -> UnifiedConfig:
        return cls.load(data, overrides, **kw)

    @classmethod
    def from_kwargs(cls, config: str | Path | Mapping[str, Any] | UnifiedConfig | None = None,
                    *, default_algo: str | None = None, **kwargs: Any) -> UnifiedConfig:
        """The keyword style of ``create_rl_trainer(model_name=..., batch_size=8, config=...)``: an
        optional base config (path, mapping or object) with the keywords as overrides."""
        if config is None:
            return cls.load(kwargs, default_algo=default_algo)
        return cls.load(config, kwargs or None, default_algo=default_algo)

    @classmethod
    def validate_config(cls, config: UnifiedConfig | Mapping[str, Any]) -> UnifiedConfig:
        """Validate again (after edits) and run the checks of the registered algorithm spec and the
        reward registry. Returns the validated config; raises ConfigValidationError."""
        if isinstance(config, UnifiedConfig):
            # re-validate the object itself (edits included): what the user set stays marked as set
            try:
                config = UnifiedConfig.model_validate(config)
            except ValidationError as exc:
                raise ConfigValidationError(issues_from_pydantic(exc, UnifiedConfig)) from None
        else:
            config = cls.load(config)
        from .checks import registry_issues

        issues = registry_issues(config)
        if issues:
            raise ConfigValidationError(issues)
        return config

    @staticmethod
    def to_dict(config: BaseModel, *, include_secrets: bool = False) -> dict[str, Any]:
        """A plain, YAML/JSON-ready dict of the config. Secrets are left out unless asked for."""
        data = config.model_dump(mode="json")
        if include_secrets:
            for section, field in SECRET_FIELDS:
                secret = getattr(getattr(config, section, None), field, None)
                if secret is not None:
                    data[section][field] = secret.get_secret_value()
            return data
        for section, field in SECRET_FIELDS:
            if section in data:
                data[section].pop(field, None)
        return _scrub(data)

    @classmethod
    def save_resolved_config(cls, config: UnifiedConfig, output_dir: str | Path) -> Path:
        """Write the resolved config (no secrets) to ``output_dir/resolved_config.yaml`` (or to the given
        .yaml path); loading that file gives an equal config."""
        target = Path(output_dir)
        if target.suffix.lower() not in (".yaml", ".yml"):
            target = target / RESOLVED_FILENAME
        target.parent.mkdir(parents=True, exist_ok=True)
        import yaml

        from . import __version__

        header = f"# Resolved AlignTune configuration (aligntune-config {__version__}). Secrets are not written.\n"
        body = yaml.dump(cls.to_dict(config), Dumper=getattr(yaml, "CSafeDumper", yaml.SafeDumper), sort_keys=False,
                         allow_unicode=True)
        tmp = target.with_suffix(target.suffix + ".tmp")
        tmp.write_text(header + body, encoding="utf-8")
        tmp.replace(target)
        logger.info("resolved config written to %s", target)
        return target

    @classmethod
    def dumps(cls, config: UnifiedConfig) -> str:
        """The resolved config as YAML text (no secrets), e.g. for logs."""
        import yaml

        return yaml.safe_dump(cls.to_dict(config), sort_keys=False, allow_unicode=True)


class SFTConfigLoader(ConfigLoader):
    """ConfigLoader whose configs default to ``algo: sft`` (the spec's SFT YAML has no ``algo``)."""

    default_algo = "sft"
