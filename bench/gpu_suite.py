"""GPU suite: SFT, DPO and GRPO on a ~0.5B model, TRL vs Unsloth, with and without vLLM generation;
tokens/s and peak GPU memory per run. Called by bench/gpu_suite.sh (see docs/benchmarks.md).

Every combination runs in its own Python process (Unsloth patches transformers/TRL on import, and peak
memory must be measured from a clean CUDA context). Results: one JSON line per run in
<output>/results.jsonl and a table on standard output.

    python bench/gpu_suite.py --output bench_out/gpu            # the whole matrix
    python bench/gpu_suite.py --one '{"algo": "sft", "backend": "trl", "vllm": false}' --output bench_out/gpu
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

MODEL = "Qwen/Qwen2.5-0.5B-Instruct"
DATASETS = {"sft": "builtin:instructions", "dpo": "builtin:arithmetic_preferences", "grpo": "builtin:arithmetic"}


def require_cuda() -> None:
    try:
        import torch
    except ImportError:
        sys.exit("gpu_suite: torch is not installed")
    if not torch.cuda.is_available():
        sys.exit("gpu_suite: no CUDA device here; this suite measures GPU throughput and memory and only runs on a "
                 "machine with an NVIDIA GPU (nothing was measured)")


def matrix(algos: list[str], backends: list[str], vllm_modes: list[bool]) -> list[dict]:
    runs = []
    for algo in algos:
        for backend in backends:
            for vllm in vllm_modes:
                if vllm and algo != "grpo":
                    continue  # vLLM generates rollouts: only the online algorithm uses it
                runs.append({"algo": algo, "backend": backend, "vllm": vllm})
    return runs


def config_for(run: dict, model: str, steps: int, output: Path) -> dict:
    algo, backend = run["algo"], run["backend"]
    train = {"max_steps": steps, "per_device_batch_size": 8, "learning_rate": 1e-5 if algo != "grpo" else 1e-6,
             "logging_steps": 1, "save_strategy": "no", "eval_strategy": "no", "seed": 42}
    dataset = DATASETS[algo]
    if algo == "grpo":
        train.update({"num_generations": 8, "max_completion_length": 128, "max_prompt_length": 256})
        if run["vllm"]:
            train.update({"use_vllm": True, "vllm_mode": "colocate", "vllm_gpu_memory_utilization": 0.3})
    return {
        "algo": algo, "backend": backend,
        "model": {"name_or_path": model, "precision": "bf16", "use_peft": True, "max_seq_length": 1024},
        "datasets": [f"{dataset}#max=512"], "rewards": ["math_accuracy"] if algo == "grpo" else [],
        "train": train,
        "logging": {"output_dir": str(output / f"{algo}-{backend}-{'vllm' if run['vllm'] else 'hf'}"), "loggers": ["jsonl"]},
    }


def run_one(run: dict, model: str, steps: int, output: Path) -> dict:
    """Train one combination in this process; tokens/s from the trainer's own token count."""
    require_cuda()
    import torch
    from aligntune.run import build_trainer
    from aligntune_config import UnifiedConfig

    config = UnifiedConfig(**config_for(run, model, steps, output))
    torch.cuda.reset_peak_memory_stats()
    trainer = build_trainer(config)
    start = time.perf_counter()
    metrics = trainer.train()
    seconds = time.perf_counter() - start
    rows = [json.loads(line) for line in (Path(config.logging.output_dir) / "metrics.jsonl").read_text().splitlines()]
    tokens = max((row.get("num_tokens", 0) for row in rows), default=0)
    free, total = torch.cuda.mem_get_info()
    return {**run, "model": model, "steps": steps, "seconds": round(seconds, 2),
            "tokens": tokens, "tokens_per_s": round(tokens / seconds, 1) if tokens else None,
            "peak_allocated_gib": round(torch.cuda.max_memory_allocated() / 2**30, 2),
            "device_used_gib": round((total - free) / 2**30, 2),
            "train_loss": metrics.get("train_loss"), "gpu": torch.cuda.get_device_name(0)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=MODEL)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--algos", default="sft,dpo,grpo")
    parser.add_argument("--backends", default="trl,unsloth")
    parser.add_argument("--vllm", default="off,on", help="off, on or off,on (GRPO only)")
    parser.add_argument("--output", type=Path, default=Path("bench_out/gpu"))
    parser.add_argument("--one", help="run one combination (JSON) in this process")
    args = parser.parse_args()
    require_cuda()
    args.output.mkdir(parents=True, exist_ok=True)
    if args.one:
        print("RESULT " + json.dumps(run_one(json.loads(args.one), args.model, args.steps, args.output)), flush=True)
        return 0
    runs = matrix(args.algos.split(","), args.backends.split(","), [m == "on" for m in args.vllm.split(",")])
    results = []
    for run in runs:
        cmd = [sys.executable, __file__, "--one", json.dumps(run), "--model", args.model, "--steps", str(args.steps),
               "--output", str(args.output)]
        print(f"== {run['algo']} on {run['backend']}{' + vLLM' if run['vllm'] else ''}", flush=True)
        out = subprocess.run(cmd, capture_output=True, text=True, env=os.environ.copy(), check=False)
        line = next((x for x in out.stdout.splitlines() if x.startswith("RESULT ")), None)
        result = json.loads(line[7:]) if line else {**run, "error": (out.stderr or out.stdout)[-800:]}
        results.append(result)
        with (args.output / "results.jsonl").open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(result) + "\n")
    print(f"\n{'algo':6} {'backend':8} {'vLLM':5} {'tokens/s':>10} {'peak alloc GiB':>15} {'device GiB':>11}  note")
    for r in results:
        note = r.get("error", "").strip().splitlines()[-1][:60] if r.get("error") else r.get("gpu", "")
        print(f"{r['algo']:6} {r['backend']:8} {'yes' if r['vllm'] else 'no':5} {r.get('tokens_per_s', '-')!s:>10} "
              f"{r.get('peak_allocated_gib', '-')!s:>15} {r.get('device_used_gib', '-')!s:>11}  {note}")
    return 0 if all("error" not in r for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
