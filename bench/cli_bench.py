"""Benchmark of the `aligntune` command line: `aligntune --help` and `aligntune validate <config>`.

Run: uv run python bench/cli_bench.py [--repeat 9] [--config examples/quickstart.yaml]

Each command runs in a fresh process through the installed console script (as a user types it), after
one warm-up run that writes bytecode caches. Reported per command: the median and the minimum wall time
over --repeat runs, and the median CPU time (user + system) of the process. On a shared machine the wall
time includes waiting for a core; the CPU time is the work the command itself does. `python -c pass` is
measured the same way as the floor of any Python command.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run_once(cmd: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one run of ``cmd`` (which must succeed)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, env=env)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def measure(cmd: list[str], repeat: int) -> dict[str, float]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    run_once(cmd, env)  # warm-up: bytecode caches, page cache
    walls, cpus = zip(*(run_once(cmd, env) for _ in range(repeat)))
    return {"median": statistics.median(walls), "min": min(walls), "cpu": statistics.median(cpus)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=9)
    parser.add_argument("--config", type=Path, default=ROOT / "examples" / "quickstart.yaml")
    args = parser.parse_args()
    script = str(Path(sys.executable).parent / "aligntune")
    commands = {
        "python -c pass": [sys.executable, "-c", "pass"],
        "aligntune --help": [script, "--help"],
        f"aligntune validate {args.config.name}": [script, "validate", str(args.config)],
    }
    print(f"{args.repeat} runs each after one warm-up; load average {os.getloadavg()[0]:.2f} "
          f"on {os.cpu_count()} CPUs")
    print(f"{'command':<40} {'median wall':>12} {'min wall':>10} {'median CPU':>11}")
    for name, cmd in commands.items():
        m = measure(cmd, args.repeat)
        print(f"{name:<40} {m['median']:>11.3f}s {m['min']:>9.3f}s {m['cpu']:>10.3f}s")


if __name__ == "__main__":
    main()
