"""Walk config model classes by path (for error suggestions, flat-key lookup and docs)."""

from __future__ import annotations

import types
import typing
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel


def _unwrap(annotation: Any) -> list[Any]:
    """The concrete types inside Optional/Union/list/dict/Annotated."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _unwrap(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        out: list[Any] = []
        for arg in typing.get_args(annotation):
            out.extend(_unwrap(arg))
        return out
    return [annotation]


def model_in(annotation: Any, *, through_containers: bool = True) -> type[BaseModel] | None:
    """The BaseModel class an annotation holds (directly, optionally, or as list/dict items)."""
    for candidate in _unwrap(annotation):
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            return candidate
        origin = typing.get_origin(candidate)
        if through_containers and origin in (list, tuple, dict, typing.Union):
            args = typing.get_args(candidate)
            inner = args[-1] if origin is dict else (args[0] if args else None)
            found = model_in(inner) if inner is not None else None
            if found is not None:
                return found
    return None


def accepted_keys(model: type[BaseModel]) -> list[str]:
    """Field names plus accepted aliases of a model."""
    names = list(model.model_fields)
    names += list(getattr(model, "_aliases", {}) or {})
    return names


def field_names_at(root: type[BaseModel] | None, loc: Sequence[Any]) -> list[str]:
    model = root
    for part in loc:
        if model is None:
            return []
        if isinstance(part, int):
            continue
        field = model.model_fields.get(str(part))
        if field is None:
            canonical = (getattr(model, "_aliases", {}) or {}).get(str(part))
            field = model.model_fields.get(canonical) if canonical else None
        if field is None:
            return []
        model = model_in(field.annotation)
    return accepted_keys(model) if model is not None else []
