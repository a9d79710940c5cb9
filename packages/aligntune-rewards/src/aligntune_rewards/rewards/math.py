"""Math answer correctness: the completion's final answer against the reference, with math-verify."""

from __future__ import annotations

import logging
import threading
from typing import Any

from aligntune_config.answers import extract_final_answer
from aligntune_config.answers import to_number as _to_number

from ..base import Reward

logger = logging.getLogger("aligntune.rewards")


def extract_answer(text: str) -> str | None:
    """The final answer of a solution (:func:`aligntune_config.answers.extract_final_answer`): after the
    last ``####`` (GSM8K), else the last ``\\boxed{}``, else inside ``<answer>`` tags, else after "the
    answer is", else the last number. None if none found."""
    return extract_final_answer(text)


def to_number(text: str) -> float | None:
    """A plain number ("1,234", "$5", "12.5%", "7.") as float; None otherwise
    (:func:`aligntune_config.answers.to_number`)."""
    return _to_number(text)


def _reference_answer(reference: Any) -> str | None:
    if reference is None:
        return None
    if isinstance(reference, (int, float)):
        return repr(reference)
    ref = str(reference)
    if "####" in ref or "\\boxed" in ref or "\\fbox" in ref:
        return extract_answer(ref)
    return ref.strip()


def _verify(gold: str, pred: str) -> bool:
    from math_verify import parse, verify

    main = threading.current_thread() is threading.main_thread()  # math-verify's timeouts use SIGALRM
    timeout = 5 if main else None
    wrap = lambda s: s if "$" in s or "\\(" in s or "\\[" in s else f"${s}$"
    gold_parsed = parse(wrap(gold), parsing_timeout=timeout)
    pred_parsed = parse(wrap(pred), parsing_timeout=timeout)
    if not gold_parsed or not pred_parsed:
        return False
    return bool(verify(gold_parsed, pred_parsed, timeout_seconds=timeout))


class MathReward(Reward):
    """Correct final answer. math-verify + numeric comparison. Range {0, 1}.

    The completion's final answer is found as in :func:`extract_answer` (GSM8K ``#### N``, ``\\boxed{}``,
    ``<answer>`` tags, "the answer is", last number); the reference may be a bare answer or a full solution
    (its ``####``/``\\boxed`` part is used). Two plain numbers are equal when ``|a - b| <= tolerance``
    (absolute); anything else (fractions, expressions, LaTeX) is compared by math-verify. No answer or
    no reference scores 0. Params: tolerance=1e-6.
    """

    name = "math"
    description = "1 if the final answer (####, \\boxed{}, last number) equals the reference (math-verify)."

    def __init__(self, *, tolerance: float = 1e-6, **common: Any):
        super().__init__(**common)
        self.tolerance = tolerance

    def score(self, text, *, prompt=None, reference=None, row=None):
        gold = _reference_answer(reference)
        pred = extract_answer(text)
        if not gold or not pred:
            return 0.0
        a, b = to_number(pred), to_number(gold)
        if a is not None and b is not None:
            return 1.0 if abs(a - b) <= self.tolerance else 0.0
        try:
            return 1.0 if _verify(gold, pred) else 0.0
        except (ValueError, TypeError, RecursionError, OverflowError) as exc:
            logger.debug("math: math-verify failed on %r vs %r: %s", pred, gold, exc)
            return 0.0


class MathAccuracyReward(MathReward):
    """Alias of ``math`` under the spec's name. Range {0, 1}. Params: tolerance=1e-6."""

    name = "math_accuracy"
    description = "Same as math: final answer equals the reference (math-verify)."


REWARDS = [MathReward, MathAccuracyReward]
ALIASES: dict[str, str] = {"math_verify": "math"}
