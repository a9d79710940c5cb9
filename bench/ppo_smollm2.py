"""PPO on the real SmolLM2-135M-Instruct (embedded:smollm2-135m-instruct) with LoRA, on CPU.

Prompts: builtin:arithmetic (word problems with a numeric answer). Reward: ``math`` (the final answer is
right, 0/1) + 0.5 x ``conciseness:target_words=25`` (shorter answers, no filler) from aligntune-rewards,
minus ``missing_eos_penalty`` for responses cut at ``response_length``. The same held-out prompts are
sampled before and after training with the same sampling settings and the same seed; the script prints
the mean reward (and each component) before and after, the per-step training curve and the wall time,
and writes them to --output (default output/ppo_smollm2.json).

Run: uv run python bench/ppo_smollm2.py [--steps 12] [--batch 8] [--response-length 48]
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")

REWARDS = ["math:weight=1.0", "conciseness:weight=0.5:target_words=25"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=12)
    parser.add_argument("--batch", type=int, default=8, help="prompts per PPO step (rollout_batch_size)")
    parser.add_argument("--minibatch", type=int, default=4)
    parser.add_argument("--response-length", type=int, default=48)
    parser.add_argument("--lr", type=float, default=3e-4)
    parser.add_argument("--eval-prompts", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--output", default="output/ppo_smollm2.json")
    args = parser.parse_args()

    import torch

    torch.set_num_threads(args.threads)
    from aligntune_backends.ppo import PPOTrainer
    from aligntune_config import UnifiedConfig
    from aligntune_data import format_for_algorithm, load_dataset
    from aligntune_rewards import CompositeReward

    config = UnifiedConfig(
        algo="ppo", backend="trl", datasets=["builtin:arithmetic"], rewards=REWARDS,
        model={"name_or_path": "embedded:smollm2-135m-instruct", "use_peft": True, "precision": "fp32"},
        train={"rollout_batch_size": args.batch, "per_device_batch_size": args.minibatch,
               "max_steps": args.steps, "learning_rate": args.lr, "response_length": args.response_length,
               "num_ppo_epochs": 2, "temperature": 0.7, "top_p": 1.0, "missing_eos_penalty": 0.5,
               "stop_token": "eos", "max_prompt_length": 128, "kl_coef": 0.05, "adap_kl_ctrl": False,
               "save_strategy": "no", "eval_strategy": "no", "seed": 0},
        logging={"output_dir": "output/ppo_smollm2", "loggers": ["jsonl"], "disable_tqdm": True})
    rows = load_dataset(list(config.datasets), format=format_for_algorithm("ppo"), data_seed=0)
    rows = rows.map(lambda r: {"prompt": [{"role": "user", "content": r["prompt"] + " Answer briefly."}]})
    held_out = rows.select(range(args.eval_prompts))
    train_rows = rows.select(range(args.eval_prompts, len(rows)))
    reward = CompositeReward(list(config.rewards))
    components: dict[str, list[float]] = {}

    def reward_fn(completions, **kwargs):
        values = reward(completions, **kwargs)
        for name, scores in getattr(reward, "last_components", {}).items():
            components.setdefault(name, []).extend(scores)
        return values

    start = time.perf_counter()
    trainer = PPOTrainer(config, train_rows, reward_fn=reward_fn, eval_dataset=held_out)
    loaded = time.perf_counter() - start

    def evaluate(phase: str) -> dict[str, float]:
        torch.manual_seed(1234)  # same sampling randomness before and after
        components.clear()
        t0 = time.perf_counter()
        metrics = trainer.evaluate()
        metrics.update({f"eval_{k}_mean": sum(v) / len(v) for k, v in components.items() if v})
        metrics["seconds"] = time.perf_counter() - t0
        print(f"{phase}: " + ", ".join(f"{k}={v:.3f}" for k, v in metrics.items()), flush=True)
        return metrics

    before = evaluate("before")
    t0 = time.perf_counter()
    summary = trainer.train()
    train_seconds = time.perf_counter() - t0
    for h in trainer.history:
        print(f"step {h['step']:>2}: reward {h['reward_mean']:.3f}  kl {h['kl']:.3f}  entropy {h['entropy']:.2f}  "
              f"length {h['response_length']:.1f}  eos {h['eos_fraction']:.2f}", flush=True)
    after = evaluate("after")
    total = time.perf_counter() - start
    print(f"mean reward on {args.eval_prompts} held-out prompts: before {before['eval_reward_mean']:.3f} -> "
          f"after {after['eval_reward_mean']:.3f}; KL to the reference after {after['eval_kl']:.3f}")
    print(f"wall time: load {loaded:.0f} s, train {train_seconds:.0f} s ({args.steps} steps, "
          f"{train_seconds / args.steps:.1f} s/step), total {total:.0f} s, {args.threads} threads")
    out = pathlib.Path(args.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"args": vars(args), "rewards": REWARDS, "before": before, "after": after,
                               "history": trainer.history, "train_seconds": train_seconds, "load_seconds": loaded,
                               "total_seconds": total, "summary": {k: v for k, v in summary.items()
                                                                   if isinstance(v, (int, float))}}, indent=1))
    print(f"written to {out}")


if __name__ == "__main__":
    main()
