"""A custom processing_fn: turn rows of your own shape into the schema training expects before the schema
adapter runs. Here a local JSONL file of capital cities (``query``/``reply``) becomes a chat-style
prompt/completion pair with a system instruction prepended; SFT with LoRA.

    uv run python examples/custom_processing.py
    uv run python examples/custom_processing.py --model embedded:tiny-random --max-steps 2

In YAML the same function is given by import path: ``processing_fn: "my_module:to_prompt_completion"``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from aligntune import create_sft_trainer

DATA = Path(__file__).resolve().parent / "data" / "capitals.jsonl"


def to_prompt_completion(row, style="Answer in one sentence."):
    """One row in, one row out: the prompt carries the instruction, the completion the reply."""
    return {"prompt": f"{style}\n{row['query']}", "completion": row["reply"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="embedded:smollm2-135m-instruct")
    parser.add_argument("--max-steps", type=int, default=20)
    parser.add_argument("--output-dir", default="./output/custom_processing")
    args = parser.parse_args()

    trainer = create_sft_trainer(
        model_name=args.model,
        backend="trl",
        model={"precision": "fp32", "use_peft": True, "gradient_checkpointing": False},
        datasets=[{"name": str(DATA), "format_type": "prompt_completion", "processing_fn": to_prompt_completion,
                   "processing_fn_kwargs": {"style": "Reply with one short sentence."}}],
        train={"per_device_batch_size": 4, "max_steps": args.max_steps, "learning_rate": 5e-4, "max_length": 64,
               "eval_strategy": "no", "save_strategy": "no"},
        logging={"output_dir": args.output_dir, "loggers": ["jsonl"]},
    )
    first = trainer.trainer.train_dataset[0]
    print("first training row:", {k: first[k] for k in ("prompt", "completion") if k in first})
    metrics = trainer.train()
    print(f"trained {args.max_steps} steps; final metrics: {metrics}; model saved to {trainer.save_model()}")


if __name__ == "__main__":
    main()
