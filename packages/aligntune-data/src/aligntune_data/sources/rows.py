"""Turning Python rows into a ``datasets.Dataset`` with errors that name the row and field."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ..errors import DataError


def _kind(value: Any) -> str:
    """A readable type signature of a JSON-like value (nested lists and objects included)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, Mapping):
        return "object"
    if isinstance(value, (list, tuple)):
        inner = sorted({_kind(v) for v in value} - {"null"})
        return f"list of {' and '.join(inner)}" if inner else "list"
    return type(value).__name__


def _inner_conflict(value: Any) -> str | None:
    """A description of values of different types inside one nested value, if any."""
    if isinstance(value, (list, tuple)):
        kinds = sorted({_kind(v) for v in value} - {"null"})
        if len(kinds) > 1:
            return f"mixes {' and '.join(kinds)} items"
        for item in value:
            found = _inner_conflict(item)
            if found:
                return found
    if isinstance(value, Mapping):
        for key, item in value.items():
            found = _inner_conflict(item)
            if found:
                return f"{key}: {found}"
    return None


def _describe_mixed(rows: Sequence[Mapping[str, Any]], origin: str) -> str:
    """The first field whose values have different types, and where."""
    seen: dict[str, tuple[str, int]] = {}
    nested: dict[str, dict[str, tuple[str, int]]] = {}
    for index, row in enumerate(rows):
        for key, value in row.items():
            inner = _inner_conflict(value)
            if inner:
                return f"{origin}: field {key!r} in row {index} {inner}; its items must share one type"
            kind = _kind(value)
            if kind == "null":
                continue
            if key not in seen:
                seen[key] = (kind, index)
            elif seen[key][0] != kind and kind != "list" and seen[key][0] != "list":
                first_kind, first_row = seen[key]
                return (f"{origin}: field {key!r} is a {first_kind} in row {first_row} but a {kind} in row {index}; "
                        "every row must give a field the same type")
            if isinstance(value, list):
                for item in value:
                    if isinstance(item, Mapping):
                        for sub, sub_value in item.items():
                            sub_kind = _kind(sub_value)
                            known = nested.setdefault(key, {})
                            if sub_kind == "null":
                                continue
                            if sub not in known:
                                known[sub] = (sub_kind, index)
                            elif known[sub][0] != sub_kind:
                                return (f"{origin}: field {key!r}: item field {sub!r} is a {known[sub][0]} in row "
                                        f"{known[sub][1]} but a {sub_kind} in row {index}")
    return f"{origin}: rows cannot be stored in one table (fields of inconsistent nested types)"


def rows_to_dataset(rows: Sequence[Mapping[str, Any]], origin: str) -> Any:
    """A ``datasets.Dataset`` of ``rows`` (dicts); :class:`DataError` naming the field on type conflicts."""
    import datasets
    import pyarrow as pa

    if not rows:
        raise DataError(f"{origin}: no rows")
    for index, row in enumerate(rows):
        if not isinstance(row, Mapping):
            raise DataError(f"{origin}: row {index} is a {type(row).__name__}, not an object with named fields")
    columns: dict[str, None] = {}
    for row in rows:
        columns.update(dict.fromkeys(row))
    full = [{key: row.get(key) for key in columns} for row in rows]
    try:
        return datasets.Dataset.from_list(full)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError, TypeError, ValueError, OverflowError):
        raise DataError(_describe_mixed(full, origin)) from None
