"""Resuming from a checkpoint continues exactly: the loss at each step after resuming equals the
uninterrupted run's."""

import json
import os

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from aligntune import create_sft_trainer  # noqa: E402


def _losses(folder):
    rows = [json.loads(line) for line in (folder / "metrics.jsonl").read_text().splitlines()]
    return {row["step"]: row["loss"] for row in rows if "loss" in row}


def _run(tmp_path, name, max_steps=6, **extra):
    return create_sft_trainer(
        model_name="embedded:tiny-random", dataset_name="builtin:instructions", max_samples=32, batch_size=4,
        max_steps=max_steps, learning_rate=5e-3, precision="fp32", logging_steps=1, save_interval=3, save_strategy="steps",
        loggers=["jsonl"], output_dir=str(tmp_path / name), caching={"root": str(tmp_path / "cache")},
        dataloader_num_workers=0, **extra)


def test_resume_matches_uninterrupted_run(tmp_path, monkeypatch):
    monkeypatch.setenv("ALIGNTUNE_CACHE", str(tmp_path / "models"))
    _run(tmp_path, "full").train()
    full = _losses(tmp_path / "full")
    assert sorted(full) == [1, 2, 3, 4, 5, 6]

    # the interrupted run: the same schedule (max_steps=6), killed after step 3 and its checkpoint
    from transformers import TrainerCallback

    class StopAt3(TrainerCallback):
        def on_step_end(self, args, state, control, **kwargs):
            if state.global_step == 3:
                control.should_training_stop = True

    interrupted = _run(tmp_path, "part")
    interrupted.trainer.add_callback(StopAt3())
    interrupted.train()
    checkpoint = tmp_path / "part" / "checkpoint-3"
    assert checkpoint.is_dir()
    resumed = _run(tmp_path, "part", resume_from_checkpoint=str(checkpoint))
    resumed.train()
    after = {step: loss for step, loss in _losses(tmp_path / "part").items() if step > 3}
    assert sorted(after) == [4, 5, 6]
    for step in (4, 5, 6):
        assert after[step] == pytest.approx(full[step], rel=1e-5, abs=1e-6), (step, after[step], full[step])
