"""Code rewards: execution against the row's tests (sandboxed), and static quality (syntax, lint, complexity)."""

from __future__ import annotations

import ast
import keyword
import logging
import re
from functools import lru_cache
from typing import Any

from ..base import Reward, clamp
from ..sandbox import SandboxLimits, SandboxPool

logger = logging.getLogger("aligntune.rewards")
_FENCE = re.compile(r"```[ \t]*(?:python3?|py)?[ \t]*\n(.*?)```", re.DOTALL | re.IGNORECASE)


_KEYWORDS = frozenset(keyword.kwlist) | frozenset(keyword.softkwlist)
_BINARY_WORDS = frozenset({"is", "in", "and", "or"})
_LEADING_WORDS = re.compile(r"(?:[A-Za-z_][A-Za-z0-9_]*|[0-9]+\.)(?: +[A-Za-z_][A-Za-z0-9_]*)+")


def surely_invalid(code: str) -> bool:
    """True only when ``code`` cannot parse (a cheap exact gate for prose, whose failed parse costs a
    second, error-reporting pass): it starts with a name or number ``x`` (optionally followed by ``is``,
    ``in``, ``and`` or ``or`` and another name, any number of times) and then a name, every name no
    keyword or soft keyword: a complete expression followed by a name, which no statement allows. The
    last name must be a whole token (not followed by a non-ASCII character of the same identifier)."""
    m = _LEADING_WORDS.match(code)
    if m is None:
        return False
    words = m.group(0).split()
    if words[0] in _KEYWORDS:
        return False
    i = 1
    while i + 1 < len(words) and words[i] in _BINARY_WORDS and words[i + 1] not in _KEYWORDS:
        i += 2
    if i >= len(words) or words[i] in _KEYWORDS:
        return False
    return i < len(words) - 1 or code[m.end():m.end() + 1].isascii()


@lru_cache(maxsize=1)
def _fast_checker() -> type:
    """pyflakes' ``Checker`` whose start-up binding of the ~160 builtins into the empty module scope
    stores each directly: what ``addBinding`` does there (no scope holds the name yet, a ``Builtin`` is
    no annotation or walrus target), without its generic checks. Every other binding goes through
    ``addBinding`` unchanged, so the messages are the same."""
    from pyflakes.checker import Builtin, Checker

    class FastChecker(Checker):
        def addBinding(self, node, value):  # noqa: N802 (pyflakes' name)
            stack = self.scopeStack
            if node is None and type(value) is Builtin and len(stack) == 1 and value.name not in stack[0]:
                stack[0][value.name] = value
                return
            super().addBinding(node, value)

    return FastChecker


def extract_code(text: str) -> str:
    """The Python code in a completion: the fenced blocks joined (```python ... ```), else the whole text."""
    blocks = _FENCE.findall(text)
    if blocks:
        return "\n\n".join(b.strip("\n") for b in blocks)
    if text.lstrip().startswith("```"):  # unterminated fence
        return text.lstrip()[3:].split("\n", 1)[-1]
    return text


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value] if value.strip() else []
    return [str(v) for v in value if v is not None and str(v).strip()]


def build_job(code: str, prompt: str | None, row: dict[str, Any]) -> tuple[str, list[str]] | None:
    """``(program, tests)`` for one completion, from the row's test columns; None when it has no tests.

    - HumanEval: ``test`` (defines ``check``) and ``entry_point``; when the completion does not define the
      entry point, the row's prompt (the function header) is put before it.
    - MBPP: ``test_list`` (asserts), with ``test_imports`` / ``test_setup_code`` run before the program.
    - Generic: ``tests`` (a string or a list of snippets).
    """
    entry = row.get("entry_point")
    test = row.get("test")
    if entry and test:
        header = row.get("prompt") if isinstance(row.get("prompt"), str) else prompt
        program = code
        if not re.search(rf"\bdef\s+{re.escape(str(entry))}\s*\(", code) and header:
            program = header + code
        return program, [f"{test}\n\ncheck({entry})\n"]
    asserts = _as_list(row.get("test_list"))
    if asserts:
        setup = "\n".join(_as_list(row.get("test_imports")) + _as_list(row.get("test_setup_code")))
        return (setup + "\n" + code if setup else code), asserts
    generic = _as_list(row.get("tests"))
    if generic:
        return code, generic
    return None


