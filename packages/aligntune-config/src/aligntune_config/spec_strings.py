"""The spec strings of datasets and rewards, their parsers and their inverses.

Dataset: ``name[:split][#percent=N|max=N][?map.SOURCE=TARGET&key=value]``

- ``name``: Hub id, local path, or ``builtin:NAME`` (the ``builtin:``/``hf:``/``file:`` prefix is part
  of the name, so ``builtin:arithmetic:test`` is the test split of ``builtin:arithmetic``).
- ``split``: a split name with optional slicing, ``train[:10%]``, ``train+validation``.
- after ``#``: ``percent=N`` (0 < N <= 100, ``%`` allowed) and/or ``max=N`` (alias ``max_samples``),
  joined by ``|``, ``&`` or ``,``.
- after ``?``: ``map.SOURCE=TARGET`` renames column SOURCE to TARGET (the same direction as
  ``column_mapping``), and ``subset``/``config``, ``format``, ``task``, ``weight``, ``revision``,
  ``on_bad_rows``, ``shuffle``, joined by ``&``.

Reward: ``type[:weight][:key=value...]`` -- ``weight``, ``clip``, ``normalize``, ``shield``,
``model_name``, ``device`` and ``cache_dir`` set RewardConfig fields, any other key goes to
``params``. A bare number right after the type is the weight. Values are typed: ``true``/``false``,
``null``, integers, floats, JSON lists/objects; quote a value (``"a:b"``) to keep it a string or to use
``:`` inside it.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

from .errors import SpecStringError

if TYPE_CHECKING:
    from .dataset import DatasetConfig
    from .rewards import RewardConfig

SCHEMES = ("builtin:", "hf:", "file:", "embedded:")
_SPLIT_RE = re.compile(r"^[A-Za-z0-9_\-.+]+(\[[^\[\]]*\])?$")
_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_\-.]*$")
DATASET_EXPECTED = "name[:split][#percent=N|max=N][?map.SOURCE=TARGET&subset=S&format=F&task=T&weight=W]"
REWARD_EXPECTED = "type[:weight=W][:param=value...], e.g. length:weight=1.0:min_length=10"
_QUERY_KEYS = {
    "subset": "subset", "config": "subset", "config_name": "subset", "format": "format_type",
    "format_type": "format_type", "task": "task_type", "task_type": "task_type", "weight": "weight",
    "revision": "revision", "on_bad_rows": "on_bad_rows", "shuffle": "shuffle",
}
REWARD_FIELDS = ("weight", "clip", "normalize", "shield", "model_name", "device", "cache_dir")


def _dataset_error(text: str, pos: int, problem: str) -> SpecStringError:
    return SpecStringError("dataset", text, pos, problem, DATASET_EXPECTED)


def _split_items(text: str, start: int, separators: str) -> list[tuple[str, int]]:
    """Split ``text`` on any of ``separators``; return (item, absolute position) pairs."""
    items, current, pos = [], "", start
    for i, ch in enumerate(text):
        if ch in separators:
            items.append((current, pos))
            current, pos = "", start + i + 1
        else:
            current += ch
    items.append((current, pos))
    return items


def _number(value: str, kind: type, text: str, pos: int, key: str) -> Any:
    try:
        return kind(value)
    except ValueError:
        raise _dataset_error(text, pos, f"{key} must be {'an integer' if kind is int else 'a number'}, got {value!r}") from None


def _head_split(head: str) -> tuple[str, str | None, int]:
    """Name and split of ``name[:split]``; the index of the split's ':' (or -1)."""
    offset = 0
    for scheme in SCHEMES:
        if head.startswith(scheme):
            offset = len(scheme)
            break
    if offset == 0 and re.match(r"^[A-Za-z]:[\\/]", head):  # Windows drive letter
        offset = 2
    depth = 0
    for i in range(offset, len(head)):
        ch = head[i]
        if ch == "[":
            depth += 1
        elif ch == "]":
            depth -= 1
        elif ch == ":" and depth == 0:
            return head[:i], head[i + 1:], i
    return head, None, -1


