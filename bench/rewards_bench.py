"""Throughput of every AlignTune reward, and the HumanEval canonical solutions through the sandbox.

    uv run --frozen python bench/rewards_bench.py [--n 2000] [--models] [--workers N]

Completions are real text: Alpaca outputs (with their instructions as prompts and their outputs as
references) and GSM8K solutions for the math rewards, read from ../shared/data (synthetic sentences
when the folder is absent). As in GRPO, each prompt has a group of completions (2,000 / 200 = 10): the
first is the Alpaca output, the others drop different words of it, so the completions are distinct
and only prompts and references repeat. Model-based rewards run only with --models (CPU).

Each reward is timed --repeat times on the whole batch and the fastest run counts (wall clock, as
timeit does: on a shared machine the slower runs measure other processes); the CPU-time rate of that
run is printed beside it. Goals: >= 10,000 completions/s for rule-based rewards; <= 20 s for the 164
HumanEval runs on 2 cores.
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
        group = i // len(pairs)  # completions of one prompt differ: each drops other words of the output
        if group and len(words) > 2:
            step = 5 + group % 4
            words = [w for j, w in enumerate(words) if j % step != group % step]
        prompts.append(prompt)
        completions.append(" ".join(words))
        references.append(output)
    math_texts = [gsm[i % len(gsm)]["answer"] for i in range(n)]
    math_refs = [t.split("####")[-1].strip() for t in math_texts]
    return prompts, completions, references, math_texts, math_refs


def bench_rewards(n: int, models: bool, repeat: int = 3,
                  only: set[str] | None = None) -> list[tuple[str, str, float, float, float]]:
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
        if only is not None and name not in only:
            continue
        seen.add(real)
        if name in MODEL_BASED and (not models or name == "reward_model"):  # reward_model needs model_name
            rows.append((name, "model", float("nan"), float("nan"), float("nan")))
            continue
        fn = get_reward(name, **EXTRA_PARAMS.get(name, {}))
        texts, refs = (math_texts, math_refs) if name.startswith("math") else (completions, references)
        fn(texts[:20], prompts=prompts[:20], references=refs[:20])  # warm-up: lazy imports
        best, cpu = math.inf, math.inf
        for _ in range(repeat):
            start, start_cpu = time.perf_counter(), time.process_time()
            fn(texts, prompts=prompts, references=refs)
            elapsed = time.perf_counter() - start
            if elapsed < best:
                best, cpu = elapsed, time.process_time() - start_cpu
        kind = "model" if name in MODEL_BASED else "rule"
        rows.append((name, kind, n / best, best, n / max(cpu, 1e-9)))
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
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per reward; the fastest counts")
    parser.add_argument("--only", default=None, help="comma-separated reward names to time (default: all)")
    parser.add_argument("--no-humaneval", action="store_true", help="skip the sandbox timing")
    args = parser.parse_args()
    rows = bench_rewards(args.n, args.models, args.repeat, set(args.only.split(",")) if args.only else None)
    width = max(len(r[0]) for r in rows)
    print(f"{'reward':<{width}}  kind   completions/s   seconds   cpu-time rate   goal")
    for name, kind, rate, seconds, cpu_rate in rows:
        if math.isnan(rate):  # skipped
            print(f"{name:<{width}}  {kind:<5}  {'(--models)':>13}")
            continue
        goal = "ok" if kind != "rule" or rate >= 10_000 else "< 10k"
        print(f"{name:<{width}}  {kind:<5}  {rate:>13,.0f}   {seconds:7.3f}   {cpu_rate:>13,.0f}   {goal}")
    if args.no_humaneval:
        return
    he = bench_humaneval(args.workers)
    if he is None:
        print("HumanEval: data not found, skipped")
    else:
        passed, total, seconds = he
        print(f"\nHumanEval canonical solutions in the sandbox: {passed}/{total} passed in {seconds:.1f} s "
              f"on {args.workers or (os.cpu_count() or 1) + 1} workers, {os.cpu_count()} cores (goal <= 20 s on 2 cores)")


if __name__ == "__main__":
    main()
