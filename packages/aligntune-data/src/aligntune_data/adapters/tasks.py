"""Benchmark schemas with references for rewards: GSM8K, MBPP, HumanEval."""

from __future__ import annotations

import re

from aligntune_config.answers import gsm8k_answer

from ..canonical import Context
from ..errors import BadRow
from .base import RowAdapter

_NUMBER_RE = re.compile(r"^-?\d+(?:\.\d+)?$")


def gsm8k_final_answer(answer: object) -> str:
    """The number after ``####`` in a GSM8K answer, without thousands separators."""
    if not isinstance(answer, str):
        raise BadRow("non-string content", f"answer is a {type(answer).__name__}, expected text")
    final = gsm8k_answer(answer)
    if final is None:
        raise BadRow("no final answer", "answer has no '#### N' line")
    value = final.replace(",", "").replace("$", "").strip()
    if not _NUMBER_RE.match(value):
        raise BadRow("no final answer", f"the final answer {final!r} is not a number")
    return value


class GSM8KAdapter(RowAdapter):
    """GSM8K: ``question``, ``answer`` (reasoning, then ``#### N``). Prompts carry ``answer`` = N."""

    name = "gsm8k"
    required = ("question", "answer")
    score = 0.9
    description = "question, answer ending in '#### N'"

    def parts(self, row: dict, ctx: Context) -> dict:
        number = gsm8k_final_answer(row.get("answer"))
        if ctx.format == "prompt":
            return {"prompt": row.get("question"), "extras": {"answer": number}}
        return {"prompt": row.get("question"), "completion": row.get("answer")}


class MBPPAdapter(RowAdapter):
    """MBPP: ``text`` (or ``prompt`` in sanitized MBPP), ``code``, ``test_list`` (kept for rewards); the
    prompt shows the tests so the function name is known."""

    name = "mbpp"
    required = ("code", "test_list")
    optional = ("text", "prompt", "test_imports", "task_id")
    score = 0.95
    description = "text/prompt, code, test_list"

    def detect(self, columns):
        if "text" not in columns and "prompt" not in columns:
            return super().detect(columns).__class__(0.0, "missing column text (or prompt)")
        return super().detect(columns)

    def parts(self, row: dict, ctx: Context) -> dict:
        task = row.get("text") if row.get("text") is not None else row.get("prompt")
        tests = row.get("test_list")
        if not isinstance(tests, list) or not all(isinstance(t, str) for t in tests):
            raise BadRow("wrong type", "test_list must be a list of strings")
        if not tests:
            raise BadRow("empty test_list", "test_list is empty")
        prompt = f"{task}\nYour code should pass these tests:\n" + "\n".join(tests) if isinstance(task, str) else task
        if ctx.format == "prompt":
            extras = {"test_list": tests, "test_imports": list(row.get("test_imports") or [])}
            return {"prompt": prompt, "extras": extras}
        return {"prompt": prompt, "completion": row.get("code")}


class HumanEvalAdapter(RowAdapter):
    """HumanEval: ``prompt`` (signature + docstring), ``canonical_solution``, ``test``, ``entry_point``."""

    name = "humaneval"
    required = ("prompt", "canonical_solution", "test", "entry_point")
    optional = ("task_id",)
    score = 1.0
    description = "prompt, canonical_solution, test, entry_point"

    def parts(self, row: dict, ctx: Context) -> dict:
        for key in ("test", "entry_point"):
            value = row.get(key)
            if not isinstance(value, str) or not value.strip():
                raise BadRow(f"empty {key}", f"{key} is missing or not text")
        if ctx.format == "prompt":
            extras = {"test": row["test"], "entry_point": row["entry_point"]}
            if "task_id" in row:
                extras["task_id"] = row["task_id"]
            return {"prompt": row.get("prompt"), "extras": extras}
        return {"prompt": row.get("prompt"), "completion": row.get("canonical_solution")}
