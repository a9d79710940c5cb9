"""From an adapter's parts to one row of a canonical format, and the checks every row must pass.

An adapter returns *parts*: some of ``prompt``, ``completion``, ``messages``, ``text``, ``chosen``,
``rejected`` (strings, or message lists for conversations) and ``extras`` (reference columns such as
``answer`` or ``test_list``). :func:`build_row` turns them into the requested format, adds the system
prompt, renders chat templates, and raises :class:`BadRow` for rows that cannot be used.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .errors import BadRow
from .messages import message, normalize_messages, split_last_assistant
from .templating import Renderer


@dataclass
class Context:
    """What building a row needs besides the row."""

    format: str
    dataset: str
    conversational: bool = False
    system_prompt: str | None = None
    renderer: Renderer | None = None
    tokenizer: Any = None
    max_length: int | None = None
    preserve: list[str] = field(default_factory=list)


def _is_messages(value: Any) -> bool:
    return isinstance(value, list)


def _require_text(parts: dict, key: str) -> str:
    value = parts.get(key)
    if value is None:
        raise BadRow("missing field", f"{key} is missing")
    if not isinstance(value, str):
        raise BadRow("non-string content", f"{key} is a {type(value).__name__}, expected text")
    if not value.strip():
        raise BadRow(f"empty {key}", f"{key} is empty")
    return value


def _check_value(parts: dict, key: str, allow_empty: bool = False) -> Any:
    value = parts.get(key)
    if value is None:
        raise BadRow("missing field", f"{key} is missing")
    if _is_messages(value):
        if not value:
            raise BadRow(f"empty {key}", f"{key} has no messages")
        value = normalize_messages(value, key)
        if not allow_empty and not any(m["content"].strip() for m in value):
            raise BadRow(f"empty {key}", f"{key} has only empty messages")
        return value
    if not isinstance(value, str):
        raise BadRow("non-string content", f"{key} is a {type(value).__name__}, expected text")
    if not allow_empty and not value.strip():
        raise BadRow(f"empty {key}", f"{key} is empty")
    return value


def _as_user(value: Any) -> list[dict]:
    return value if _is_messages(value) else [message("user", value)]


def _as_assistant(value: Any) -> list[dict]:
    return value if _is_messages(value) else [message("assistant", value)]


def _with_system(value: Any, ctx: Context) -> Any:
    """``value`` (text or messages) with the system prompt in front, unless it already has one."""
    if not ctx.system_prompt:
        return value
    if _is_messages(value):
        if value and value[0]["role"] == "system":
            return value
        return [message("system", ctx.system_prompt)] + value
    return f"{ctx.system_prompt}\n\n{value}"


def _text_of(value: Any) -> str:
    return "\n".join(m["content"] for m in value) if _is_messages(value) else str(value)


def _sft(parts: dict, ctx: Context) -> dict:
    if parts.get("messages") is not None:
        messages = _with_system(_check_value(parts, "messages"), ctx)
        split_last_assistant(messages, "messages")  # must hold a user turn and a reply
        if ctx.renderer and ctx.renderer.active:
            return {"text": ctx.renderer.render(messages)}
        return {"messages": messages}
    if parts.get("prompt") is not None or parts.get("completion") is not None:
        prompt = _check_value(parts, "prompt")
        completion = _check_value(parts, "completion")
        if ctx.conversational or _is_messages(prompt) or _is_messages(completion):
            prompt, completion = _with_system(_as_user(prompt), ctx), _as_assistant(completion)
            if ctx.renderer and ctx.renderer.active:
                prompt, completion = ctx.renderer.continuation(prompt, completion)
        else:
            prompt = _with_system(prompt, ctx)
        return {"prompt": prompt, "completion": completion}
    return {"text": _with_system(_require_text(parts, "text"), ctx)}


def _preference(parts: dict, ctx: Context) -> dict:
    prompt = _check_value(parts, "prompt")
    # an empty reply is a legitimate choice in preference data (e.g. HH-RLHF), so only missing is bad
    chosen = _check_value(parts, "chosen", allow_empty=True)
    rejected = _check_value(parts, "rejected", allow_empty=True)
    if chosen == rejected:
        raise BadRow("chosen == rejected", "chosen and rejected are identical")
    if ctx.conversational or any(_is_messages(v) for v in (prompt, chosen, rejected)):
        prompt, chosen, rejected = _with_system(_as_user(prompt), ctx), _as_assistant(chosen), _as_assistant(rejected)
        if ctx.renderer and ctx.renderer.active:
            head, chosen = ctx.renderer.continuation(prompt, chosen)
            _, rejected = ctx.renderer.continuation(prompt, rejected)
            prompt = head
    else:
        prompt = _with_system(prompt, ctx)
    return {"prompt": prompt, "chosen": chosen, "rejected": rejected}


def _prompt(parts: dict, ctx: Context) -> dict:
    prompt = _check_value(parts, "prompt")
    if ctx.conversational or _is_messages(prompt):
        prompt = _with_system(_as_user(prompt), ctx)
        if ctx.renderer and ctx.renderer.active:
            prompt = ctx.renderer.render(prompt, add_generation_prompt=True)
    else:
        prompt = _with_system(prompt, ctx)
    out = {"prompt": prompt}
    for key, value in (parts.get("extras") or {}).items():
        out[key] = value
    return out


_BUILDERS = {"sft": _sft, "preference": _preference, "prompt": _prompt}


def _check_length(row: dict, ctx: Context) -> None:
    if ctx.tokenizer is None or not ctx.max_length:
        return
    prefix = _text_of(row.get("prompt", ""))
    bodies = [row[k] for k in ("completion", "chosen", "rejected", "text", "messages") if k in row] or [""]
    for body in bodies:
        text = prefix + _text_of(body)
        count = len(ctx.tokenizer(text, add_special_tokens=False)["input_ids"])
        if count > ctx.max_length:
            raise BadRow("too long", f"{count} tokens > max_length {ctx.max_length}")


def build_row(parts: dict, source_row: dict, ctx: Context) -> dict:
    """One canonical row of ``ctx.format``; :class:`BadRow` when the row cannot be used."""
    row = _BUILDERS[ctx.format](parts, ctx)
    _check_length(row, ctx)
    for column in ctx.preserve:
        if column not in row:
            if column not in source_row:
                raise BadRow("missing field", f"preserved column {column!r} is missing")
            row[column] = source_row[column]
    return row
