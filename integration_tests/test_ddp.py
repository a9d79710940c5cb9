"""DDP on CPU: 2 processes started by `accelerate launch` (gloo) train SFT exactly like one process with
the same global batch (2 processes x batch 2 == 1 process x batch 4).

Why the losses match: the Trainer's sampler is seeded (train.data_seed) and accelerate makes every rank
draw the same permutation; rank r takes batch r of each group of 2, so one DDP step sees the same 4
rows as one single-process step. Per-token losses are summed over the global batch and divided by the
global token count (average_tokens_across_devices), and DDP averages the gradients, so the update is the
same. Not bit-identical: each rank pads its own 2 rows, and the gradient all-reduce adds in a different
order, so float32 rounding differs (measured: ~1e-7 relative). Asserted within rel 1e-4.
"""

import json
import os
import shutil
import subprocess
import sys
import time

import pytest

pytestmark = pytest.mark.skipif(shutil.which("accelerate") is None, reason="the accelerate CLI is not installed")

STEPS = 4


def _common(tmp_path, out):
    return [sys.executable, "-m", "aligntune.cli.train_unified",
            "--algo", "sft", "--model", "embedded:tiny-random", "--dataset", "builtin:instructions#max=32",
            "--max-steps", str(STEPS), "--output-dir", str(tmp_path / out),
            "--set", "model.precision=fp32", "--set", "logging.loggers=[jsonl]", "--set", "train.logging_steps=1",
            "--set", "train.learning_rate=5e-3", "--set", "train.seed=42", "--set", "train.data_seed=47",
            "--set", "train.save_strategy='no'", "--set", "train.eval_strategy='no'",
            "--set", "train.dataloader_num_workers=0", "--set", f"caching.root={tmp_path / 'cache'}"]


def _env(tmp_path):
    return {**os.environ, "ALIGNTUNE_CACHE": str(tmp_path / "models"), "HF_HUB_OFFLINE": "1",
            "OMP_NUM_THREADS": "1", "TOKENIZERS_PARALLELISM": "false"}


def _metrics(folder):
    rows = [json.loads(line) for line in (folder / "metrics.jsonl").read_text().splitlines()]
    steps = {row["step"]: row for row in rows if "loss" in row}
    final = next(row for row in rows if "train_loss" in row)
    return steps, final


def _free_port():
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _run(cmd, env, timeout):
    out = subprocess.run(cmd, check=False, capture_output=True, text=True, env=env, timeout=timeout)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    return out


def test_ddp_two_cpu_processes_match_single_process(tmp_path):
    env = _env(tmp_path)
    start = time.time()
    _run(_common(tmp_path, "single") + ["--batch-size", "4"], env, 120)
    _run(_common(tmp_path, "ddp") + ["--batch-size", "2", "--distributed", "ddp", "--num-processes", "2",
                                     "--set", f"distributed.master_port={_free_port()}"], env, 120)
    elapsed = time.time() - start

    single_steps, single_final = _metrics(tmp_path / "single")
    ddp_steps, ddp_final = _metrics(tmp_path / "ddp")
    assert sorted(single_steps) == sorted(ddp_steps) == list(range(1, STEPS + 1))
    for step in range(1, STEPS + 1):
        # same rows per step: the same token count, so the same data order
        assert ddp_steps[step]["num_tokens"] == single_steps[step]["num_tokens"], step
        assert ddp_steps[step]["loss"] == pytest.approx(single_steps[step]["loss"], rel=1e-4), step
        assert ddp_steps[step]["grad_norm"] == pytest.approx(single_steps[step]["grad_norm"], rel=1e-4), step
    assert ddp_final["train_loss"] == pytest.approx(single_final["train_loss"], rel=1e-4)
    # the loss moved, so the comparison is of training, not of the initial model
    assert single_steps[STEPS]["loss"] < single_steps[1]["loss"]
    assert (tmp_path / "ddp" / "final_model" / "model.safetensors").exists()
    assert elapsed < 150, f"took {elapsed:.0f} s"
