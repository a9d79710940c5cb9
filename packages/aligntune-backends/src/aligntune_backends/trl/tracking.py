"""Experiment trackers of the TRL engine (``logging.loggers``): TensorBoard event files in
``logging.logging_dir`` (default ``<output_dir>/logs``), and Weights & Biases with ``logging.wandb_project``
(default ``aligntune``), ``wandb_entity``, ``wandb_mode`` (online, offline, disabled; unset: the
WANDB_MODE environment variable, else online), ``wandb_api_key`` and ``run_name``; W&B files go to
``<output_dir>/wandb`` (an offline run is a folder there that ``wandb sync`` uploads later).

transformers' own callbacks do the logging; AlignTune builds them with the run's settings instead of
reading process-wide environment variables, so two runs in one process keep their own folders."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from aligntune_config import UnifiedConfig

logger = logging.getLogger("aligntune.backends.trl.tracking")
_LAST_RUN: dict[str, Any] = {"run": None}


def tensorboard_dir(config: "UnifiedConfig") -> str:
    return config.logging.logging_dir or str(Path(config.logging.output_dir) / "logs")


def tracker_callbacks(config: "UnifiedConfig") -> list[Any]:
    """The TrainerCallbacks of the configured trackers."""
    out: list[Any] = []
    if "tensorboard" in config.logging.loggers:
        from transformers.integrations import TensorBoardCallback

        callback = TensorBoardCallback()
        callback.logging_dir = tensorboard_dir(config)
        out.append(callback)
    if "wandb" in config.logging.loggers:
        out.append(wandb_callback(config))
    return out


def wandb_init_kwargs(config: "UnifiedConfig") -> dict[str, Any]:
    """Arguments of ``wandb.init`` for this run (the resolved config, without secrets, as the run config)."""
    lg = config.logging
    kwargs: dict[str, Any] = {"project": lg.wandb_project or "aligntune", "entity": lg.wandb_entity,
                              "dir": lg.output_dir, "name": lg.run_name,
                              "config": config.model_dump(mode="json", exclude_none=True)}
    if lg.wandb_mode is not None:
        kwargs["mode"] = lg.wandb_mode
    return kwargs


def wandb_callback(config: "UnifiedConfig") -> Any:
    try:
        import wandb
        from transformers.integrations import WandbCallback
    except ImportError as exc:
        raise ValueError(f"logging.loggers includes wandb but wandb cannot be imported ({exc}); install wandb or "
                         "remove it from logging.loggers") from exc

    class AlignTuneWandbCallback(WandbCallback):
        """transformers' WandbCallback, with the run started from AlignTune's logging settings."""

        def setup(self, args: Any, state: Any, model: Any, **kwargs: Any) -> None:
            if state.is_world_process_zero:
                if wandb.run is not None and wandb.run is _LAST_RUN["run"]:
                    wandb.finish()  # the run of an earlier AlignTune training in this process
                if wandb.run is None:
                    kwargs_init = wandb_init_kwargs(config)
                    key = config.logging.wandb_api_key
                    if key is not None:
                        kwargs_init["settings"] = wandb.Settings(api_key=key.get_secret_value())
                    Path(config.logging.output_dir).mkdir(parents=True, exist_ok=True)
                    _LAST_RUN["run"] = wandb.init(**kwargs_init)
                    logger.info("W&B run %s (mode %s) in %s", _LAST_RUN["run"].name,
                                kwargs_init.get("mode", "from WANDB_MODE"), config.logging.output_dir)
            super().setup(args, state, model, **kwargs)

    return AlignTuneWandbCallback()
