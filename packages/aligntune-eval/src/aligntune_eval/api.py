"""Metric lookup: built-ins registered in :data:`aligntune_config.registry.METRICS`, plus whatever other
packages register through the ``aligntune.metrics`` entry points."""

from __future__ import annotations

import inspect
import logging
from typing import Any

from aligntune_config.registry import METRICS

from .code import CodeBLEU, PassAtK
from .lexical import BLEU, ROUGE, ChrF, ExactMatch, TokenF1
from .math_accuracy import MathAccuracy
from .meteor import METEOR
from .model_metrics import BERTScore, Perplexity, SemanticSimilarity
from .preference import CustomMetric, DPOMetrics, RewardModelScore
from .win_rate import WinRate

logger = logging.getLogger("aligntune.eval")

BUILTIN_METRICS: dict[str, type] = {
    cls.name: cls
    for cls in (BLEU, ChrF, ROUGE, ExactMatch, TokenF1, MathAccuracy, PassAtK, METEOR, Perplexity, BERTScore,
                SemanticSimilarity, CodeBLEU, DPOMetrics, WinRate, RewardModelScore, CustomMetric)
}


def register_builtin_metrics() -> None:
    """Register the built-in metric classes in ``METRICS`` (a name already taken is left alone)."""
    for name, cls in BUILTIN_METRICS.items():
        try:
            METRICS.register(name, cls)
        except ValueError:
            logger.debug("metric %r already registered; keeping that registration", name)


def get_metric(name: str, /, **params: Any):
    """The metric registered as ``name``, built with ``params``.

    A registered class or factory is called with ``params``; a registered instance is returned as is
    (``params`` must then be empty). Unknown names raise
    :class:`aligntune_config.registry.UnknownComponentError` listing the known ones.
    """
    obj = METRICS.get(name)
    if inspect.isclass(obj) or (not hasattr(obj, "compute") and callable(obj)):
        metric = obj(**params)
    elif params:
        raise TypeError(f"metric {name!r} is registered as an instance; it takes no parameters "
                        f"(got {sorted(params)})")
    else:
        metric = obj
    if not hasattr(metric, "compute"):
        raise TypeError(f"metric {name!r} resolved to {type(metric).__name__}, which has no compute()")
    return metric


def list_metrics() -> dict[str, str]:
    """``{name: one-line description}`` of every registered metric."""
    return METRICS.describe()
