"""Schema adapters and their auto-detection from column names."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from ..errors import DataError
from .base import RowAdapter
from .chat import ChatAdapter, ShareGPTAdapter
from .instruct import (
    AlpacaAdapter,
    ClassificationAdapter,
    DollyAdapter,
    InstructionAdapter,
    PromptAdapter,
    PromptCompletionAdapter,
    TextAdapter,
)
from .preference import HHRLHFAdapter, PreferenceAdapter, UltraFeedbackAdapter
from .tasks import GSM8KAdapter, HumanEvalAdapter, MBPPAdapter

logger = logging.getLogger("aligntune.data")

HUMANEVAL = HumanEvalAdapter()
MBPP = MBPPAdapter()
GSM8K = GSM8KAdapter()
ULTRAFEEDBACK = UltraFeedbackAdapter()
PREFERENCE = PreferenceAdapter()
HH_RLHF = HHRLHFAdapter()
ALPACA = AlpacaAdapter()
DOLLY = DollyAdapter()
SHAREGPT = ShareGPTAdapter()
CHAT = ChatAdapter()
PROMPT_COMPLETION = PromptCompletionAdapter()
CLASSIFICATION = ClassificationAdapter()
PROMPT = PromptAdapter()
TEXT = TextAdapter()
INSTRUCTION = InstructionAdapter()  # chosen from configured columns only, never detected

# in detection order (earlier wins a tie)
BUILTIN_ADAPTERS: dict[str, RowAdapter] = {
    adapter.name: adapter
    for adapter in (HUMANEVAL, MBPP, GSM8K, ULTRAFEEDBACK, PREFERENCE, HH_RLHF, ALPACA, DOLLY, SHAREGPT, CHAT,
                    PROMPT_COMPLETION, CLASSIFICATION, PROMPT, TEXT)
}
ALIASES = {"messages": "chat", "conversation": "chat", "hh_rlhf": "hh-rlhf", "code": "mbpp"}


def get_adapter(format_type: str) -> Any:
    """The adapter named ``format_type`` (built in, or registered under ``aligntune.schema_adapters``)."""
    from aligntune_config.registry import SCHEMA_ADAPTERS, UnknownComponentError

    key = format_type.strip().lower()
    key = ALIASES.get(key, key)
    if key in BUILTIN_ADAPTERS:
        return BUILTIN_ADAPTERS[key]
    try:
        return SCHEMA_ADAPTERS.get(key)
    except UnknownComponentError as exc:
        raise DataError(f"format_type {format_type!r}: {exc}") from None


# task_type -> the adapters that suit it (in preference order). Task types not listed here
# (supervised_fine_tuning, text_generation, token_classification) do not influence the choice.
_CONVERSATION = ("chat", "sharegpt", "hh-rlhf", "ultrafeedback", "preference")
TASK_ADAPTERS: dict[str, tuple[str, ...]] = {
    "math": ("gsm8k", "prompt"),
    "code": ("mbpp", "humaneval", "prompt"),
    "conversation": _CONVERSATION,
    "chat_completion": _CONVERSATION,
    "classification": ("classification",),
    "text_classification": ("classification",),
    "instruction_following": ("alpaca", "dolly", "instruction", "prompt_completion"),
    "summarization": ("prompt_completion", "text"),
}
TIE_MARGIN = 0.05
"""Detection scores within this of the best one are a tie, which the task type breaks."""


def task_type_of(config: Any) -> tuple[str | None, bool]:
    """(``config.task_type`` as a string or None, whether it was set explicitly rather than filled in as
    the SFT/RL default by ``UnifiedConfig``)."""
    value = getattr(config, "task_type", None)
    if value is None:
        return None, False
    return str(getattr(value, "value", value)), "task_type" in getattr(config, "model_fields_set", ())


def _adapter_name(adapter: Any) -> str:
    return str(getattr(adapter, "name", ""))


def _family(task_type: str | None) -> tuple[str, ...]:
    return TASK_ADAPTERS.get(task_type or "", ())


def _describe_family(family: Sequence[str]) -> str:
    parts = []
    for name in family:
        adapter = BUILTIN_ADAPTERS.get(name) or (INSTRUCTION if name == "instruction" else None)
        parts.append(f"{name} ({adapter.description})" if adapter is not None and adapter.description else name)
    return "; ".join(parts)


def detect_adapter(columns: Sequence[str], dataset: str, format: str, task_type: str | None = None,
                   explicit_task: bool = False) -> Any:
    """The best-matching adapter for ``columns`` that can give ``format``; logs the choice and why.

    ``task_type`` breaks ties (scores within :data:`TIE_MARGIN` of the best) in favour of its adapters
    (:data:`TASK_ADAPTERS`). When ``explicit_task`` (the user set it), the choice is limited to its
    adapters, and columns that none of them matches are a :class:`DataError` naming both."""
    from aligntune_config.registry import SCHEMA_ADAPTERS

    candidates: dict[str, Any] = {name.replace("-", "_"): a for name, a in BUILTIN_ADAPTERS.items()}
    for name in SCHEMA_ADAPTERS.names():
        if name not in candidates:
            candidates[name] = SCHEMA_ADAPTERS.get(name)
    scored = []
    for order, adapter in enumerate(candidates.values()):
        detection = adapter.detect(list(columns))
        if detection.score > 0:
            fits = format in getattr(adapter, "formats", ())
            scored.append((fits, detection.score, -order, adapter, detection))
    family = _family(task_type)
    if explicit_task and family:
        matching = [item for item in scored if _adapter_name(item[3]) in family]
        if not matching:
            raise DataError(f"dataset {dataset!r}: task_type {task_type!r} expects one of the schemas "
                            f"{_describe_family(family)}, but its columns ({', '.join(columns)}) fit none of them; "
                            "fix task_type, rename columns with column_mapping, or set format_type")
        scored = matching
    if not scored:
        raise DataError(f"dataset {dataset!r}: cannot tell its schema from columns {', '.join(columns)}; set "
                        f"format_type (one of {', '.join(BUILTIN_ADAPTERS)}) or rename columns with column_mapping")
    scored.sort(key=lambda item: item[:3], reverse=True)
    fits, best_score, _order, adapter, detection = scored[0]
    if not fits:
        raise DataError(f"dataset {dataset!r}: its columns ({', '.join(columns)}) look like the {adapter.name} "
                        f"schema, which cannot give the {format!r} format (it gives: {', '.join(adapter.formats)})")
    reason = detection.reason
    tied = [item for item in scored if item[0] and item[1] >= best_score - TIE_MARGIN - 1e-9]
    if family and len(tied) > 1:
        preferred = [item for item in tied if _adapter_name(item[3]) in family]
        if preferred and preferred[0][3] is not adapter:
            others = ", ".join(item[3].name for item in tied if item[3] is not preferred[0][3])
            adapter, detection = preferred[0][3], preferred[0][4]
            reason = f"{detection.reason}; task_type {task_type!r} breaks the tie with {others}"
    if explicit_task and family:
        reason += f"; task_type {task_type!r}"
    logger.info("dataset %r: using the %s schema adapter (%s)", dataset, adapter.name, reason)
    return adapter


def configured_adapter(columns: Sequence[str], config: Any, format: str) -> Any:
    """The adapter named by the configured columns, without guessing (``auto_detect_fields: false``):
    ``messages_column`` -> chat; ``instruction_column`` -> instruction (with ``input_column``,
    ``context_column`` and ``output_column`` or ``response_column``); ``prompt`` + ``chosen`` +
    ``rejected`` -> preference; ``text_column`` -> text (classification with ``label_column`` when the
    task type is a classification one). ``columns`` are the names after the ``*_column`` renaming.
    Several present: the task type's adapter wins, else the first of that order."""
    present = set(columns)
    task_type, explicit = task_type_of(config)
    family = _family(task_type)
    options: list[tuple[Any, str]] = []
    if "messages" in present:
        options.append((CHAT, f"messages_column {config.messages_column!r} is present"))
    if "instruction" in present:
        options.append((INSTRUCTION, f"instruction_column {config.instruction_column!r} is present"))
    if {"prompt", "chosen", "rejected"} <= present:
        options.append((PREFERENCE, "columns prompt, chosen and rejected are present"))
    if "text" in present:
        if "label" in present and "classification" in family:
            why = (f"text_column {config.text_column!r} and label_column {config.label_column!r} are present, "
                   f"task_type {task_type!r}")
            options.append((CLASSIFICATION, why))
        options.append((TEXT, f"text_column {config.text_column!r} is present"))
    if not options:
        raise DataError(
            f"dataset {config.name!r}: auto_detect_fields is false and format_type is unset, so the schema comes "
            f"from the configured columns, but none of them is present: messages_column {config.messages_column!r}, "
            f"instruction_column {config.instruction_column!r}, prompt + chosen + rejected, text_column "
            f"{config.text_column!r}; the dataset has columns {', '.join(columns)}. Set format_type (one of "
            f"{', '.join(BUILTIN_ADAPTERS)}), set the *_column fields, or set auto_detect_fields: true")
    chosen = options[0]
    if family:
        preferred = [option for option in options if option[0].name in family]
        if preferred:
            chosen = preferred[0]
        elif explicit:
            raise DataError(
                f"dataset {config.name!r}: task_type {task_type!r} expects one of the schemas "
                f"{_describe_family(family)}, but the configured columns give {options[0][0].name} "
                f"({options[0][1]}); fix task_type, set format_type, or set auto_detect_fields: true")
    adapter, why = chosen
    if adapter is INSTRUCTION:
        if "output" in present:
            why += f", reply from output_column {config.output_column!r}"
        elif "response" in present:
            why += f", reply from response_column {config.response_column!r}"
        else:
            raise DataError(
                f"dataset {config.name!r}: auto_detect_fields is false and instruction_column "
                f"{config.instruction_column!r} is present, but neither output_column {config.output_column!r} nor "
                f"response_column {config.response_column!r} is; the dataset has columns {', '.join(columns)}. "
                "Set output_column/response_column, set format_type, or set auto_detect_fields: true")
    logger.info("dataset %r: using the %s schema adapter (auto_detect_fields is false: %s)", config.name,
                adapter.name, why)
    return adapter


__all__ = ["BUILTIN_ADAPTERS", "TASK_ADAPTERS", "RowAdapter", "configured_adapter", "detect_adapter", "get_adapter",
           "task_type_of"]
