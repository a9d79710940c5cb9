"""DPO evaluation of a trained policy against its reference model.

Two parts, both on preference rows (``prompt``, ``chosen``, ``rejected``):

* preference metrics: the summed log-probabilities of ``chosen`` and ``rejected`` under the policy and the
  reference give DPO's implicit rewards ``beta * (log pi - log pi_ref)``, the preference accuracy (share of
  pairs whose chosen reward exceeds the rejected one) and the mean reward margin (:class:`DPOMetrics`);
* win rate: the policy and the reference each generate for the prompts (same sampling settings and seed);
  a judge reward scores both; wins, ties and losses of the policy are counted (:class:`WinRate`). With
  ``few_shot_examples_text`` the same comparison runs again with that text before each prompt.

The reference is a model object, or -- for a PEFT policy with ``reference=None`` -- the policy with its
adapters disabled (the reference of LoRA DPO).
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from .preference import DPOMetrics
from .report import write_report
from .win_rate import WinRate

logger = logging.getLogger("aligntune.eval.dpo")


@contextlib.contextmanager
def reference_model(policy: Any, reference: Any = None) -> Iterator[Any]:
    """The reference model: ``reference`` when given, else the PEFT ``policy`` with adapters disabled."""
    if reference is not None:
        yield reference
        return
    if hasattr(policy, "disable_adapter"):
        with policy.disable_adapter():
            yield policy
        return
    raise ValueError("no reference model: pass reference= (a model object), or a PEFT policy whose base model "
                     "without adapters is the reference")


def _prompt_text(tokenizer: Any, prompt: Any) -> tuple[str, bool]:
    """Text of a prompt and whether special tokens should be added when tokenising it (string prompts
    are used as TRL's DPO uses them; conversations go through the chat template)."""
    if isinstance(prompt, str):
        return prompt, True
    return tokenizer.apply_chat_template(list(prompt), tokenize=False, add_generation_prompt=True), False


def _completion_text(completion: Any) -> str:
    if isinstance(completion, str):
        return completion
    return "".join(str(m.get("content", "")) for m in completion if m.get("role", "assistant") == "assistant")


def completion_logps(model: Any, tokenizer: Any, prompts: Sequence[Any], completions: Sequence[Any], *,
                     batch_size: int = 4, max_length: int | None = None, add_eos: bool = True) -> list[float]:
    """Summed log-probability of each completion (followed by EOS, as DPO trains it) given its prompt.

    Prompt and completion are tokenised apart and concatenated; sequences longer than ``max_length``
    (default: the model's context) lose prompt tokens from the start, then completion tokens from the end.
    """
    import torch

    from .models import context_length

    if len(prompts) != len(completions):
        raise ValueError(f"{len(prompts)} prompts but {len(completions)} completions")
    limit = max_length or context_length(model, tokenizer)
    eos = tokenizer.eos_token_id
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else (eos if eos is not None else 0)
    pairs = []
    for prompt, completion in zip(prompts, completions):
        text, special = _prompt_text(tokenizer, prompt)
        p_ids = tokenizer(text, add_special_tokens=special)["input_ids"]
        c_ids = tokenizer(_completion_text(completion), add_special_tokens=False)["input_ids"]
        if add_eos and eos is not None:
            c_ids = c_ids + [eos]
        c_ids = c_ids[:limit - 1]
        p_ids = p_ids[-(limit - len(c_ids)):] if p_ids else p_ids
        pairs.append((p_ids, c_ids))
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    out: list[float] = []
    try:
        for start in range(0, len(pairs), batch_size):
            batch = pairs[start:start + batch_size]
            width = max(len(p) + len(c) for p, c in batch)
            ids = torch.full((len(batch), width), pad, dtype=torch.long)
            attention = torch.zeros((len(batch), width), dtype=torch.long)
            scored = torch.zeros((len(batch), width), dtype=torch.bool)
            for i, (p, c) in enumerate(batch):
                ids[i, :len(p) + len(c)] = torch.tensor(p + c, dtype=torch.long)
                attention[i, :len(p) + len(c)] = 1
                scored[i, len(p):len(p) + len(c)] = True
            ids, attention, scored = ids.to(device), attention.to(device), scored.to(device)
            with torch.no_grad():
                logits = model(input_ids=ids, attention_mask=attention).logits[:, :-1].float()
            logps = torch.log_softmax(logits, dim=-1).gather(-1, ids[:, 1:].unsqueeze(-1)).squeeze(-1)
            out.extend((logps * scored[:, 1:]).sum(-1).tolist())
    finally:
        model.train(was_training)
    return out


def preference_metrics(policy: Any, tokenizer: Any, rows: Sequence[Mapping[str, Any]], *, reference: Any = None,
                       beta: float = 0.1, reference_free: bool = False, batch_size: int = 4) -> dict[str, float]:
    """Preference accuracy, mean reward margin and mean implicit rewards of ``policy`` on preference rows.
    ``reference_free``: the reference log-probabilities are 0 (reference-free DPO)."""
    prompts = [r.get("prompt", "") for r in rows]
    chosen = [r["chosen"] for r in rows]
    rejected = [r["rejected"] for r in rows]
    pc = completion_logps(policy, tokenizer, prompts, chosen, batch_size=batch_size)
    pr = completion_logps(policy, tokenizer, prompts, rejected, batch_size=batch_size)
    if reference_free:
        rc = rr = [0.0] * len(rows)
    else:
        with reference_model(policy, reference) as ref:
            rc = completion_logps(ref, tokenizer, prompts, chosen, batch_size=batch_size)
            rr = completion_logps(ref, tokenizer, prompts, rejected, batch_size=batch_size)
    return DPOMetrics(beta=beta).compute([], chosen_logps=pc, rejected_logps=pr, ref_chosen_logps=rc,
                                         ref_rejected_logps=rr)


def generate(model: Any, tokenizer: Any, prompts: Sequence[Any], generation: Mapping[str, Any], *,
             batch_size: int = 8, seed: int = 0) -> list[str]:
    """Generations with ``generation`` = ``{temperature, top_p, top_k, max_new_tokens}`` (temperature 0 or
    absent: greedy). String prompts are used as they are; conversations go through the chat template."""
    from .evaluator import UnifiedEvaluator

    known = {"temperature", "top_p", "top_k", "max_new_tokens"}
    unknown = set(generation) - known
    if unknown:
        raise ValueError(f"generation settings {sorted(unknown)} are not used here (valid: {sorted(known)})")
    temperature = float(generation.get("temperature") or 0.0)
    extra: dict[str, Any] = {}
    if temperature > 0:
        if generation.get("top_p") is not None:
            extra["top_p"] = float(generation["top_p"])
        if generation.get("top_k"):
            extra["top_k"] = int(generation["top_k"])
    texts = [_prompt_text(tokenizer, p)[0] for p in prompts]
    evaluator = UnifiedEvaluator(model, tokenizer=tokenizer, max_new_tokens=int(generation.get("max_new_tokens") or 64),
                                 temperature=temperature, batch_size=batch_size, seed=seed, use_chat_template=False,
                                 generation_kwargs=extra, show_progress=False)
    was_training, padding_side = model.training, tokenizer.padding_side
    try:
        return evaluator.generate(texts)
    finally:  # the caller's model and tokenizer are left as they were
        model.train(was_training)
        tokenizer.padding_side = padding_side


def with_examples(prompt: Any, examples_text: str) -> Any:
    """``prompt`` with few-shot examples before it (prepended to the first user turn of a conversation)."""
    if isinstance(prompt, str):
        return examples_text.rstrip() + "\n\n" + prompt
    messages = [dict(m) for m in prompt]
    for m in messages:
        if m.get("role") == "user":
            m["content"] = examples_text.rstrip() + "\n\n" + str(m.get("content", ""))
            break
    return messages


def win_rate_against_reference(policy: Any, tokenizer: Any, prompts: Sequence[Any], judge: Any, *,
                               reference: Any = None, generation: Mapping[str, Any] | None = None,
                               batch_size: int = 8, seed: int = 0) -> tuple[dict[str, float], list[dict[str, Any]]]:
    """Generate from the policy and the reference on ``prompts``, judge both; returns the
    :class:`WinRate` figures and one sample per prompt (both generations and both scores)."""
    metric = judge if isinstance(judge, WinRate) else WinRate(judge)
    settings = dict(generation or {})
    policy_out = generate(policy, tokenizer, prompts, settings, batch_size=batch_size, seed=seed)
    with reference_model(policy, reference) as ref:
        reference_out = generate(ref, tokenizer, prompts, settings, batch_size=batch_size, seed=seed)
    texts = [_prompt_text(tokenizer, p)[0] for p in prompts]
    result = metric.compute(policy_out, None, baseline=reference_out, prompts=texts)
    p_scores, r_scores = metric.last_scores
    samples = [{"prompt": t, "policy": a, "reference": b, "policy_score": sa, "reference_score": sb}
               for t, a, b, sa, sb in zip(texts, policy_out, reference_out, p_scores, r_scores)]
    return result, samples


def evaluate_dpo(policy: Any, tokenizer: Any, dataset: Any, *, reference: Any = None, judge: Any = None,
                 beta: float = 0.1, reference_free: bool = False, max_samples: int | None = None,
                 zero_shot_max_samples: int = 50, few_shot_max_samples: int = 30,
                 few_shot_examples_text: str | None = None, generation: Mapping[str, Any] | None = None,
                 batch_size: int = 8, seed: int = 0, output_dir: str | Path | None = None) -> dict[str, Any]:
    """The DPO evaluation of ``policy`` on preference rows; returns the report (``metrics`` flat).

    ``max_samples`` rows give the preference metrics; the first ``zero_shot_max_samples`` prompts give the
    win rate (``win_rate``, ``wins``, ``ties``, ``losses``, ``policy_reward``, ``reference_reward``); with
    ``few_shot_examples_text`` the first ``few_shot_max_samples`` prompts, preceded by that text, give the
    same figures prefixed ``few_shot_``. Without a ``judge`` the win rate is skipped (recorded in the
    report's ``skipped``). ``output_dir``: ``report.json``, ``report.md`` and ``predictions.jsonl``.
    """
    from .evaluator import rows_of

    rows = rows_of(dataset)
    missing = {"prompt", "chosen", "rejected"} - set(rows[0] if rows else ())
    if not rows or missing:
        raise ValueError(f"DPO evaluation needs preference rows with prompt, chosen and rejected; "
                         f"got {len(rows)} rows{' missing ' + ', '.join(sorted(missing)) if rows else ''}")
    pairs = rows[:max_samples] if max_samples is not None else rows
    timing: dict[str, float] = {}
    t0 = time.perf_counter()
    metrics = preference_metrics(policy, tokenizer, pairs, reference=reference, beta=beta,
                                 reference_free=reference_free, batch_size=batch_size)
    timing["preference_s"] = time.perf_counter() - t0
    skipped: dict[str, str] = {}
    samples: list[dict[str, Any]] = []
    counts = {"num_pairs": len(pairs)}
    if judge is None:
        skipped["win_rate"] = "no judge reward given (set rewards: to judge the policy against the reference)"
        logger.warning("DPO evaluation: %s", skipped["win_rate"])
    else:
        if reference_free and reference is None and not hasattr(policy, "disable_adapter"):
            raise ValueError("reference-free DPO has no reference model to generate from: pass reference=")
        judge = judge if isinstance(judge, WinRate) else WinRate(judge)
        runs = [("", [r.get("prompt", "") for r in rows[:zero_shot_max_samples]])]
        if few_shot_examples_text:
            runs.append(("few_shot_", [with_examples(r.get("prompt", ""), few_shot_examples_text)
                                       for r in rows[:few_shot_max_samples]]))
        for prefix, prompts in runs:
            t0 = time.perf_counter()
            result, rows_out = win_rate_against_reference(policy, tokenizer, prompts, judge, reference=reference,
                                                          generation=generation, batch_size=batch_size, seed=seed)
            timing[f"{prefix or 'zero_shot_'}win_rate_s"] = time.perf_counter() - t0
            result["reference_reward"] = result.pop("baseline_reward")
            metrics.update({prefix + k: v for k, v in result.items()})
            counts[f"num_{prefix or 'zero_shot_'}prompts"] = len(prompts)
            samples.extend({"setting": (prefix or "zero_shot_").rstrip("_"), **s} for s in rows_out)
    report = {"model": _name(policy), "evaluation": "dpo", "beta": beta, "reference_free": reference_free,
              **counts, "generation": dict(generation or {}), "metrics": metrics, "skipped": skipped,
              "errors": {}, "timing_s": timing}
    if output_dir is not None:
        report["files"] = write_report(report, output_dir, samples)
        logger.info("DPO evaluation report written to %s", output_dir)
    return report


def _name(model: Any) -> str:
    config = getattr(model, "config", None)
    return getattr(config, "_name_or_path", "") or type(model).__name__
