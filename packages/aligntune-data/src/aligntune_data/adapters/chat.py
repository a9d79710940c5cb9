"""Conversation schemas: ``messages`` (role/content) and ShareGPT ``conversations`` (from/value)."""

from __future__ import annotations

from ..canonical import Context
from ..messages import normalize_messages, split_last_assistant
from .base import RowAdapter


def conversation_parts(messages: list[dict], ctx: Context, field: str) -> dict:
    """Parts of a whole conversation: all of it for SFT; the turns before the last reply for prompts."""
    if ctx.format == "sft":
        return {"messages": messages}
    if messages[-1]["role"] != "assistant":
        return {"prompt": messages, "extras": {}}
    prompt, reply = split_last_assistant(messages, field)
    return {"prompt": prompt, "extras": {"reference": reply[0]["content"]}}


class ChatAdapter(RowAdapter):
    """``messages``: a list of ``{role, content}``."""

    name = "chat"
    required = ("messages",)
    score = 0.8
    description = "messages: list of {role, content}"

    def parts(self, row: dict, ctx: Context) -> dict:
        return conversation_parts(normalize_messages(row.get("messages"), "messages"), ctx, "messages")


class ShareGPTAdapter(RowAdapter):
    """ShareGPT: ``conversations``, a list of ``{from: human|gpt|system, value}``."""

    name = "sharegpt"
    required = ("conversations",)
    score = 0.85
    description = "conversations: list of {from, value}"

    def parts(self, row: dict, ctx: Context) -> dict:
        turns = row.get("conversations")
        if isinstance(turns, list) and turns and isinstance(turns[0], dict) and "from" not in turns[0]:
            messages = normalize_messages(turns, "conversations")
        else:
            messages = normalize_messages(turns, "conversations", role_key="from", content_key="value")
        return conversation_parts(messages, ctx, "conversations")
