"""Final answers of math solutions: GSM8K ``#### N``, ``\\boxed{...}``, ``<answer>`` tags, "the answer is",
and the last number. One implementation for every package (rewards, eval, data); pure Python.

    >>> extract_final_answer("3 + 4 = 7 apples\\n#### 7")
    '7'
    >>> extract_final_answer("so the result is \\\\boxed{\\\\frac{1}{2}}.")
    '\\\\frac{1}{2}'
    >>> to_number("$1,234.50"), to_number("12.5%"), to_number("3/4", fractions=True)
    (1234.5, 12.5, 0.75)
"""

from __future__ import annotations

import re
from fractions import Fraction

__all__ = ["NUMBER_PATTERN", "extract_final_answer", "gsm8k_answer", "last_boxed", "last_number", "to_number"]

#: A number as written in solutions: optional minus and dollar sign, digits with thousands commas,
#: decimals ("-$1,234.5", "$ 3", ".5").
NUMBER_PATTERN = r"-?\$?\s*\d[\d,]*(?:\.\d+)?|-?\$?\s*\.\d+"
_NUMBER = re.compile(NUMBER_PATTERN)
_PLAIN_NUMBER = re.compile(rf"^\s*(?:{NUMBER_PATTERN})\s*%?\s*\.?\s*$")
_HASHES = re.compile(r"####\s*([^\n]+)")
_ANSWER_IS = re.compile(r"(?:final answer|the answer|answer)\s*(?:is|:|=)\s*:?\s*([^\n]+)", re.IGNORECASE)
_ANSWER_TAG = re.compile(r"<answer>(.*?)</answer>", re.DOTALL | re.IGNORECASE)
_FRACTION = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s*/\s*(-?\d+(?:\.\d+)?)\s*$")
_LATEX_FRACTION = re.compile(r"^\s*(-?)\\[dt]?frac\{\s*(-?\d+(?:\.\d+)?)\s*\}\{\s*(-?\d+(?:\.\d+)?)\s*\}\s*$")


def last_boxed(text: str) -> str | None:
    """Content of the last ``\\boxed{...}`` (or ``\\fbox{...}``), braces balanced, stripped; None when
    there is none or its braces never close."""
    start = max(text.rfind("\\boxed"), text.rfind("\\fbox"))
    if start < 0:
        return None
    brace = text.find("{", start)
    if brace < 0:
        return None
    depth = 0
    for i in range(brace, len(text)):
        if text[i] == "{":
            depth += 1
        elif text[i] == "}":
            depth -= 1
            if depth == 0:
                return text[brace + 1:i].strip()
    return None


def gsm8k_answer(text: str) -> str | None:
    """What follows the last ``####`` on its line (GSM8K's final answer), stripped; None without one."""
    found = _HASHES.findall(text)
    return found[-1].strip() if found else None


def last_number(text: str) -> str | None:
    """The last number (:data:`NUMBER_PATTERN`) in ``text`` as written, stripped; None without one."""
    found = _NUMBER.findall(text)
    return found[-1].strip() if found else None


def extract_final_answer(text: str) -> str | None:
    """The final answer of a solution, as text: after the last ``####`` (GSM8K), else the last
    ``\\boxed{}``, else inside the last ``<answer>`` tags (its ``\\boxed{}`` if it has one), else the first
    number after the last "the answer is" / "answer:" (or that phrase's rest), else the last number.
    None when nothing is found."""
    hashes = gsm8k_answer(text)
    if hashes is not None:
        return hashes
    boxed = last_boxed(text)
    if boxed is not None:
        return boxed
    tagged = _ANSWER_TAG.findall(text)
    if tagged:
        inner = tagged[-1]
        boxed = last_boxed(inner)
        return boxed if boxed is not None else inner.strip()
    stated = _ANSWER_IS.findall(text)
    if stated:
        numbers = _NUMBER.findall(stated[-1])
        return numbers[0].strip() if numbers else stated[-1].strip().rstrip(".")
    return last_number(text)


def to_number(text: str, *, fractions: bool = False) -> float | None:
    """A plain number ("1,234", "$5", "12.5%", "7.", "-.5") as a float; None for anything else.

    With ``fractions=True`` also "a/b" and ``\\frac{a}{b}`` (``\\dfrac``, ``\\tfrac``) with numeric a, b;
    a zero denominator gives None."""
    if _PLAIN_NUMBER.match(text):
        cleaned = text.replace(",", "").replace("$", "").replace("%", "").replace(" ", "").rstrip(".")
        try:
            return float(cleaned)
        except ValueError:
            return None
    if not fractions:
        return None
    match = _FRACTION.match(text)
    sign = ""
    if match is None:
        latex = _LATEX_FRACTION.match(text)
        if latex is None:
            return None
        sign, num, den = latex.groups()
    else:
        num, den = match.groups()
    if float(den) == 0:
        return None
    value = float(Fraction(num) / Fraction(den))
    return -value if sign else value
