"""Does training through AlignTune's TRL engine actually learn? SmolLM2-135M-Instruct
(``embedded:smollm2-135m-instruct``) with LoRA, built-in data, CPU.

- DPO on ``builtin:arithmetic-preferences`` (chosen = correct worked answer, rejected = wrong final
  number): held-out preference accuracy -- the share of held-out pairs where the model gives the chosen
  answer a higher log-probability than the rejected one -- before and after training.
- GRPO on ``builtin:arithmetic`` with the verifiable ``math`` reward (1 when the final number equals the
  reference): mean reward of greedy completions on held-out prompts, before and after training.

Both runs go through the public factory (``create_rl_trainer``) as a user would. Prints before/after
figures and wall times.

    uv run --frozen python bench/trl_learning.py [--jobs dpo,grpo] [--dpo-steps 40] [--grpo-steps 30]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")

MODEL = "embedded:smollm2-135m-instruct"


def completion_logprob(model, tokenizer, prompt: str, completion: str) -> float:
    import torch

    prompt_ids = tokenizer(prompt, add_special_tokens=False)["input_ids"]
    full = tokenizer(prompt + completion, add_special_tokens=False, return_tensors="pt")["input_ids"].to(model.device)
    with torch.no_grad():
        logits = model(full).logits[0, :-1].float()
    logps = torch.log_softmax(logits, dim=-1).gather(1, full[0, 1:, None])[:, 0]
    return float(logps[len(prompt_ids) - 1:].sum())


def preference_accuracy(model, tokenizer, rows) -> float:
    was = model.training
    model.eval()
    wins = sum(completion_logprob(model, tokenizer, r["prompt"], r["chosen"])
               > completion_logprob(model, tokenizer, r["prompt"], r["rejected"]) for r in rows)
    model.train(was)
    return wins / len(rows)


def mean_math_reward(model, tokenizer, rows, max_new_tokens: int) -> float:
    from aligntune_backends.trl.evaluation import generate
    from aligntune_rewards import CompositeReward

    predictions = generate(model, tokenizer, [r["prompt"] for r in rows], max_new_tokens=max_new_tokens,
                           temperature=0.0, batch_size=16, seed=0)
    scores = CompositeReward(["math"])(predictions, references=[r["answer"] for r in rows])
    return sum(scores) / len(scores)


def dpo(opts, out: str) -> None:
    from aligntune import create_rl_trainer
    from aligntune_data import load_dataset

    held_out = load_dataset(f"builtin:arithmetic-preferences:test#max={opts.held_out}", format="preference")
    trainer = create_rl_trainer(
        model_name=MODEL, dataset_name="builtin:arithmetic-preferences", max_samples=opts.dpo_steps * 4, algorithm="dpo",
        batch_size=4, max_steps=opts.dpo_steps, learning_rate=opts.dpo_lr, beta=0.1, max_length=192,
        lora_r=16, lora_alpha=32, precision="fp32", logging_steps=5, save_strategy="no", loggers=["jsonl"],
        output_dir=os.path.join(out, "dpo"), seed=0)
    model, tokenizer = trainer.trainer.model, trainer.tokenizer
    before = preference_accuracy(model, tokenizer, held_out)
    start = time.perf_counter()
    trainer.train()
    wall = time.perf_counter() - start
    after = preference_accuracy(model, tokenizer, held_out)
    print(f"DPO  held-out preference accuracy ({len(held_out)} pairs): {before:.3f} -> {after:.3f}   "
          f"({opts.dpo_steps} steps, batch 4, train wall {wall:.0f} s = {wall / opts.dpo_steps:.2f} s/step)")


def grpo(opts, out: str) -> None:
    from aligntune import create_rl_trainer
    from aligntune_data import load_dataset

    held_out = load_dataset(f"builtin:arithmetic:test#max={opts.held_out}", format="prompt")
    trainer = create_rl_trainer(
        model_name=MODEL, dataset_name="builtin:arithmetic", max_samples=opts.grpo_steps * 2, algorithm="grpo",
        rewards=["math"], batch_size=8, num_generations=8, max_completion_length=opts.completion_tokens,
        max_steps=opts.grpo_steps, learning_rate=opts.grpo_lr, temperature=1.0, lora_r=16, lora_alpha=32,
        precision="fp32", logging_steps=5, save_strategy="no", loggers=["jsonl"], output_dir=os.path.join(out, "grpo"),
        seed=0)
    model, tokenizer = trainer.trainer.model, trainer.tokenizer
    before = mean_math_reward(model, tokenizer, held_out, opts.completion_tokens)
    start = time.perf_counter()
    trainer.train()
    wall = time.perf_counter() - start
    after = mean_math_reward(model, tokenizer, held_out, opts.completion_tokens)
    logged = [e["reward"] for e in trainer.trainer.state.log_history if "reward" in e]
    print(f"GRPO held-out mean math reward ({len(held_out)} prompts, greedy): {before:.3f} -> {after:.3f}   "
          f"(training reward first/last logged: {logged[0]:.3f} / {logged[-1]:.3f}; {opts.grpo_steps} steps x 8 "
          f"completions, train wall {wall:.0f} s = {wall / opts.grpo_steps:.1f} s/step)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", default="dpo,grpo")
    parser.add_argument("--dpo-steps", type=int, default=40)
    parser.add_argument("--dpo-lr", type=float, default=2e-4)
    parser.add_argument("--grpo-steps", type=int, default=30)
    parser.add_argument("--grpo-lr", type=float, default=1e-4)
    parser.add_argument("--completion-tokens", type=int, default=96)
    parser.add_argument("--held-out", type=int, default=64)
    opts = parser.parse_args()
    import torch
    import transformers

    transformers.logging.set_verbosity_error()
    print(f"torch threads: {torch.get_num_threads()}")
    with tempfile.TemporaryDirectory() as out:
        for job in opts.jobs.split(","):
            start = time.perf_counter()
            {"dpo": dpo, "grpo": grpo}[job](opts, out)
            print(f"  {job} total wall (load, evaluate before/after, train): {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
