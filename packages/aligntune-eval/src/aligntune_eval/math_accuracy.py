"""Math answer accuracy: extract the final number of a prediction and compare it with the reference."""

from __future__ import annotations

import math
import re
from fractions import Fraction

from aligntune_config.answers import gsm8k_answer, last_boxed

from .base import BaseMetric, as_reference_lists, mean

_NUMBER = re.compile(r"-?\d[\d,]*(?:\.\d+)?(?:/\d+(?:\.\d+)?)?|-?\.\d+")


def _to_number(token: str) -> float | None:
    token = token.replace(",", "").strip().rstrip(".")
    frac = re.fullmatch(r"\\d?frac\{(-?[\d.]+)\}\{(-?[\d.]+)\}", token)
    if frac:
        token = f"{frac.group(1)}/{frac.group(2)}"
    try:
        if "/" in token:
            num, den = token.split("/", 1)
            return float(Fraction(num) / Fraction(den)) if float(den) != 0 else None
        return float(token)
    except (ValueError, ZeroDivisionError):
        return None


def extract_answer(text: str) -> float | None:
    """The final numeric answer of ``text``: ``\\boxed{}`` content, else the text after ``####``,
    else the last number in the text. Commas, ``$`` and ``%`` are ignored; fractions ``a/b`` and
    ``\\frac{a}{b}`` are evaluated. None when no number is found."""
    text = str(text)
    candidates = []
    boxed = last_boxed(text)
    if boxed is not None:
        candidates.append(boxed)
    hashes = gsm8k_answer(text)
    if hashes is not None:
        candidates.append(hashes)
    candidates.append(text)
    for chunk in candidates:
        chunk = chunk.replace("$", "").replace("%", "").replace("\\!", "")
        direct = _to_number(chunk.strip())
        if direct is not None:
            return direct
        frac = re.findall(r"\\d?frac\{(-?[\d.]+)\}\{(-?[\d.]+)\}", chunk)
        if frac:
            return _to_number(f"{frac[-1][0]}/{frac[-1][1]}")
        numbers = _NUMBER.findall(chunk)
        if numbers:
            value = _to_number(numbers[-1])
            if value is not None:
                return value
    return None


def numbers_match(a: float | None, b: float | None, rel_tol: float = 1e-6, abs_tol: float = 1e-6) -> bool:
    """Whether two extracted answers are equal within tolerance (None never matches)."""
    if a is None or b is None:
        return False
    return math.isclose(a, b, rel_tol=rel_tol, abs_tol=abs_tol)


class MathAccuracy(BaseMetric):
    """Share of predictions whose final number equals the reference's (GSM8K ``####``, ``\\boxed{}``)."""

    name = "math_accuracy"
    description = "Final-answer accuracy for math (#### / \\boxed{} / last number), 0-1."

    def __init__(self, rel_tol: float = 1e-6, abs_tol: float = 1e-6):
        self.rel_tol, self.abs_tol = rel_tol, abs_tol

    def compute(self, predictions, references=None, **columns) -> dict[str, float]:
        """``{"math_accuracy": share, "math_extracted": share of predictions with a number}``."""
        self._check(predictions, references)
        hits, found = [], []
        for pred, refs in zip(predictions, as_reference_lists(references)):
            value = extract_answer(pred)
            found.append(float(value is not None))
            hits.append(float(any(numbers_match(value, extract_answer(r), self.rel_tol, self.abs_tol)
                                  for r in refs)))
        return {"math_accuracy": mean(hits), "math_extracted": mean(found)}
