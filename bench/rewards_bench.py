"""Throughput of every AlignTune reward, and the HumanEval canonical solutions through the sandbox.

    uv run --frozen python bench/rewards_bench.py [--n 2000] [--models] [--workers N]

Completions are real text: Alpaca outputs (with their instructions as prompts and their outputs,
lightly edited, as references) and GSM8K solutions for the math rewards, read from ../shared/data
(synthetic sentences when the folder is absent). Model-based rewards run only with --models (CPU).
Goals: >= 10,000 completions/s for rule-based rewards; <= 20 s for the 164 HumanEval runs on 2 cores.
"""

from __future__ import annotations

import argparse
import gzip
import json
import math
import os
import random
import time
from pathlib import Path

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
MODEL_BASED = {"semantic_similarity", "reward_model"}
SANDBOXED = {"code", "code_execution"}
EXTRA_PARAMS = {
    "json_schema": {"schema": {"type": "object"}},
    "regex": {"pattern": r"\d+"},
    "instruction_following": {"max_words": 120, "min_bullets": 1, "keywords": ["the"]},
    "custom": {"reward_function": "aligntune_rewards.rewards.safety:luhn_ok"},
}


def load_texts(n: int) -> tuple[list[str], list[str], list[str], list[str], list[str]]:
    rng = random.Random(0)
    try:
        alpaca = json.loads((DATA / "alpaca_200.json").read_text())
        pairs = [(r["instruction"] + ("\n" + r["input"] if r["input"] else ""), r["output"]) for r in alpaca]
        gsm = [json.loads(line) for line in (DATA / "gsm8k_test.jsonl").read_text().splitlines()]
    except OSError:
        words = ["the", "model", "answers", "questions", "about", "science", "history", "and", "code", "with", "clear", "steps"]
        pairs = [("Explain " + " ".join(rng.sample(words, 4)), " ".join(rng.choices(words, k=60)) + ".")
                 for _ in range(200)]
        gsm = [{"answer": f"{i} + {i} = {2 * i}\n#### {2 * i}"} for i in range(200)]
    prompts, completions, references = [], [], []
    for i in range(n):
        prompt, output = pairs[i % len(pairs)]
        words = output.split()
        if i % 3 == 1 and len(words) > 4:  # a variant: drop a few words
            words = [w for j, w in enumerate(words) if j % 7 != 3]
        prompts.append(prompt)
        completions.append(" ".join(words))
        references.append(output)
    math_texts = [gsm[i % len(gsm)]["answer"] for i in range(n)]
    math_refs = [t.split("####")[-1].strip() for t in math_texts]
    return prompts, completions, references, math_texts, math_refs


def bench_rewards(n: int, models: bool) -> list[tuple[str, str, float, float]]:
    from aligntune_config.registry import REWARDS
    from aligntune_rewards import get_reward, list_rewards

    prompts, completions, references, math_texts, math_refs = load_texts(n)
    rows = []
    seen = set()
    for name in sorted(list_rewards()):
        cls = REWARDS.get(name)
        real = getattr(cls, "name", name)
        if real in seen or real != name or name in SANDBOXED:
            continue  # aliases and the sandbox (timed separately)
        seen.add(real)
        if name in MODEL_BASED and (not models or name == "reward_model"):  # reward_model needs model_name
            rows.append((name, "model", float("nan"), float("nan")))
            continue
        fn = get_reward(name, **EXTRA_PARAMS.get(name, {}))
        texts, refs = (math_texts, math_refs) if name.startswith("math") else (completions, references)
        fn(texts[:20], prompts=prompts[:20], references=refs[:20])  # warm-up: lazy imports, caches
        start = time.perf_counter()
        fn(texts, prompts=prompts, references=refs)
        elapsed = time.perf_counter() - start
        kind = "model" if name in MODEL_BASED else "rule"
        rows.append((name, kind, n / elapsed, elapsed))
    return rows


def bench_humaneval(workers: int | None) -> tuple[int, int, float] | None:
    from aligntune_rewards import get_reward

    path = DATA / "HumanEval.jsonl.gz"
    if not path.exists():
        return None
    with gzip.open(path, "rt") as handle:
        rows = [json.loads(line) for line in handle]
    fn = get_reward("code_execution", max_workers=workers)
    start = time.perf_counter()
    scores = fn([r["prompt"] + r["canonical_solution"] for r in rows], prompts=[r["prompt"] for r in rows],
                test=[r["test"] for r in rows], entry_point=[r["entry_point"] for r in rows])
    return int(sum(scores)), len(rows), time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=2000, help="completions per reward")
    parser.add_argument("--models", action="store_true", help="also time the model-based rewards (CPU)")
    parser.add_argument("--workers", type=int, default=None, help="sandbox workers (default: CPU count + 1)")
    args = parser.parse_args()
    rows = bench_rewards(args.n, args.models)
    width = max(len(r[0]) for r in rows)
    print(f"{'reward':<{width}}  kind   completions/s   seconds   goal")
    for name, kind, rate, seconds in rows:
        if math.isnan(rate):  # skipped
            print(f"{name:<{width}}  {kind:<5}  {'(--models)':>13}")
            continue
        goal = "ok" if kind != "rule" or rate >= 10_000 else "< 10k"
        print(f"{name:<{width}}  {kind:<5}  {rate:>13,.0f}   {seconds:7.3f}   {goal}")
    he = bench_humaneval(args.workers)
    if he is None:
        print("HumanEval: data not found, skipped")
    else:
        passed, total, seconds = he
        print(f"\nHumanEval canonical solutions in the sandbox: {passed}/{total} passed in {seconds:.1f} s "
              f"on {args.workers or (os.cpu_count() or 1) + 1} workers, {os.cpu_count()} cores (goal <= 20 s on 2 cores)")


if __name__ == "__main__":
    main()
