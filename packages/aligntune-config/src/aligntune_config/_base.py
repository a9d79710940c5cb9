"""The base of every configuration section: unknown keys rejected, aliases accepted (never silently
dropped), and errors reported as :class:`ConfigValidationError` with paths and suggestions."""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable, Mapping
from typing import Annotated, Any, ClassVar

from pydantic import BaseModel, ConfigDict, PlainSerializer, ValidationError, WithJsonSchema, model_validator
from pydantic import BeforeValidator
from pydantic_core import PydanticCustomError

from .errors import ConfigValidationError, issues_from_pydantic

logger = logging.getLogger("aligntune.config")


class StrictModel(BaseModel):
    """Pydantic model that rejects unknown keys and maps documented aliases to one canonical field.

    ``_aliases`` maps an alias to its canonical field name. Giving both an alias and its field with
    different values is an error; giving either one is the same as giving the field.
    """

    model_config = ConfigDict(
        extra="forbid",
        validate_assignment=True,
        revalidate_instances="always",
        arbitrary_types_allowed=True,
        protected_namespaces=(),
        validate_default=False,
    )
    _aliases: ClassVar[dict[str, str]] = {}

    def __init__(self, /, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as exc:
            raise ConfigValidationError(issues_from_pydantic(exc, type(self))) from None

    # Tell pydantic this __init__ behaves like BaseModel's, so nested sections are validated by the core
    # schema (errors keep their paths) and only direct construction converts the error type.
    __init__.__pydantic_base_init__ = True  # type: ignore[attr-defined]

    def __setattr__(self, name: str, value: Any) -> None:
        try:
            super().__setattr__(name, value)
        except ValidationError as exc:
            raise ConfigValidationError(issues_from_pydantic(exc, type(self))) from None

    @classmethod
    def validate_dict(cls, data: Mapping[str, Any], source: str | None = None):
        """Validate a mapping, raising :class:`ConfigValidationError` with every problem."""
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            raise ConfigValidationError(issues_from_pydantic(exc, cls), source=source) from None

    @model_validator(mode="before")
    @classmethod
    def _apply_aliases(cls, data: Any) -> Any:
        if not isinstance(data, Mapping) or not cls._aliases:
            return data
        out = dict(data)
        for alias, canonical in cls._aliases.items():
            if alias not in out:
                continue
            value = out.pop(alias)
            if canonical in out and out[canonical] != value:
                raise PydanticCustomError(
                    "alias_conflict",
                    "{text}",
                    {"text": f"{alias!r} is another name for {canonical!r}; both were given with different values "
                             f"({value!r} and {out[canonical]!r}); give only one"},
                )
            out[canonical] = value
        return out

    def explicitly_set(self, name: str) -> bool:
        return name in self.model_fields_set

    def _fill(self, name: str, value: Any) -> None:
        """Set a resolved default without marking the field as user-set."""
        object.__setattr__(self, name, value)


def import_object(path: str) -> Any:
    """Import ``"package.module:attr"`` (or ``"package.module.attr"``)."""
    if ":" in path:
        module_name, _, attr = path.partition(":")
    else:
        module_name, _, attr = path.rpartition(".")
    if not module_name or not attr:
        raise ValueError(f"{path!r} is not an import path; expected 'module:function'")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ValueError(f"cannot import module {module_name!r} of {path!r}: {exc}") from None
    obj: Any = module
    for part in attr.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise ValueError(f"module {module_name!r} has no attribute {attr!r} (from {path!r})") from None
    return obj


def callable_path(fn: Callable[..., Any]) -> str:
    """``module:qualname`` of a callable, as written into resolved config files."""
    module = getattr(fn, "__module__", None) or "?"
    qualname = getattr(fn, "__qualname__", None) or getattr(fn, "__name__", repr(fn))
    if "<lambda>" in qualname or "<locals>" in qualname or module == "__main__":
        logger.warning(
            "callable %s.%s cannot be re-imported from a saved config; it is written as %s:%s",
            module, qualname, module, qualname,
        )
    return f"{module}:{qualname}"


def _to_callable(value: Any) -> Any:
    if value is None or callable(value):
        return value
    if isinstance(value, str):
        obj = import_object(value)
        if not callable(obj):
            raise ValueError(f"{value!r} imports a {type(obj).__name__}, not a callable")
        return obj
    raise PydanticCustomError("callable_type", "not callable")


CallableRef = Annotated[
    Any,
    BeforeValidator(_to_callable),
    PlainSerializer(lambda f: None if f is None else callable_path(f), return_type=Any, when_used="always"),
    WithJsonSchema({"type": "string", "description": "a Python callable or its import path 'module:function'"}),
]
