"""Trainer callbacks of the TRL engine: metrics as JSON lines, and early stopping."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from transformers import TrainerCallback


class JsonlMetricsCallback(TrainerCallback):
    """Appends every logged metrics dict (with step and wall time) to ``<output_dir>/metrics.jsonl`` --
    the file ``aligntune report`` reads, and a record that survives a crash."""

    def __init__(self, output_dir: str):
        self.path = Path(output_dir) / "metrics.jsonl"
        self.start = time.time()

    def on_log(self, args: Any, state: Any, control: Any, logs: dict[str, Any] | None = None, **kwargs: Any) -> None:
        if not logs or not state.is_world_process_zero:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        record = {"step": state.global_step, "epoch": state.epoch, "time": round(time.time() - self.start, 3)}
        record.update({k: v for k, v in logs.items() if isinstance(v, (int, float, str, bool)) or v is None})
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(record) + "\n")
