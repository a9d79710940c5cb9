"""Generation metrics of ``EngineTrainer.evaluate()``: the model generates for the prompts of the
evaluation rows and the metrics of ``evaluation.metrics`` -- found through the metric registry
(``aligntune_config.registry.METRICS``; aligntune-eval provides them) -- score the generations against
the rows' references. ``compute_bleu`` / ``compute_rouge`` / ``compute_meteor`` / ``compute_bertscore``
/ ``compute_semantic_similarity`` / ``compute_codebleu`` add their metrics when set explicitly in the
config. Settings: ``max_samples_for_quality_metrics`` rows, ``eval_batch_size``, ``max_new_tokens`` and
``eval_temperature`` (0 = greedy) of ``evaluation``."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from aligntune_config import UnifiedConfig

logger = logging.getLogger("aligntune.backends.trl.evaluation")
REFERENCE_COLUMNS = ("reference", "answer", "completion", "chosen", "solution", "target")
SWITCHES = {"compute_bleu": ("bleu", "chrf"), "compute_rouge": ("rouge",), "compute_meteor": ("meteor",),
            "compute_bertscore": ("bertscore",), "compute_semantic_similarity": ("semantic_similarity",),
            "compute_codebleu": ("codebleu",)}
SCORED_FROM_LOSS = {"perplexity"}  # eval_perplexity comes from the evaluation loss


def metric_names(config: "UnifiedConfig") -> list[str]:
    ev = config.evaluation
    names: list[str] = []
    for flag, metrics in SWITCHES.items():
        if flag in ev.model_fields_set and getattr(ev, flag):
            names.extend(metrics)
    names.extend(ev.metrics or [])
    return [n for i, n in enumerate(names) if n not in names[:i] and n not in SCORED_FROM_LOSS]


def _reference(row: dict[str, Any]) -> Any:
    for column in REFERENCE_COLUMNS:
        value = row.get(column)
        if value is None:
            continue
        if isinstance(value, list) and value and isinstance(value[-1], dict):  # chat messages
            return str(value[-1].get("content", ""))
        return value
    messages = row.get("messages")
    if isinstance(messages, list) and messages and messages[-1].get("role") == "assistant":
        return str(messages[-1].get("content", ""))
    return None


def generate(model: Any, tokenizer: Any, prompts: list[Any], *, max_new_tokens: int, temperature: float,
             batch_size: int, seed: int) -> list[str]:
    """Completions of ``prompts`` (strings or chat messages), in eval mode, without touching the global
    random state."""
    import torch

    from .sampling import _as_text

    texts = [_as_text(tokenizer, p) for p in prompts]
    out: list[str] = []
    was_training = model.training
    side = tokenizer.padding_side
    model.eval()
    tokenizer.padding_side = "left"
    devices = [torch.cuda.current_device()] if torch.cuda.is_available() else []
    try:
        with torch.random.fork_rng(devices=devices), torch.no_grad():
            torch.manual_seed(seed)
            for start in range(0, len(texts), batch_size):
                batch = tokenizer(texts[start:start + batch_size], return_tensors="pt", padding=True,
                                  add_special_tokens=False).to(model.device)
                sampling = temperature > 0
                ids = model.generate(**batch, max_new_tokens=max_new_tokens, do_sample=sampling,
                                     temperature=temperature if sampling else None, pad_token_id=tokenizer.pad_token_id)
                out.extend(tokenizer.batch_decode(ids[:, batch["input_ids"].shape[1]:], skip_special_tokens=True))
    finally:
        tokenizer.padding_side = side
        model.train(was_training)
    return out


def generation_metrics(config: "UnifiedConfig", model: Any, tokenizer: Any, rows: Any) -> dict[str, float]:
    """``eval_<name>`` scores of the configured generation metrics on ``rows`` (a datasets.Dataset)."""
    names = metric_names(config)
    if not names:
        return {}
    if rows is None or len(rows) == 0:
        raise ValueError(f"evaluation.metrics {names} need evaluation data (eval_datasets or "
                         "evaluation.holdout_fraction)")
    from aligntune_config.registry import METRICS

    metrics = []
    for name in names:
        entry = METRICS.get(name)
        metrics.append((name, entry() if isinstance(entry, type) else entry))
    ev = config.evaluation
    picked = [rows[i] for i in range(min(len(rows), ev.max_samples_for_quality_metrics))]
    from .sampling import _prompt_of

    prompts = [_prompt_of(row) for row in picked]
    if any(p is None for p in prompts):
        raise ValueError("evaluation.metrics: the evaluation rows have no prompt or messages column to generate from")
    predictions = generate(model, tokenizer, prompts, max_new_tokens=ev.max_new_tokens,
                           temperature=ev.eval_temperature, batch_size=ev.eval_batch_size, seed=config.train.seed)
    references = [_reference(row) for row in picked]
    columns = {key: [row.get(key) for row in picked] for key in picked[0] if key not in ("prompt", "messages")}
    scores: dict[str, float] = {}
    for name, metric in metrics:
        result = metric.compute(predictions, references, **columns)
        for key, value in result.items():
            scores[f"eval_{key}"] = float(value)
        logger.info("eval %s: %s", name, result)
    return scores
