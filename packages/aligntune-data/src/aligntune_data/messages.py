"""Conversation helpers: roles, ShareGPT turns, HH-RLHF dialogues."""

from __future__ import annotations

import re
from typing import Any

from .errors import BadRow

ROLES = ("system", "user", "assistant", "tool")
_ROLE_SPELLINGS = {"human": "user", "user": "user", "gpt": "assistant", "assistant": "assistant", "bot": "assistant",
                   "model": "assistant", "chatgpt": "assistant", "system": "system", "tool": "tool",
                   "function": "tool", "observation": "tool"}
HUMAN = "\n\nHuman:"
ASSISTANT = "\n\nAssistant:"
_TURN_RE = re.compile(r"\n\n(Human|Assistant):")


def message(role: str, content: str) -> dict[str, str]:
    return {"role": role, "content": content}


def normalize_messages(value: Any, field: str, role_key: str = "role", content_key: str = "content") -> list[dict]:
    """A list of ``{role, content}`` from ``value``; :class:`BadRow` when it is not one."""
    if value is None:
        raise BadRow("missing field", f"{field} is missing")
    if not isinstance(value, (list, tuple)):
        raise BadRow("wrong type", f"{field} is a {type(value).__name__}, expected a list of messages")
    out = []
    for index, item in enumerate(value):
        if not isinstance(item, dict):
            raise BadRow("wrong type", f"{field}[{index}] is a {type(item).__name__}, expected a message object")
        raw_role = item.get(role_key)
        content = item.get(content_key)
        role = _ROLE_SPELLINGS.get(str(raw_role).strip().lower()) if raw_role is not None else None
        if role is None:
            raise BadRow("bad role", f"{field}[{index}] has role {raw_role!r} (valid: {', '.join(_ROLE_SPELLINGS)})")
        if not isinstance(content, str):
            raise BadRow("non-string content", f"{field}[{index}].{content_key} is a {type(content).__name__}")
        out.append(message(role, content))
    if not out:
        raise BadRow("empty field", f"{field} has no messages")
    return out


def split_last_assistant(messages: list[dict], field: str) -> tuple[list[dict], list[dict]]:
    """(the messages before the last assistant turn, [that turn])."""
    for index in range(len(messages) - 1, -1, -1):
        if messages[index]["role"] == "assistant":
            if index == 0 or not any(m["role"] == "user" for m in messages[:index]):
                raise BadRow("no user turn", f"{field} has no user message before the assistant's reply")
            return messages[:index], [messages[index]]
    raise BadRow("no assistant turn", f"{field} has no assistant message")


def parse_hh_dialogue(text: str) -> list[dict]:
    """``\\n\\nHuman: ...\\n\\nAssistant: ...`` as messages (user/assistant), text stripped per turn.
    Consecutive turns of one speaker (HH-RLHF has some) are merged, joined by a blank line, so the
    roles alternate."""
    pieces = _TURN_RE.split(text)
    if pieces[0].strip():
        raise BadRow("malformed dialogue", "text before the first 'Human:'/'Assistant:' turn")
    out = []
    for speaker, content in zip(pieces[1::2], pieces[2::2]):
        role = "user" if speaker == "Human" else "assistant"
        if out and out[-1]["role"] == role:
            joined = "\n\n".join(part for part in (out[-1]["content"], content.strip()) if part)
            out[-1] = message(role, joined)
        else:
            out.append(message(role, content.strip()))
    if not out:
        raise BadRow("malformed dialogue", "no '\\n\\nHuman:' / '\\n\\nAssistant:' turns")
    return out


def split_hh_pair(chosen: str, rejected: str) -> tuple[str, str, str]:
    """(prompt, chosen rest, rejected rest): the prompt is the shared prefix of ``chosen`` and
    ``rejected`` up to and including its last ``\\n\\nAssistant:``."""
    shared = 0
    limit = min(len(chosen), len(rejected))
    while shared < limit and chosen[shared] == rejected[shared]:
        shared += 1
    cut = chosen.rfind(ASSISTANT, 0, shared)
    if cut < 0:
        raise BadRow("malformed dialogue", "chosen and rejected share no prefix ending in '\\n\\nAssistant:'")
    end = cut + len(ASSISTANT)
    return chosen[:end], chosen[end:], rejected[end:]