def parse_dataset_spec(text: str) -> dict[str, Any]:
    """Parse a dataset spec into DatasetConfig fields. Raises :class:`SpecStringError`."""
    if not isinstance(text, str) or not text.strip():
        raise _dataset_error(str(text), 0, "the spec is empty")
    raw = text
    text = text.strip()
    lead = raw.index(text[0])
    q_at = text.find("?")
    h_at = text.find("#")
    if q_at != -1 and h_at > q_at:
        raise _dataset_error(raw, lead + h_at, "'#' must come before '?'")
    head_end = min(p for p in (q_at, h_at, len(text)) if p != -1)
    head = text[:head_end]
    name, split, colon = _head_split(head)
    if not name:
        raise _dataset_error(raw, lead, "the dataset name is missing")
    out: dict[str, Any] = {"name": name}
    if split is not None:
        if not split:
            raise _dataset_error(raw, lead + colon + 1, "the split after ':' is empty")
        if not _SPLIT_RE.match(split):
            raise _dataset_error(raw, lead + colon + 1, f"{split!r} is not a split (e.g. train, test, train[:10%])")
        out["split"] = split
    if h_at != -1:
        frag_end = q_at if q_at != -1 else len(text)
        fragment = text[h_at + 1:frag_end]
        for item, pos in _split_items(fragment, lead + h_at + 1, "|&,"):
            key, eq, value = item.partition("=")
            key = key.strip().lower()
            if not eq or not value.strip():
                raise _dataset_error(raw, pos, f"{item!r} must be key=value (percent=N or max=N)")
            value = value.strip()
            if key == "percent":
                number = _number(value.rstrip("%"), float, raw, pos, key)
                if not 0 < number <= 100:
                    raise _dataset_error(raw, pos, f"percent must be in (0, 100], got {value}")
                out["percent"] = number
            elif key in ("max", "max_samples"):
                number = _number(value, int, raw, pos, key)
                if number <= 0:
                    raise _dataset_error(raw, pos, f"max must be > 0, got {value}")
                out["max_samples"] = number
            else:
                raise _dataset_error(raw, pos, f"unknown selector {key!r} after '#' (valid: percent, max)")
    if q_at != -1:
        query = text[q_at + 1:]
        mapping: dict[str, str] = {}
        for item, pos in _split_items(query, lead + q_at + 1, "&"):
            key, eq, value = item.partition("=")
            key = key.strip()
            if not eq or not key:
                raise _dataset_error(raw, pos, f"{item!r} must be key=value")
            if key.startswith("map."):
                source = key[4:]
                if not source or not value:
                    raise _dataset_error(raw, pos, f"{item!r} must be map.SOURCE=TARGET")
                mapping[source] = value
            elif key.lower() in _QUERY_KEYS:
                field = _QUERY_KEYS[key.lower()]
                if field == "weight":
                    out[field] = _number(value, float, raw, pos, key)
                elif field == "shuffle":
                    out[field] = value.lower() in ("1", "true", "yes")
                else:
                    out[field] = value
            else:
                valid = ", ".join(["map.SOURCE", *sorted(set(_QUERY_KEYS))])
                raise _dataset_error(raw, pos, f"unknown option {key!r} after '?' (valid: {valid})")
        if mapping:
            out["column_mapping"] = mapping
    return out


def _format_number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def format_dataset_spec(config: "DatasetConfig") -> str:
    """The spec string of a DatasetConfig (inverse of :func:`parse_dataset_spec` for the fields a spec
    string can hold)."""
    text = config.name
    if config.split != "train" or _head_split(config.name)[1] is not None:
        text += f":{config.split}"
    selectors = []
    if config.percent is not None:
        selectors.append(f"percent={_format_number(config.percent)}")
    if config.max_samples is not None:
        selectors.append(f"max={config.max_samples}")
    if selectors:
        text += "#" + "&".join(selectors)
    options = [f"map.{k}={v}" for k, v in config.column_mapping.items()]
    if config.subset:
        options.append(f"subset={config.subset}")
    if config.format_type:
        options.append(f"format={config.format_type}")
    if "task_type" in config.model_fields_set and config.task_type is not None:
        options.append(f"task={config.task_type.value}")
    if config.weight != 1.0:
        options.append(f"weight={_format_number(config.weight)}")
    if config.revision:
        options.append(f"revision={config.revision}")
    if config.on_bad_rows != "warn":
        options.append(f"on_bad_rows={config.on_bad_rows}")
    if not config.shuffle:
        options.append("shuffle=false")
    if options:
        text += "?" + "&".join(options)
    return text


