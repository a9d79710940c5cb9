"""A custom reward, two ways: registered by name in the RewardRegistry (usable from YAML and the CLI as
``--reward brevity``), and passed as a plain function (``type: custom``). GRPO on built-in arithmetic.

    uv run python examples/custom_reward.py                  # SmolLM2-135M-Instruct, 30 steps
    uv run python examples/custom_reward.py --model embedded:tiny-random --max-steps 2
"""

from __future__ import annotations

import argparse
import re

from aligntune import RewardRegistry, create_rl_trainer


def brevity(completions, **_):
    """1 for answers of at most 8 words, falling linearly to 0 at 24 words."""
    return [max(0.0, min(1.0, (24 - len(c.split())) / 16)) for c in completions]


def ends_with_number(text, reference=None, **_):
    """1 when the completion's last token is a number (the answer the model commits to), else 0."""
    return 1.0 if re.search(r"-?\d+(\.\d+)?\s*\.?\s*$", text) else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="embedded:smollm2-135m-instruct")
    parser.add_argument("--max-steps", type=int, default=30)
    parser.add_argument("--output-dir", default="./output/custom_reward")
    args = parser.parse_args()

    RewardRegistry.register("brevity", brevity, replace=True)
    trainer = create_rl_trainer(
        algorithm="grpo",
        backend="trl",
        model_name=args.model,
        model={"precision": "fp32", "use_peft": True},
        datasets=[{"name": "builtin:arithmetic", "split": "train", "max_samples": 128}],
        rewards=[
            {"type": "math_accuracy", "weight": 1.0},                                   # built-in
            {"type": "brevity", "weight": 0.3},                                          # registered above
            {"type": "custom", "weight": 0.2, "params": {"reward_function": ends_with_number}},  # a function
        ],
        train={"per_device_batch_size": 4, "num_generations": 4, "max_steps": args.max_steps,
               "learning_rate": 1e-5, "max_prompt_length": 64, "max_completion_length": 24, "save_strategy": "no"},
        logging={"output_dir": args.output_dir, "loggers": ["jsonl"]},
    )
    metrics = trainer.train()
    path = trainer.save_model()
    print(f"trained {args.max_steps} steps; final metrics: {metrics}; model saved to {path}")


if __name__ == "__main__":
    main()
