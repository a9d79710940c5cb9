"""Instruction schemas: Alpaca, Dolly, prompt/completion, plain text, prompt-only, classification."""

from __future__ import annotations

from ..canonical import Context
from .base import RowAdapter, optional_text, text_field


def _instruction_parts(ctx: Context, prompt, completion) -> dict:
    if ctx.format == "prompt":
        return {"prompt": prompt, "extras": {"reference": completion}}
    return {"prompt": prompt, "completion": completion}


def fold(instruction, extra: str):
    """The instruction with its input/context appended after a blank line (when there is one)."""
    if isinstance(instruction, str) and extra.strip():
        return f"{instruction}\n\n{extra}"
    return instruction


class AlpacaAdapter(RowAdapter):
    """Alpaca: ``instruction``, optional ``input`` (folded into the prompt), ``output``."""

    name = "alpaca"
    required = ("instruction", "output")
    optional = ("input",)
    score = 0.9
    description = "instruction, input, output"

    def parts(self, row: dict, ctx: Context) -> dict:
        prompt = fold(text_field(row, "instruction"), optional_text(row, "input"))
        return _instruction_parts(ctx, prompt, text_field(row, "output"))


class DollyAdapter(RowAdapter):
    """Dolly: ``instruction``, optional ``context`` (folded into the prompt), ``response``."""

    name = "dolly"
    required = ("instruction", "response")
    optional = ("context", "category")
    score = 0.9
    description = "instruction, context, response"

    def parts(self, row: dict, ctx: Context) -> dict:
        prompt = fold(text_field(row, "instruction"), optional_text(row, "context"))
        return _instruction_parts(ctx, prompt, text_field(row, "response"))


class PromptCompletionAdapter(RowAdapter):
    """``prompt`` and ``completion``."""

    name = "prompt_completion"
    required = ("prompt", "completion")
    score = 0.7
    description = "prompt, completion"

    def parts(self, row: dict, ctx: Context) -> dict:
        return _instruction_parts(ctx, row.get("prompt"), row.get("completion"))


class TextAdapter(RowAdapter):
    """``text``: plain text for SFT (or as the prompt)."""

    name = "text"
    required = ("text",)
    score = 0.4
    description = "text"

    def parts(self, row: dict, ctx: Context) -> dict:
        if ctx.format == "prompt":
            return {"prompt": row.get("text"), "extras": {}}
        return {"text": row.get("text")}


class PromptAdapter(RowAdapter):
    """``prompt`` only, every other column kept for rewards (prompt format)."""

    name = "prompt"
    formats = ("prompt",)
    required = ("prompt",)
    score = 0.5
    description = "prompt (+ reference columns)"

    def parts(self, row: dict, ctx: Context) -> dict:
        return {"prompt": row.get("prompt"), "extras": {k: v for k, v in row.items() if k != "prompt"}}


class ClassificationAdapter(RowAdapter):
    """``text`` and ``label``: SFT text -> label, or a prompt with the label as ``reference``."""

    name = "classification"
    required = ("text", "label")
    score = 0.6
    description = "text, label"

    def parts(self, row: dict, ctx: Context) -> dict:
        label = row.get("label")
        label = label if isinstance(label, str) or label is None else str(label)
        return _instruction_parts(ctx, row.get("text"), label)


class InstructionAdapter(RowAdapter):
    """The instruction schema named by the configured columns (``auto_detect_fields: false``):
    ``instruction``, optional ``input`` and ``context`` (both folded into the prompt), and the reply from
    ``output`` or, when there is no ``output`` column, ``response``. Not used by auto-detection (Alpaca
    and Dolly are)."""

    name = "instruction"
    required = ("instruction",)
    optional = ("input", "context")
    score = 0.0  # never detected
    description = "instruction, input/context, output or response"

    def detect(self, columns):
        return super().detect(columns).__class__(0.0, "chosen from the configured columns only")

    def check_columns(self, columns, dataset: str) -> None:
        super().check_columns(columns, dataset)
        if "output" not in columns and "response" not in columns:
            from ..errors import DataError

            raise DataError(f"dataset {dataset!r} (format instruction): has an instruction column but neither an "
                            f"output nor a response column; it has {', '.join(columns)}")

    def parts(self, row: dict, ctx: Context) -> dict:
        prompt = fold(fold(text_field(row, "instruction"), optional_text(row, "input")), optional_text(row, "context"))
        reply_key = "output" if "output" in row else "response"
        return _instruction_parts(ctx, prompt, text_field(row, reply_key))
