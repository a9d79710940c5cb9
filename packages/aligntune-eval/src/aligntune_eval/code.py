"""Code metrics: pass@k (unbiased estimator, candidates run in the sandbox of the reward registry)
and CodeBLEU (codebleu package)."""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable, Sequence
from typing import Any

from .base import BaseMetric, as_reference_lists, mean

logger = logging.getLogger("aligntune.eval.code")
SANDBOX_NAME = "code_execution"


def pass_at_k(n: int, c: int, k: int) -> float:
    """Unbiased pass@k of one problem (Chen et al. 2021): ``1 - C(n-c, k) / C(n, k)``.

    Computed as ``1 - prod_{i=n-c+1}^{n} (1 - k/i)``, which never forms large binomials.
    """
    if not (0 <= c <= n) or k < 1:
        raise ValueError(f"pass_at_k needs 0 <= c <= n and k >= 1, got n={n}, c={c}, k={k}")
    if k > n:
        raise ValueError(f"pass_at_k: k={k} is larger than the number of samples n={n}")
    if n - c < k:
        return 1.0
    prod = 1.0
    for i in range(n - c + 1, n + 1):
        prod *= 1.0 - k / i
    return 1.0 - prod


def estimate_pass_at_k(num_samples: Sequence[int] | int, num_correct: Sequence[int], k: int) -> list[float]:
    """pass@k of each problem; ``num_samples`` may be one int shared by all problems."""
    if isinstance(num_samples, int):
        num_samples = [num_samples] * len(num_correct)
    return [pass_at_k(int(n), int(c), k) for n, c in zip(num_samples, num_correct)]


def find_sandbox(**params: Any) -> Callable[..., list[float]]:
    """The ``code_execution`` reward from :data:`aligntune_config.registry.REWARDS`, ready to call.

    A registered class or factory is called with ``params``; a registered instance is used as is.
    Raises a :class:`LookupError` naming the fix when no such reward is registered.
    """
    from aligntune_config import registry

    if SANDBOX_NAME not in registry.REWARDS:
        raise LookupError(
            f"pass@k runs candidates with the {SANDBOX_NAME!r} reward, which is not registered in the reward "
            "registry (entry-point group 'aligntune.rewards'); install aligntune-rewards, register one with "
            "aligntune_config.registry.REWARDS.register('code_execution', fn), or pass num_correct= / executor=")
    obj = registry.REWARDS.get(SANDBOX_NAME)
    if inspect.isclass(obj) or (params and callable(obj) and not hasattr(obj, "name")):
        return obj(**params)
    return obj


class PassAtK(BaseMetric):
    """pass@k over problems. ``predictions`` holds each problem's candidates (a list of strings, or one
    string); test columns (``test_list``, ``test``, ``entry_point``, ...) go to the sandbox. Give
    ``num_correct`` (and ``num_samples``) columns to skip execution."""

    name = "pass_at_k"
    description = "Unbiased pass@k; candidates executed by the 'code_execution' reward sandbox."
    needs_references = False

    def __init__(self, k: int | Sequence[int] = 1, executor: Callable[..., Sequence[float]] | None = None,
                 pass_threshold: float = 1.0, sandbox_params: dict[str, Any] | None = None):
        self.ks = [k] if isinstance(k, int) else list(k)
        self.executor = executor
        self.pass_threshold = pass_threshold
        self.sandbox_params = dict(sandbox_params or {})

    def _count_correct(self, candidates: list[list[str]], references, columns) -> list[int]:
        executor = self.executor or find_sandbox(**self.sandbox_params)
        flat, owner = [], []
        for i, cands in enumerate(candidates):
            flat.extend(cands)
            owner.extend([i] * len(cands))
        kwargs = {key: [col[i] for i in owner] for key, col in columns.items()}
        if references is not None:
            kwargs["references"] = [references[i] for i in owner]
        scores = list(executor(flat, **kwargs))
        if len(scores) != len(flat):
            raise ValueError(f"sandbox returned {len(scores)} scores for {len(flat)} candidates")
        correct = [0] * len(candidates)
        for i, score in zip(owner, scores):
            correct[i] += int(score >= self.pass_threshold - 1e-9)
        return correct

    def compute(self, predictions, references=None, **columns) -> dict[str, float]:
        """``{"pass@k": mean over problems}`` for each k (k larger than a problem's n is skipped)."""
        num_correct = columns.pop("num_correct", None)
        num_samples = columns.pop("num_samples", None)
        if num_correct is None:
            candidates = [[p] if isinstance(p, str) else list(p) for p in predictions]
            num_correct = self._count_correct(candidates, references, columns)
            num_samples = [len(c) for c in candidates]
        elif num_samples is None:
            num_samples = [1 if isinstance(p, str) else len(p) for p in predictions]
        if isinstance(num_samples, int):
            num_samples = [num_samples] * len(num_correct)
        out = {}
        for k in self.ks:
            rows = [(n, c) for n, c in zip(num_samples, num_correct) if n >= k]
            if len(rows) < len(num_correct):
                logger.warning("pass@%d: %d problems have fewer than %d samples and are left out",
                               k, len(num_correct) - len(rows), k)
            if rows:
                out[f"pass@{k}"] = mean([pass_at_k(n, c, k) for n, c in rows])
        return out


class CodeBLEU(BaseMetric):
    """CodeBLEU (codebleu package): n-gram, weighted n-gram, syntax and dataflow match, 0-1."""

    name = "codebleu"
    description = "CodeBLEU and its four components, 0-1 (codebleu, python by default)."

    def __init__(self, lang: str = "python", weights: tuple[float, float, float, float] = (0.25, 0.25, 0.25, 0.25)):
        self.lang, self.weights = lang, tuple(weights)

    def compute(self, predictions, references=None, **columns) -> dict[str, float]:
        """``{"codebleu": ..., "codebleu_ngram": ..., ...}``."""
        from codebleu import calc_codebleu

        self._check(predictions, references)
        refs = as_reference_lists(references)
        result = calc_codebleu(refs, [str(p) for p in predictions], lang=self.lang, weights=self.weights)
        names = {"codebleu": "codebleu", "ngram_match_score": "codebleu_ngram",
                 "weighted_ngram_match_score": "codebleu_weighted_ngram",
                 "syntax_match_score": "codebleu_syntax", "dataflow_match_score": "codebleu_dataflow"}
        return {new: float(result[old]) for old, new in names.items() if old in result}
