"""NM-GRPO and GRPO trained on the same job, with the held-out mean reward before and after each.

    uv run --frozen python bench/nmgrpo_learning.py [--model embedded:tiny-random] [--steps 40]
                                                    [--coefficient 0.1] [--phi best_phi.json]

The job: builtin:arithmetic prompts (train split), rewards math_accuracy + 0.5 x length (full score for
[--min-chars, 400] characters, linear below: the signal a tiny random model can learn), LoRA, the same seed, batch and lengths for both algorithms; the only difference is ``algo``
(and NM-GRPO's mirror map: random from ``mirror_seed`` 0, or ``--phi``, e.g. a Meta-ES best φ). Before and
after training, the model generates on 32 held-out prompts (test split, 2 samples each, temperature 1,
the same sampling seed) and the configured rewards score them (aligntune.meta_es_run.score, the fitness
Meta-ES uses). Prints one JSON line per algorithm with mean reward before/after and seconds.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def job(algo: str, args: argparse.Namespace, out: str) -> dict[str, Any]:
    mirror = {"mirror_coefficient": args.coefficient, "units_per_group": 4}
    if args.phi:
        mirror["phi_path"] = args.phi
    return {
        "algo": algo, "backend": "trl",
        "model": {"name_or_path": args.model, "precision": "fp32", "use_peft": True, "lora_r": 16, "lora_alpha": 32,
                  "gradient_checkpointing": False},
        "datasets": [{"name": "builtin:arithmetic", "split": "train", "max_samples": 512}],
        "rewards": ["math_accuracy", f"length:weight=0.5:min_length={args.min_chars}:max_length=400:unit=chars"],
        "train": {"per_device_batch_size": 8, "num_generations": 4, "max_steps": args.steps,
                  "learning_rate": args.lr, "max_completion_length": args.completion_length,
                  "mask_truncated_completions": False, "temperature": 1.0, "save_strategy": "no",
                  "eval_strategy": "no", "logging_steps": 5, "seed": 0},
        **({"mirror": mirror} if algo == "nmgrpo" else {}),
        "meta_es": {"eval_samples": 32, "eval_k": 2, "eval_temperature": 1.0,
                    "eval_max_tokens": args.completion_length},
        "logging": {"output_dir": out, "loggers": []},
    }


def run(algo: str, args: argparse.Namespace) -> dict[str, Any]:
    from aligntune.meta_es_run import fitness_rewards, score
    from aligntune.run import build_trainer
    from aligntune_config import ConfigLoader
    from aligntune_data import format_for_algorithm, load_dataset
    from aligntune_rewards import CompositeReward

    with tempfile.TemporaryDirectory() as out:
        config = ConfigLoader.load(job(algo, args, out))
        held_out = load_dataset([{"name": "builtin:arithmetic", "split": "test", "max_samples": 32}],
                                format=format_for_algorithm(algo))
        reward = CompositeReward(fitness_rewards(config))
        trainer = build_trainer(config)
        model, tokenizer = trainer.trainer.model, trainer.tokenizer
        before = score(config, model, tokenizer, held_out, reward)
        start = time.perf_counter()
        trainer.train()
        seconds = time.perf_counter() - start
        after = score(config, model, tokenizer, held_out, reward)
        logged = [row for row in trainer.trainer.state.log_history if "mirror/bregman" in row]
    return {"algo": algo, "model": args.model, "steps": args.steps, "mean_reward_before": round(before, 4),
            "mean_reward_after": round(after, 4), "train_seconds": round(seconds, 1),
            **({"mirror_bregman_last": logged[-1]["mirror/bregman"]} if logged else {})}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="embedded:tiny-random")
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--lr", type=float, default=5e-3)
    parser.add_argument("--completion-length", type=int, default=48)
    parser.add_argument("--coefficient", type=float, default=0.1)
    parser.add_argument("--min-chars", type=int, default=120, help="length reward: full score from this many characters")
    parser.add_argument("--phi", default=None, help="mirror map JSON (e.g. a Meta-ES best_phi.json)")
    parser.add_argument("--algos", nargs="+", default=["grpo", "nmgrpo"])
    args = parser.parse_args()
    for algo in args.algos:
        print(json.dumps(run(algo, args)), flush=True)


if __name__ == "__main__":
    main()
