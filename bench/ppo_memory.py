"""Peak memory (RSS) of PPO with LoRA on embedded:smollm2-135m-instruct, CPU: the reference as the policy
with its adapters disabled (AlignTune's default, no second copy of the weights) against the same run with
``model.force_use_ref_model: true`` (a separately loaded reference copy). Each run is a fresh subprocess
doing the same few PPO steps; its peak RSS is read with ``resource.getrusage`` (RUSAGE_SELF in the child,
and RUSAGE_CHILDREN in the parent after each child, which only grows), plus VmHWM from /proc when present.
The policy's critic is a separate LoRA model of the same family in both runs.

Run: uv run python bench/ppo_memory.py [--steps 3] [--output output/ppo_memory.json]
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import resource
import subprocess
import sys
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")

MODES = {"lora_shared_reference": False, "lora_copied_reference": True}


def vm_hwm_mib() -> float | None:
    """Peak resident set size of this process from /proc/self/status (Linux), in MiB."""
    status = pathlib.Path("/proc/self/status")
    if not status.exists():
        return None
    for line in status.read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return None


def child(mode: str, steps: int) -> None:
    """One PPO run; prints a JSON line with its peak RSS."""
    import datasets
    import torch

    torch.set_num_threads(2)
    from aligntune_backends.ppo import PPOTrainer
    from aligntune_config import UnifiedConfig

    def reward_fn(completions, **kwargs):  # a rule-based reward: shorter answers score higher
        return [1.0 / (1.0 + len(c.split())) for c in completions]

    config = UnifiedConfig(
        algo="ppo", backend="trl", datasets=["prompts"], rewards=["length"],
        model={"name_or_path": "embedded:smollm2-135m-instruct", "use_peft": True, "precision": "fp32",
               "force_use_ref_model": MODES[mode]},
        train={"rollout_batch_size": 4, "per_device_batch_size": 4, "max_steps": steps, "response_length": 16,
               "num_ppo_epochs": 1, "learning_rate": 1e-4, "save_strategy": "no", "eval_strategy": "no", "seed": 0},
        logging={"output_dir": f"output/ppo_memory/{mode}", "loggers": [], "disable_tqdm": True})
    prompts = ["What is 12 + 7?", "Name a colour.", "Say hello.", "What is the capital of France?"]
    start = time.perf_counter()
    trainer = PPOTrainer(config, datasets.Dataset.from_list([{"prompt": p} for p in prompts]), reward_fn=reward_fn)
    loaded_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    trainer.train()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    print(json.dumps({"mode": mode, "peak_rss_mib": peak, "vm_hwm_mib": vm_hwm_mib(), "after_load_peak_mib": loaded_rss,
                      "reference_shares_policy": trainer.reference.shares_policy,
                      "reference_parameters": 0 if trainer.reference.frozen is None
                      else sum(p.numel() for p in trainer.reference.frozen.parameters()),
                      "steps": steps, "seconds": time.perf_counter() - start}), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--output", default="output/ppo_memory.json")
    parser.add_argument("--child", choices=sorted(MODES), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.steps)
        return
    results = {}
    for mode in MODES:
        proc = subprocess.run([sys.executable, __file__, "--child", mode, "--steps", str(args.steps)],
                              capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            sys.stderr.write(proc.stderr[-4000:])
            raise SystemExit(f"{mode} run failed (exit {proc.returncode})")
        record = json.loads(proc.stdout.strip().splitlines()[-1])
        record["rusage_children_max_mib"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        results[mode] = record
        print(f"{mode}: peak RSS {record['peak_rss_mib']:.0f} MiB (VmHWM {record['vm_hwm_mib']:.0f} MiB), reference "
              f"{'= the policy with adapters disabled' if record['reference_shares_policy'] else 'copy'} "
              f"({record['reference_parameters']:,} own parameters), {record['seconds']:.0f} s", flush=True)
    shared, copied = results["lora_shared_reference"], results["lora_copied_reference"]
    saved = copied["peak_rss_mib"] - shared["peak_rss_mib"]
    print(f"the adapter-disabled reference saves {saved:.0f} MiB of peak RSS "
          f"({saved / copied['peak_rss_mib']:.0%} of the copied-reference run)")
    out = pathlib.Path(args.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"steps": args.steps, "runs": results, "saved_mib": saved}, indent=1))
    print(f"written to {out}")


if __name__ == "__main__":
    main()
