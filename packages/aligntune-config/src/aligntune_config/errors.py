"""Errors of the configuration system: every problem of a config, reported together, with its path."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic_core import PydanticCustomError

CROSS_FIELD = "aligntune_cross_field"


@dataclass(frozen=True)
class ConfigIssue:
    """One problem: where (``train.learning_rate``) and what (``must be > 0, got -1``)."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


class ConfigValidationError(ValueError):
    """A configuration that cannot be used. ``issues`` lists every problem found."""

    def __init__(self, issues: Sequence[ConfigIssue], source: str | None = None):
        self.issues = list(issues)
        self.source = source
        where = f" in {source}" if source else ""
        count = len(self.issues)
        head = f"{count} error{'s' if count != 1 else ''}{where}:"
        super().__init__("\n".join([head, *(f"  {issue}" for issue in self.issues)]))

    @property
    def paths(self) -> list[str]:
        return [issue.path for issue in self.issues]


class SpecStringError(ValueError):
    """A malformed dataset or reward spec string. The message shows the string and points at the
    offending part with a caret."""

    def __init__(self, kind: str, text: str, position: int, problem: str, expected: str):
        self.kind, self.text, self.position = kind, text, position
        self.problem, self.expected = problem, expected
        caret = " " * (position + 4) + "^"
        super().__init__(f"invalid {kind} spec: {problem}\n    {text}\n{caret}\n  expected {expected}")


def suggest(name: str, candidates: Iterable[str], n: int = 3) -> list[str]:
    """Close spellings of ``name`` among ``candidates`` (for "did you mean ...")."""
    pool = sorted(set(candidates))
    found = difflib.get_close_matches(name, pool, n=n, cutoff=0.6)
    if not found:
        lowered = name.lower()
        found = [c for c in pool if lowered and (lowered in c.lower() or c.lower() in lowered)][:n]
    return found


def did_you_mean(name: str, candidates: Iterable[str]) -> str:
    found = suggest(name, candidates)
    if not found:
        return ""
    return "; did you mean " + " or ".join(repr(f) for f in found) + "?"


def cross_field_error(issues: Sequence[ConfigIssue]) -> PydanticCustomError:
    """Raise from a model validator to report several cross-field problems at once."""
    return PydanticCustomError(
        CROSS_FIELD,
        "{summary}",
        {"summary": "; ".join(str(i) for i in issues), "issues": [(i.path, i.message) for i in issues]},
    )


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _num(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _message(error: dict[str, Any]) -> str:
    kind = error["type"]
    ctx = {k: _num(v) for k, v in (error.get("ctx") or {}).items()}
    value = error.get("input")
    got = f", got {_short(value)}"
    if kind == "greater_than":
        return f"must be > {ctx['gt']}{got}"
    if kind == "greater_than_equal":
        return f"must be >= {ctx['ge']}{got}"
    if kind == "less_than":
        return f"must be < {ctx['lt']}{got}"
    if kind == "less_than_equal":
        return f"must be <= {ctx['le']}{got}"
    if kind == "missing":
        return "is required"
    if kind in ("int_parsing", "int_type", "int_from_float"):
        return f"must be an integer{got}"
    if kind in ("float_parsing", "float_type"):
        return f"must be a number{got}"
    if kind in ("bool_parsing", "bool_type"):
        return f"must be true or false{got}"
    if kind in ("string_type",):
        return f"must be a string{got}"
    if kind in ("dict_type", "model_type", "model_attributes_type"):
        return f"must be a mapping of keys to values{got}"
    if kind in ("list_type",):
        return f"must be a list{got}"
    if kind == "enum":
        return f"must be one of {ctx.get('expected')}{got}"
    if kind == "literal_error":
        return f"must be one of {ctx.get('expected')}{got}"
    if kind == "callable_type":
        return f"must be a callable or an import path 'module:function'{got}"
    if kind == "value_error":
        return str(ctx.get("error", error["msg"]))
    return error["msg"][0].lower() + error["msg"][1:] if error.get("msg") else kind


def format_loc(loc: Sequence[Any]) -> str:
    """``("datasets", 0, "percent")`` -> ``datasets[0].percent``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def _clean_loc(loc: Sequence[Any]) -> list[Any]:
    # pydantic adds the type tag of union members / function validators to the loc; drop those
    skip_prefixes = ("function-", "union[", "tagged-union[", "lax-or-strict", "json-or-python")
    cleaned = []
    for part in loc:
        if isinstance(part, str) and (part.startswith(skip_prefixes) or part in ("str", "int", "float", "bool")):
            continue
        cleaned.append(part)
    return cleaned


def issues_from_pydantic(exc: Any, root: type | None = None, prefix: str = "") -> list[ConfigIssue]:
    """Convert a pydantic ``ValidationError`` into ``ConfigIssue`` items with readable paths and
    messages; unknown keys get "did you mean" suggestions from the model they appear in."""
    from ._introspect import field_names_at

    issues: list[ConfigIssue] = []
    for error in exc.errors(include_url=False):
        loc = _clean_loc(error["loc"])
        if error["type"] == CROSS_FIELD:
            base = format_loc(loc)
            for path, message in error["ctx"]["issues"]:
                full = ".".join(p for p in (prefix, base, path) if p)
                issues.append(ConfigIssue(full, message))
            continue
        path = ".".join(p for p in (prefix, format_loc(loc)) if p)
        if error["type"] == "extra_forbidden":
            key = str(loc[-1]) if loc else "?"
            known = field_names_at(root, loc[:-1]) if root is not None else []
            hint = did_you_mean(key, known)
            if not hint and known:
                hint = "; valid keys here: " + ", ".join(sorted(known)[:40])
            issues.append(ConfigIssue(path, f"unknown key {key!r}{hint}"))
            continue
        issues.append(ConfigIssue(path, _message(error)))
    return issues
