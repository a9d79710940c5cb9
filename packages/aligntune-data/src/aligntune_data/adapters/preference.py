"""Preference schemas: generic ``prompt``/``chosen``/``rejected``, UltraFeedback (chosen and rejected as
message lists), and HH-RLHF (whole dialogues sharing a prefix)."""

from __future__ import annotations

from typing import Any

from ..canonical import Context
from ..errors import BadRow
from ..messages import message, normalize_messages, parse_hh_dialogue, split_hh_pair, split_last_assistant
from .base import RowAdapter


def _reply(value: Any, field: str, conversational: bool) -> tuple[Any, Any]:
    """(the prompt messages a message-list reply carries or None, the reply as text or messages)."""
    if isinstance(value, list):
        messages = normalize_messages(value, field)
        if messages[-1]["role"] != "assistant":
            raise BadRow("no assistant turn", f"{field} does not end with an assistant message")
        head, last = split_last_assistant(messages, field) if len(messages) > 1 else ([], messages)
        return head or None, (last if conversational else last[0]["content"])
    return None, value


def _after_end(ctx: Context, prompt: Any, chosen: Any, rejected: Any, extras: dict) -> dict:
    if ctx.format == "sft":
        return {"prompt": prompt, "completion": chosen}
    if ctx.format == "prompt":
        return {"prompt": prompt, "extras": extras}
    return {"prompt": prompt, "chosen": chosen, "rejected": rejected}


class PreferenceAdapter(RowAdapter):
    """``prompt``, ``chosen``, ``rejected`` (text or message lists)."""

    name = "preference"
    formats = ("preference", "sft", "prompt")
    required = ("prompt", "chosen", "rejected")
    score = 0.9
    description = "prompt, chosen, rejected"

    def parts(self, row: dict, ctx: Context) -> dict:
        head_c, chosen = _reply(row.get("chosen"), "chosen", ctx.conversational)
        head_r, rejected = _reply(row.get("rejected"), "rejected", ctx.conversational)
        prompt = row.get("prompt")
        if prompt is None:
            prompt = head_c or head_r
        elif isinstance(prompt, list):
            prompt = normalize_messages(prompt, "prompt")
        extras = {k: v for k, v in row.items() if k not in ("prompt", "chosen", "rejected", "messages")}
        return _after_end(ctx, prompt, chosen, rejected, extras)


class UltraFeedbackAdapter(PreferenceAdapter):
    """UltraFeedback (binarized): ``prompt``, ``chosen``/``rejected`` as [user, assistant] message lists,
    ``score_chosen``/``score_rejected``."""

    name = "ultrafeedback"
    required = ("prompt", "chosen", "rejected")
    optional = ("prompt_id", "score_chosen", "score_rejected", "messages")
    score = 0.9
    description = "prompt, chosen/rejected as message lists (UltraFeedback binarized)"

    def detect(self, columns):
        detection = super().detect(columns)
        if detection.score and not any(c in columns for c in ("score_chosen", "score_rejected", "prompt_id")):
            return type(detection)(0.0, "no score_chosen/score_rejected/prompt_id columns")
        return type(detection)(detection.score + 0.05, detection.reason) if detection.score else detection


class HHRLHFAdapter(RowAdapter):
    """Anthropic HH-RLHF: ``chosen`` and ``rejected`` are whole ``\\n\\nHuman:``/``\\n\\nAssistant:``
    dialogues. The prompt is their shared prefix up to its last ``\\n\\nAssistant:``; chosen and
    rejected are the rest (so prompt + chosen is the original chosen text). With a chat template the
    prompt becomes alternating user/assistant messages and the replies assistant messages."""

    name = "hh-rlhf"
    formats = ("preference", "sft", "prompt")
    required = ("chosen", "rejected")
    score = 0.85
    description = "chosen, rejected: whole Human/Assistant dialogues"

    def detect(self, columns):
        if "prompt" in columns:
            return super().detect(columns).__class__(0.0, "has a prompt column (generic preference schema)")
        return super().detect(columns)

    def parts(self, row: dict, ctx: Context) -> dict:
        chosen, rejected = row.get("chosen"), row.get("rejected")
        for key, value in (("chosen", chosen), ("rejected", rejected)):
            if value is None:
                raise BadRow("missing field", f"{key} is missing")
            if not isinstance(value, str):
                raise BadRow("non-string content", f"{key} is a {type(value).__name__}, expected text")
        if chosen == rejected:
            raise BadRow("chosen == rejected", "chosen and rejected are identical")
        prompt, chosen_rest, rejected_rest = split_hh_pair(chosen, rejected)
        if ctx.conversational:
            turns = parse_hh_dialogue(prompt)
            if turns[-1]["role"] == "assistant" and not turns[-1]["content"]:
                turns = turns[:-1]
            prompt = turns
            chosen_rest = [message("assistant", chosen_rest.strip())]
            rejected_rest = [message("assistant", rejected_rest.strip())]
        return _after_end(ctx, prompt, chosen_rest, rejected_rest, {})
