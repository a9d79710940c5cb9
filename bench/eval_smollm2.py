"""Evaluate embedded:smollm2-135m-instruct with the UnifiedEvaluator: 50 GSM8K test questions (math
accuracy) and 50 alpaca_200 rows (ROUGE, BLEU, BERTScore, semantic similarity). Writes the reports under
--output (default ./output/eval_smollm2) and prints the figures and the runtime.

Run: uv run python bench/eval_smollm2.py [--n 50] [--max-new-tokens 256]
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")
DATA = pathlib.Path(__file__).resolve().parents[1].parent / "shared" / "data"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=50)
    parser.add_argument("--max-new-tokens", type=int, default=256)
    parser.add_argument("--output", default="output/eval_smollm2")
    args = parser.parse_args()

    from aligntune_backends.models import load_model_and_tokenizer
    from aligntune_config import ModelConfig
    from aligntune_eval import UnifiedEvaluator

    start = time.perf_counter()
    model, tokenizer = load_model_and_tokenizer(
        ModelConfig(name_or_path="embedded:smollm2-135m-instruct", precision="fp32"), for_training=False)
    loaded = time.perf_counter() - start

    gsm8k = [json.loads(line) for line in (DATA / "gsm8k_test.jsonl").read_text().splitlines()[: args.n]]
    math_rows = [{"prompt": row["question"] + "\nGive the final answer after '####'.",
                  "reference": row["answer"].split("####")[-1].strip()} for row in gsm8k]
    alpaca = json.loads((DATA / "alpaca_200.json").read_text())[: args.n]
    text_rows = [{"prompt": row["instruction"] + (f"\n\n{row['input']}" if row.get("input") else ""),
                  "reference": row["output"]} for row in alpaca]

    results = {}
    for name, rows, metrics, tokens in (
        ("gsm8k", math_rows, ["math_accuracy"], args.max_new_tokens),
        ("alpaca", text_rows, ["rouge", "bleu", "bertscore", "semantic_similarity"], args.max_new_tokens // 2),
    ):
        t = time.perf_counter()
        evaluator = UnifiedEvaluator(model, rows, metrics, tokenizer=tokenizer, max_new_tokens=tokens, temperature=0.0,
                                     batch_size=10, output_dir=pathlib.Path(args.output) / name)
        results[name] = (evaluator.evaluate(), time.perf_counter() - t)
    print(f"model load {loaded:.1f} s")
    for name, (scores, seconds) in results.items():
        shown = ", ".join(f"{k}={v:.4f}" for k, v in sorted(scores.items()) if isinstance(v, float))
        print(f"{name}: {shown}  ({seconds:.0f} s)")
    print(f"reports in {args.output}/{{gsm8k,alpaca}}/report.md")


if __name__ == "__main__":
    main()
