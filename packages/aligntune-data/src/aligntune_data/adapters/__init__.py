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


def detect_adapter(columns: Sequence[str], dataset: str, format: str) -> Any:
    """The best-matching adapter for ``columns`` that can give ``format``; logs the choice and why."""
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
    if not scored:
        raise DataError(f"dataset {dataset!r}: cannot tell its schema from columns {', '.join(columns)}; set "
                        f"format_type (one of {', '.join(BUILTIN_ADAPTERS)}) or rename columns with column_mapping")
    scored.sort(key=lambda item: item[:3], reverse=True)
    fits, _score, _order, adapter, detection = scored[0]
    if not fits:
        raise DataError(f"dataset {dataset!r}: its columns ({', '.join(columns)}) look like the {adapter.name} "
                        f"schema, which cannot give the {format!r} format (it gives: {', '.join(adapter.formats)})")
    logger.info("dataset %r: using the %s schema adapter (%s)", dataset, adapter.name, detection.reason)
    return adapter


__all__ = ["BUILTIN_ADAPTERS", "RowAdapter", "detect_adapter", "get_adapter"]