class CodeExecutionReward(Reward):
    """Passes the row's unit tests, run in the sandbox. Range [0, 1].

    The code is taken from the completion (fenced blocks, else all text) and run with the row's tests
    (HumanEval ``test`` + ``entry_point``, MBPP ``test_list``, or ``tests``; see :func:`build_job`) in an
    isolated subprocess (:mod:`aligntune_rewards.sandbox`), in parallel over the batch. Score 1 when every
    test passes, else 0; with partial_credit=true the fraction of tests passed. Timeouts, crashes, early
    exits and blocked operations score 0. Rows without tests score 0 (logged once).
    Params: timeout=10, memory_mb=1024, max_workers=None (CPU count + 1), partial_credit=False.
    """

    name = "code_execution"
    description = "Runs the code against the row's tests (HumanEval/MBPP) in a sandbox: 1 if all pass."
    _warned = False

    def __init__(self, *, timeout: float = 10.0, memory_mb: int = 1024, max_workers: int | None = None,
                 partial_credit: bool = False, **common: Any):
        super().__init__(**common)
        self.partial_credit = partial_credit
        self.pool = SandboxPool(max_workers, SandboxLimits(timeout=timeout, memory_mb=memory_mb))
        self.last_results: list = []

    def batch(self, texts, prompts, references, columns):
        n = len(texts)
        rows = [{k: (v[i] if isinstance(v, (list, tuple)) and len(v) == n else v) for k, v in columns.items()}
                for i in range(n)]
        jobs, where = [], []
        for i, text in enumerate(texts):
            job = build_job(extract_code(text), prompts[i], rows[i])
            if job is None:
                if not CodeExecutionReward._warned:
                    CodeExecutionReward._warned = True
                    logger.warning("%s: a row has no tests (columns test+entry_point, test_list or tests); "
                                   "it scores 0", self.name)
                continue
            jobs.append(job)
            where.append(i)
        scores = [0.0] * n
        results = self.pool.map(jobs)
        for i, result in zip(where, results):
            scores[i] = result.fraction if self.partial_credit else (1.0 if result.ok else 0.0)
        self.last_results = results
        return scores


class CodeReward(CodeExecutionReward):
    """Alias of ``code_execution`` (the spec's ``code``). Same params."""

    name = "code"
    description = "Same as code_execution: passes the row's unit tests in a sandbox."


class CodeQualityReward(Reward):
    """Static code quality: syntax, pyflakes lint, radon complexity. Rule. Range [0, 1].

    0 when the code (fenced blocks, else all text) does not parse. Otherwise
    0.4 + 0.3 * lint + 0.3 * simplicity, where lint = max(0, 1 - 0.2 * pyflakes warnings) and simplicity =
    1 when the most complex block has cyclomatic complexity <= ``max_complexity`` (default 10), falling
    linearly to 0 at 3x that. Params: max_complexity=10.
    """

    name = "code_quality"
    description = "Parses (else 0), few pyflakes warnings, low radon cyclomatic complexity."

    def __init__(self, *, max_complexity: int = 10, **common: Any):
        super().__init__(**common)
        self.max_complexity = max_complexity

    def score(self, text, *, prompt=None, reference=None, row=None):
        from radon.complexity import cc_visit_ast

        code = extract_code(text)
        if not code.strip() or surely_invalid(code):
            return 0.0
        try:
            tree = ast.parse(code)  # parsed once for both tools (pyflakes' check and radon's cc_visit
        except (SyntaxError, ValueError):  # parse the same source the same way)
            return 0.0
        try:
            blocks = cc_visit_ast(tree)
        except (SyntaxError, ValueError):
            blocks = []
        count = len(_fast_checker()(tree, filename="completion.py").messages)
        lint = max(0.0, 1.0 - 0.2 * count)
        worst = max((b.complexity for b in blocks), default=1)
        limit = self.max_complexity
        simplicity = 1.0 if worst <= limit else clamp(1.0 - (worst - limit) / (2.0 * limit))
        return 0.4 + 0.3 * lint + 0.3 * simplicity


REWARDS = [CodeExecutionReward, CodeReward, CodeQualityReward]
ALIASES: dict[str, str] = {"unit_tests": "code_execution"}
