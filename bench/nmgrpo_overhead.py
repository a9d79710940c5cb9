"""NM-GRPO's time per training step over GRPO's on the same job, through the real TRL engine.

    uv run --frozen python bench/nmgrpo_overhead.py [--model embedded:tiny-random] [--steps 12] [--repeats 3]
                                                    [--kl-coef 0.1 0.0] [--units 4] [--maths-only]

Both runs use the same config (model, LoRA, builtin:arithmetic prompts, math_accuracy + length rewards,
batch, lengths, seed); the only difference is ``algo`` (grpo vs nmgrpo, λ = 0.1). Every optimizer step is
timed with a callback from on_step_begin to on_step_end, in wall-clock seconds (perf_counter) and in CPU
seconds of the process (process_time: robust to other processes sharing the machine; run with
OMP_NUM_THREADS=1 --threads 1 so it is not inflated by spinning threads); the first step of each run is
warm-up and dropped; the runs alternate GRPO / NM-GRPO ``repeats`` times and the medians are compared. With
``kl_coef`` > 0 both compute the reference log-probabilities (TRL's KL term), so the difference is the
Bregman term alone; with ``kl_coef`` = 0 GRPO has no reference pass and NM-GRPO adds one.

``--maths-only`` also times forward + backward of the per-token losses alone (no model) on 16,384 random
tokens, as before. Prints one JSON line per setting.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def _step_timer() -> Any:
    from transformers import TrainerCallback

    class StepTimer(TrainerCallback):
        """Wall-clock and CPU (process) seconds of every optimizer step."""

        def __init__(self) -> None:
            self.times: list[tuple[float, float]] = []
            self._start = (0.0, 0.0)

        def on_step_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            self._start = (time.perf_counter(), time.process_time())

        def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            self.times.append((time.perf_counter() - self._start[0], time.process_time() - self._start[1]))

    return StepTimer()


def job(algo: str, args: argparse.Namespace, kl_coef: float, out: str) -> dict[str, Any]:
    return {
        "algo": algo, "backend": "trl",
        "model": {"name_or_path": args.model, "precision": "fp32", "use_peft": True, "lora_r": 8,
                  "gradient_checkpointing": False},
        "datasets": [{"name": "builtin:arithmetic", "split": "train", "max_samples": 64}],
        # the length term differs within groups (tiny-random's completions vary in characters): real gradients
        "rewards": ["math_accuracy", "length:weight=0.2:min_length=120:max_length=400:unit=chars"],
        "train": {"per_device_batch_size": args.batch, "num_generations": args.batch, "max_steps": args.steps,
                  "learning_rate": 1e-4, "max_completion_length": args.completion_length,
                  "mask_truncated_completions": False, "kl_coef": kl_coef, "save_strategy": "no",
                  "eval_strategy": "no", "logging_steps": 1, "seed": 0},
        **({"mirror": {"mirror_coefficient": 0.1, "units_per_group": args.units}} if algo == "nmgrpo" else {}),
        "logging": {"output_dir": out, "loggers": []},
    }


def time_run(algo: str, args: argparse.Namespace, kl_coef: float) -> list[tuple[float, float]]:
    from aligntune.run import build_trainer
    from aligntune_config import ConfigLoader

    with tempfile.TemporaryDirectory() as out:
        timer = _step_timer()
        trainer = build_trainer(ConfigLoader.load(job(algo, args, kl_coef, out)), callbacks=[timer])
        trainer.train()
    return timer.times[1:]


def engine(args: argparse.Namespace) -> None:
    import torch

    torch.set_num_threads(args.threads) if args.threads else None
    for kl_coef in args.kl_coef:
        times: dict[str, list[tuple[float, float]]] = {"grpo": [], "nmgrpo": []}
        for _ in range(args.repeats):
            for algo in ("grpo", "nmgrpo"):
                times[algo].extend(time_run(algo, args, kl_coef))
        wall = {a: statistics.median(t[0] for t in v) for a, v in times.items()}
        cpu = {a: statistics.median(t[1] for t in v) for a, v in times.items()}
        print(json.dumps({"setting": "engine", "model": args.model, "kl_coef": kl_coef, "units": args.units,
                          "batch": args.batch, "completion_length": args.completion_length,
                          "steps_timed": len(times["grpo"]), "grpo_wall_s": round(wall["grpo"], 4),
                          "nmgrpo_wall_s": round(wall["nmgrpo"], 4), "wall_ratio": round(wall["nmgrpo"] / wall["grpo"], 3),
                          "grpo_cpu_s": round(cpu["grpo"], 4), "nmgrpo_cpu_s": round(cpu["nmgrpo"], 4),
                          "cpu_ratio": round(cpu["nmgrpo"] / cpu["grpo"], 3)}), flush=True)


def maths_only(args: argparse.Namespace) -> None:
    import torch
    from aligntune_algos import grpo_math as G
    from aligntune_algos import mirror as M

    def timed(fn: Any) -> float:
        fn()
        start = time.perf_counter()
        for _ in range(20):
            fn()
        return (time.perf_counter() - start) / 20

    gen = torch.Generator().manual_seed(0)
    logps = (-torch.rand((32, 512), generator=gen) * 5).requires_grad_(True)
    ref, old = logps.detach() + 0.1 * torch.randn((32, 512), generator=gen), logps.detach()
    adv, mask = torch.randn(32, generator=gen), torch.ones(32, 512)

    def grpo() -> None:
        loss = G.clipped_objective(G.token_ratio(logps, old), adv, 0.2, 0.2) + 0.04 * G.k3_kl(logps, ref)
        G.aggregate(loss, mask, "grpo").backward()

    mirror = M.MirrorMap.random(args.units, 0.01, seed=0)

    def nmgrpo() -> None:
        loss = M.nm_grpo_per_token_loss(G.token_ratio(logps, old), adv, logps, ref, mirror, 1e-4)
        G.aggregate(loss, mask, "grpo").backward()

    base, nm = timed(grpo), timed(nmgrpo)
    print(json.dumps({"setting": "maths only", "tokens": logps.numel(), "units": args.units,
                      "grpo_ms": round(base * 1e3, 3), "nmgrpo_ms": round(nm * 1e3, 3)}), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="embedded:tiny-random")
    parser.add_argument("--steps", type=int, default=12)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--completion-length", type=int, default=32)
    parser.add_argument("--kl-coef", type=float, nargs="+", default=[0.1, 0.0])
    parser.add_argument("--units", type=int, default=4)
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    parser.add_argument("--maths-only", action="store_true")
    args = parser.parse_args()
    if args.maths_only:
        maths_only(args)
    engine(args)


if __name__ == "__main__":
    main()
