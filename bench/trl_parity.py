"""Parity of AlignTune's TRL engine with plain TRL.

The same SFT, DPO and GRPO jobs (embedded:tiny-random, built-in data, same seed, same settings) run
through AlignTune (``aligntune_backends.trl.engine``) and through a plain TRL script that builds the
TRL config, model and trainer by hand. For each job it prints the first 10 logged losses of both sides,
their largest absolute difference (goal <= 1e-5), and AlignTune's time per step divided by plain TRL's
(goal within 5%), measured in this one run with the two sides interleaved (A, T, A, T, ...) so machine
load affects both alike; the ratio is of the median seconds per step over the repeats, in wall time
and in this process's CPU time (the figure that holds when other work shares the machine).

    uv run --frozen python bench/trl_parity.py [--repeats 3] [--steps 10] [--jobs sft,dpo,grpo]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")

SEED = 42
BATCH = 4
LR = {"sft": 1e-3, "dpo": 1e-4, "grpo": 1e-4}
DATA = {"sft": ("builtin:instructions#max=64", "sft"), "dpo": ("builtin:arithmetic-preferences#max=64", "preference"),
        "grpo": ("builtin:arithmetic#max=64", "prompt")}


def digits_reward(completions, **kwargs):
    """Share of digits in each completion (the GRPO reward, identical on both sides)."""
    texts = [c if isinstance(c, str) else c[-1]["content"] for c in completions]
    return [sum(ch.isdigit() for ch in t) / max(1, len(t)) for t in texts]


def aligntune_digits(completions, *, prompts=None, references=None, **columns):
    return digits_reward(completions)


def load_data(job):
    from aligntune_data import load_dataset

    name, fmt = DATA[job]
    return load_dataset(name, format=fmt, data_seed=SEED)


def run_aligntune(job, data, steps, out):
    from aligntune_backends.trl.engine import backend
    from aligntune_config import UnifiedConfig

    train = {"per_device_batch_size": BATCH, "max_steps": steps, "learning_rate": LR[job], "seed": SEED,
             "data_seed": SEED, "logging_steps": 1, "save_strategy": "no", "eval_strategy": "no",
             "warmup_ratio": 0.0, "weight_decay": 0.0, "lr_scheduler": "linear", "max_length": 256,
             "optimizer": "adamw_torch", "max_grad_norm": 1.0}
    if job == "grpo":
        train.update({"num_generations": BATCH, "max_completion_length": 16, "max_prompt_length": 128,
                      "kl_coef": 0.04, "temperature": 1.0, "top_p": 1.0, "loss_type": "grpo",
                      "scale_rewards": "group"})
    if job == "dpo":  # AlignTune's DPO default group_by_length=true would reorder the batches
        train.update({"max_prompt_length": 128, "group_by_length": False})
    if job == "grpo":  # AlignTune's default masks truncated completions (TRL's does not)
        train.update({"mask_truncated_completions": False})
    config = UnifiedConfig(algo=job, backend="trl", datasets=["rows"],
                           model={"name_or_path": "embedded:tiny-random", "use_peft": False, "precision": "fp32",
                                  "gradient_checkpointing": False},
                           train=train, logging={"output_dir": out, "loggers": []})
    trainer = backend.create_trainer(config, train_dataset=data, reward_functions=[aligntune_digits] if job == "grpo" else [],
                                     reward_names=["digits"])
    start, cpu = time.perf_counter(), time.process_time()
    trainer.train()
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    return [e["loss"] for e in trainer.trainer.state.log_history if "loss" in e], (seconds / steps, cpu / steps)


def run_plain_trl(job, data, steps, out):
    """Plain TRL: the config, model and trainer written by hand."""
    import trl
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from aligntune_backends.models import resolve_embedded

    folder = resolve_embedded("embedded:tiny-random")
    tokenizer = AutoTokenizer.from_pretrained(folder)
    model = AutoModelForCausalLM.from_pretrained(folder, dtype="float32")
    common = {"output_dir": out, "per_device_train_batch_size": BATCH, "max_steps": steps, "learning_rate": LR[job],
              "seed": SEED, "data_seed": SEED, "logging_steps": 1, "save_strategy": "no", "eval_strategy": "no",
              "report_to": "none", "use_cpu": True, "bf16": False, "warmup_steps": 0.0, "weight_decay": 0.0,
              "lr_scheduler_type": "linear", "gradient_checkpointing": False, "optim": "adamw_torch",
              "max_grad_norm": 1.0}
    if job == "sft":
        args = trl.SFTConfig(**common, max_length=256)
        trainer = trl.SFTTrainer(model=model, args=args, train_dataset=data, processing_class=tokenizer)
    elif job == "dpo":
        args = trl.DPOConfig(**common, max_length=256)
        trainer = trl.DPOTrainer(model=model, args=args, train_dataset=data, processing_class=tokenizer)
    else:
        args = trl.GRPOConfig(**common, num_generations=BATCH, max_completion_length=16, beta=0.04, temperature=1.0,
                              top_p=1.0, top_k=0, loss_type="grpo", scale_rewards="group", disable_dropout=True)
        trainer = trl.GRPOTrainer(model=model, args=args, train_dataset=data, processing_class=tokenizer,
                                  reward_funcs=[digits_reward])
    start, cpu = time.perf_counter(), time.process_time()
    trainer.train()
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    return [e["loss"] for e in trainer.state.log_history if "loss" in e], (seconds / steps, cpu / steps)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1, help="torch threads (CPU time is reported beside wall)")
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--jobs", default="sft,dpo,grpo")
    opts = parser.parse_args()
    import torch
    import transformers

    torch.set_num_threads(opts.threads)  # one thread: CPU time is the work, not threads spinning under load

    transformers.logging.set_verbosity_error()
    rows = []
    for job in opts.jobs.split(","):
        data = load_data(job)
        times = {"aligntune": [], "trl": []}
        cpu_times = {"aligntune": [], "trl": []}
        losses = {}
        with tempfile.TemporaryDirectory() as tmp:
            for r in range(opts.repeats):  # interleaved: A, T, A, T, ...
                for side, fn in (("aligntune", run_aligntune), ("trl", run_plain_trl)):
                    side_losses, (per_step, cpu_per_step) = fn(job, data, opts.steps, os.path.join(tmp, f"{side}-{r}"))
                    times[side].append(per_step)
                    cpu_times[side].append(cpu_per_step)
                    losses.setdefault(side, side_losses)
        a, t = losses["aligntune"][:10], losses["trl"][:10]
        diff = max(abs(x - y) for x, y in zip(a, t)) if len(a) == len(t) and a else float("nan")
        ratio = statistics.median(times["aligntune"]) / statistics.median(times["trl"])
        cpu_ratio = statistics.median(cpu_times["aligntune"]) / statistics.median(cpu_times["trl"])
        print(f"\n== {job} ==")
        print("AlignTune losses:", [round(x, 6) for x in a])
        print("plain TRL losses:", [round(x, 6) for x in t])
        print(f"max |diff| = {diff:.3g}   (goal <= 1e-5: {'met' if diff <= 1e-5 else 'NOT met'})")
        print("s/step AlignTune:", [round(x, 4) for x in times["aligntune"]], " plain TRL:",
              [round(x, 4) for x in times["trl"]])
        print("CPU s/step AlignTune:", [round(x, 4) for x in cpu_times["aligntune"]], " plain TRL:",
              [round(x, 4) for x in cpu_times["trl"]])
        print(f"time per step ratio AlignTune / TRL: wall {ratio:.3f}, CPU {cpu_ratio:.3f}   (goal within 5%: "
              f"wall {'met' if abs(ratio - 1) <= 0.05 else 'NOT met'}, CPU {'met' if abs(cpu_ratio - 1) <= 0.05 else 'NOT met'})")
        rows.append((job, diff, ratio, cpu_ratio))
    print(f"\nload average at the end: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs, torch threads {opts.threads}")
    print("job   max|loss diff|   wall ratio   CPU ratio")
    for job, diff, ratio, cpu_ratio in rows:
        print(f"{job:5s} {diff:14.3g}   {ratio:10.3f}   {cpu_ratio:9.3f}")


if __name__ == "__main__":
    main()
