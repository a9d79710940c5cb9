"""Evaluation metrics and the evaluator of AlignTune.

``get_metric(name, **params)`` builds a metric (BLEU, chrF, ROUGE, exact match, token F1, math accuracy,
pass@k, METEOR, perplexity, BERTScore, semantic similarity, CodeBLEU, DPO metrics, win rate, reward
scores, custom callables); ``list_metrics()`` lists them; :class:`UnifiedEvaluator` generates with a model and
scores a dataset. Importing this package does not import torch or transformers.
"""

from .api import BUILTIN_METRICS, get_metric, list_metrics, register_builtin_metrics
from .base import BaseMetric, normalize_answer
from .code import CodeBLEU, PassAtK, estimate_pass_at_k, pass_at_k
from .dpo_eval import completion_logps, evaluate_dpo, preference_metrics, win_rate_against_reference
from .evaluator import UnifiedEvaluator
from .lexical import BLEU, ROUGE, ChrF, ExactMatch, TokenF1, token_f1
from .lm_eval_bridge import run_lm_eval
from .math_accuracy import MathAccuracy, extract_answer
from .meteor import METEOR
from .model_metrics import BERTScore, Perplexity, SemanticSimilarity
from .preference import CustomMetric, DPOMetrics, RewardModelScore, resolve_reward
from .win_rate import WinRate

__version__ = "0.1.0"

register_builtin_metrics()

__all__ = [
    "BLEU",
    "BUILTIN_METRICS",
    "METEOR",
    "ROUGE",
    "BERTScore",
    "BaseMetric",
    "ChrF",
    "CodeBLEU",
    "CustomMetric",
    "DPOMetrics",
    "ExactMatch",
    "MathAccuracy",
    "PassAtK",
    "Perplexity",
    "RewardModelScore",
    "SemanticSimilarity",
    "TokenF1",
    "UnifiedEvaluator",
    "WinRate",
    "completion_logps",
    "estimate_pass_at_k",
    "evaluate_dpo",
    "extract_answer",
    "get_metric",
    "list_metrics",
    "normalize_answer",
    "pass_at_k",
    "preference_metrics",
    "register_builtin_metrics",
    "resolve_reward",
    "run_lm_eval",
    "token_f1",
    "win_rate_against_reference",
]
