"""Benchmark of aligntune-config: import time and loading a large YAML.

Run: uv run python bench/config_bench.py [--repeat 15]

Measures, each in fresh subprocesses with bytecode caches (median of --repeat runs):
- `import aligntune_config` (lazy: no pydantic yet)
- import + first UnifiedConfig built (pydantic and every schema built)
- the interpreter alone (`python -c pass`), to subtract
and, in-process, loading + validating a large YAML (200 datasets, 200 rewards, every section) and writing
it back with save_resolved_config.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

SNIPPETS = {
    "python -c pass": "pass",
    "import aligntune_config": "import aligntune_config",
    "import + first UnifiedConfig": (
        "from aligntune_config import UnifiedConfig\n"
        "UnifiedConfig(algo='grpo', model={'name_or_path': 'm'}, datasets=['d'], train={'batch_size': 2})"
    ),
}


def time_subprocess(code: str, repeat: int) -> float:
    # Measure as users run it: with bytecode caches (PYTHONDONTWRITEBYTECODE would recompile every module
    # on every start). One warm-up run writes the caches.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    subprocess.run([sys.executable, "-c", code], check=True, env=env)
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True, env=env)
        samples.append(time.perf_counter() - start)
    return statistics.median(samples) * 1000


def large_config() -> dict:
    return {
        "algo": "grpo",
        "model": {"name_or_path": "embedded:tiny-random", "use_peft": True, "lora_r": 8},
        "datasets": [
            {"name": f"org/dataset_{i}", "split": "train", "max_samples": 1000 + i, "weight": 1 + i % 3,
             "column_mapping": {"question": "prompt", "answer": "answer"}, "task_type": "math"}
            for i in range(200)
        ],
        "rewards": [{"type": "length", "weight": 0.01 * (i + 1), "params": {"min_length": i, "max_length": 200 + i}}
                    for i in range(200)],
        "train": {"per_device_batch_size": 8, "num_generations": 8, "max_steps": 1000, "learning_rate": 1e-5},
        "logging": {"output_dir": "./out", "sample_logging": {"enabled": True, "interval_steps": 50,
                                                              "prompts": [f"p{i}" for i in range(50)]}},
        "distributed": {"backend": "ddp", "num_processes": 4},
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    results = {name: time_subprocess(code, args.repeat) for name, code in SNIPPETS.items()}
    base = results["python -c pass"]
    print(f"Import times (median of {args.repeat} fresh interpreters; interpreter start {base:.1f} ms subtracted):")
    for name in ("import aligntune_config", "import + first UnifiedConfig"):
        print(f"  {name:32s} {results[name] - base:8.1f} ms   (raw {results[name]:.1f} ms)")

    from aligntune_config import ConfigLoader

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "large.yaml"
        path.write_text(yaml.safe_dump(large_config()))
        size_kb = path.stat().st_size / 1024
        ConfigLoader.load(path)  # warm schemas
        samples = []
        for _ in range(5):
            start = time.perf_counter()
            config = ConfigLoader.load(path)
            samples.append(time.perf_counter() - start)
        load_ms = statistics.median(samples) * 1000
        start = time.perf_counter()
        out = ConfigLoader.save_resolved_config(config, Path(tmp) / "run")
        save_ms = (time.perf_counter() - start) * 1000
        assert ConfigLoader.load(out) == config
    print(f"Large YAML ({size_kb:.0f} KiB, 200 datasets, 200 rewards): load+validate {load_ms:.1f} ms, "
          f"save_resolved_config {save_ms:.1f} ms (median of 5)")


if __name__ == "__main__":
    main()