# ---------------------------------------------------------------------------------------------- rewards
def _reward_error(text: str, pos: int, problem: str) -> SpecStringError:
    return SpecStringError("reward", text, pos, problem, REWARD_EXPECTED)


def _split_reward(text: str) -> list[tuple[str, int]]:
    items, current, start, quote, depth = [], "", 0, None, 0
    for i, ch in enumerate(text):
        if quote:
            current += ch
            if ch == quote and text[i - 1] != "\\":
                quote = None
            continue
        if ch in "\"'":
            quote = ch
        elif ch in "[{":
            depth += 1
        elif ch in "]}":
            depth -= 1
        elif ch == ":" and depth == 0:
            items.append((current, start))
            current, start = "", i + 1
            continue
        current += ch
    if quote:
        raise _reward_error(text, len(text), "a quoted value is not closed")
    items.append((current, start))
    return items


def parse_value(value: str) -> Any:
    """Type a spec value: quoted string, bool, null, int, float, JSON list/object, else string."""
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        inner = value[1:-1]
        return json.loads(value) if value[0] == '"' else inner
    lowered = value.lower()
    if lowered in ("true", "yes", "on"):
        return True
    if lowered in ("false", "no", "off"):
        return False
    if lowered in ("null", "none"):
        return None
    for kind in (int, float):
        try:
            return kind(value)
        except ValueError:
            pass
    if value[:1] in "[{":
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


def parse_reward_spec(text: str) -> dict[str, Any]:
    """Parse a reward spec into RewardConfig fields. Raises :class:`SpecStringError`."""
    if not isinstance(text, str) or not text.strip():
        raise _reward_error(str(text), 0, "the spec is empty")
    items = _split_reward(text)
    rtype, _ = items[0]
    if not _NAME_RE.match(rtype.strip()):
        raise _reward_error(text, 0, f"{rtype!r} is not a reward name (letters, digits, _ - .)")
    out: dict[str, Any] = {"type": rtype.strip()}
    params: dict[str, Any] = {}
    for index, (item, pos) in enumerate(items[1:], start=1):
        if not item.strip():
            raise _reward_error(text, pos, "empty part between ':'")
        key, eq, value = item.partition("=")
        key = key.strip()
        if not eq:
            if index == 1:
                try:
                    out["weight"] = float(item)
                    continue
                except ValueError:
                    pass
            raise _reward_error(text, pos, f"{item!r} must be key=value (or a weight number right after the type)")
        if not key or not re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", key):
            raise _reward_error(text, pos, f"{key!r} is not a parameter name")
        if key in out or key in params:
            raise _reward_error(text, pos, f"{key!r} is given twice")
        if not value.strip():
            raise _reward_error(text, pos + len(key) + 1, f"{key} has no value")
        parsed = parse_value(value)
        if key in REWARD_FIELDS:
            if key in ("weight", "clip") and (isinstance(parsed, bool) or not isinstance(parsed, (int, float))):
                raise _reward_error(text, pos + len(key) + 1, f"{key} must be a number, got {value!r}")
            out[key] = parsed
        else:
            params[key] = parsed
    if params:
        out["params"] = params
    return out


def _format_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        typed = parse_value(value)
        if typed != value or any(ch in value for ch in ":\"'[]{}") or value != value.strip() or not value:
            return json.dumps(value)
        return value
    if isinstance(value, (list, dict)):
        return json.dumps(value, separators=(",", ":"))
    if callable(value):
        from ._base import callable_path

        return json.dumps(callable_path(value))
    raise ValueError(f"cannot write a {type(value).__name__} into a reward spec string")


def format_reward_spec(config: "RewardConfig") -> str:
    """The spec string of a RewardConfig (inverse of :func:`parse_reward_spec`)."""
    parts = [config.type, f"weight={_format_value(float(config.weight))}"]
    if config.clip is not None:
        parts.append(f"clip={_format_value(config.clip)}")
    for flag in ("normalize", "shield"):
        if getattr(config, flag):
            parts.append(f"{flag}=true")
    for field in ("model_name", "cache_dir"):
        if getattr(config, field) is not None:
            parts.append(f"{field}={_format_value(getattr(config, field))}")
    if config.device != "auto":
        parts.append(f"device={_format_value(config.device)}")
    for key, value in config.params.items():
        parts.append(f"{key}={_format_value(value)}")
    return ":".join(parts)
