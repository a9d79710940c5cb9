"""UnifiedLogger: one place that sets up Python logging for a run and records its metrics to the
trackers of ``logging.loggers``.

- console: every :meth:`UnifiedLogger.log_metrics` call is logged (logger ``aligntune.metrics``);
- ``jsonl``: one JSON object per call appended to ``<output_dir>/metrics.jsonl`` (step, time, values);
- ``tensorboard``: scalars written with ``torch.utils.tensorboard`` under ``logging_dir`` (default
  ``<output_dir>/logs``);
- ``wandb``: ``wandb.init`` with ``wandb_project``/``wandb_entity``/``wandb_mode`` and ``wandb.log``.

Trackers it does not know are refused with the list of valid ones. The trainers log through their
engine (TRL's callbacks); this class is for code outside a trainer (custom loops, evaluation scripts,
Meta-ES drivers) that wants the same outputs.
"""

from __future__ import annotations

import json
import logging
import math
import time
from pathlib import Path
from typing import Any

from aligntune_config.logging_config import LoggingConfig

KNOWN_TRACKERS = ("jsonl", "tensorboard", "wandb")
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class UnifiedLogger:
    """Logging setup and metric recording for one run.

    ``config``: a :class:`LoggingConfig` (or a dict of its fields, or a UnifiedConfig whose ``logging``
    is used). Use as a context manager or call :meth:`close`."""

    def __init__(self, config: Any = None, **overrides: Any):
        if config is not None and hasattr(config, "logging") and not isinstance(config, LoggingConfig):
            config = config.logging
        if config is None:
            config = LoggingConfig.model_validate(overrides)
        elif isinstance(config, dict):
            config = LoggingConfig.model_validate({**config, **overrides})
        elif overrides:
            config = LoggingConfig.model_validate({**config.model_dump(), **overrides})
        self.config: LoggingConfig = config
        trackers = [t.strip().lower() for t in config.loggers if t.strip().lower() not in ("none", "")]
        unknown = [t for t in trackers if t not in KNOWN_TRACKERS]
        if unknown:
            raise ValueError(f"logging.loggers: unknown tracker(s) {unknown}; valid: {', '.join(KNOWN_TRACKERS)}")
        self.trackers = trackers
        self.output_dir = Path(config.output_dir)
        self.logger = logging.getLogger("aligntune.metrics")
        self._tb: Any = None
        self._wandb: Any = None
        self._jsonl: Any = None
        self._start = time.time()

    # -- Python logging ---------------------------------------------------------------------------
    def setup(self) -> logging.Logger:
        """Set the ``aligntune`` logger to ``log_level`` with a console handler (added once)."""
        root = logging.getLogger("aligntune")
        root.setLevel(self.config.log_level)
        if not any(getattr(h, "_aligntune_console", False) for h in root.handlers):
            handler = logging.StreamHandler()
            handler.setFormatter(logging.Formatter(FORMAT))
            handler._aligntune_console = True  # type: ignore[attr-defined]
            root.addHandler(handler)
        return root

    # -- trackers -----------------------------------------------------------------------------------
    def _open(self) -> None:
        if "jsonl" in self.trackers and self._jsonl is None:
            self.output_dir.mkdir(parents=True, exist_ok=True)
            self._jsonl = (self.output_dir / "metrics.jsonl").open("a", encoding="utf-8")
        if "tensorboard" in self.trackers and self._tb is None:
            from torch.utils.tensorboard import SummaryWriter

            self._tb = SummaryWriter(log_dir=str(self.tensorboard_dir))
        if "wandb" in self.trackers and self._wandb is None:
            import wandb

            c = self.config
            self._wandb = wandb.init(project=c.wandb_project or "aligntune", entity=c.wandb_entity, name=c.run_name,
                                     mode=c.wandb_mode, dir=str(self.output_dir), reinit=True)

    @property
    def tensorboard_dir(self) -> Path:
        return Path(self.config.logging_dir) if self.config.logging_dir else self.output_dir / "logs"

    def log_metrics(self, metrics: dict[str, Any], step: int | None = None, prefix: str = "") -> dict[str, float]:
        """Record numeric ``metrics`` (non-numbers are refused) at ``step`` on the console and every
        configured tracker. Returns what was recorded (names with ``prefix``)."""
        values: dict[str, float] = {}
        for name, value in metrics.items():
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise TypeError(f"metric {name!r}: expected a number, got {type(value).__name__} ({value!r})")
            values[f"{prefix}{name}"] = float(value)
        self._open()
        shown = ", ".join(f"{k}={v:.4g}" for k, v in values.items())
        self.logger.info("step %s: %s", step if step is not None else "-", shown)
        if self._jsonl is not None:
            record = {"step": step, "time": round(time.time() - self._start, 3),
                      **{k: (v if math.isfinite(v) else str(v)) for k, v in values.items()}}
            self._jsonl.write(json.dumps(record) + "\n")
            self._jsonl.flush()
        if self._tb is not None:
            for k, v in values.items():
                self._tb.add_scalar(k, v, global_step=step)
            self._tb.flush()
        if self._wandb is not None:
            self._wandb.log(values, step=step)
        return values

    def close(self) -> None:
        if self._jsonl is not None:
            self._jsonl.close()
            self._jsonl = None
        if self._tb is not None:
            self._tb.close()
            self._tb = None
        if self._wandb is not None:
            self._wandb.finish()
            self._wandb = None

    def __enter__(self) -> UnifiedLogger:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


__all__ = ["UnifiedLogger"]
