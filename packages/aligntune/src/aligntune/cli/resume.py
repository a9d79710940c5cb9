"""``aligntune resume RUN_DIR``: continue a run from its output folder.

A run's output folder holds ``resolved_config.yaml`` (written when training starts) and the Hugging Face
checkpoints ``checkpoint-<step>/`` (model, optimizer, scheduler, RNG and ``trainer_state.json``). Resuming
loads that config, points ``train.resume_from_checkpoint`` at the checkpoint with the highest step, and
keeps ``logging.output_dir`` on the folder given (the saved path may be relative to another directory).
``--max-steps`` extends a finished run; ``--set KEY=VALUE`` changes any other field.

A Meta-ES run resumes from its ES state instead (``meta_es_state.json``, written after every iteration):
``meta_es.resume`` points at it, and ``--set meta_es.meta_iterations=N`` extends a finished search.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from aligntune_config import ConfigIssue, ConfigLoader, ConfigValidationError, UnifiedConfig
from aligntune_config.loader import RESOLVED_FILENAME

from .resolve import parse_set

_CHECKPOINT = re.compile(r"checkpoint-(\d+)")
STATE_FILE = "trainer_state.json"
META_ES_STATE = "meta_es_state.json"


def checkpoints(run_dir: Path) -> list[tuple[int, Path]]:
    """``(step, folder)`` of every resumable checkpoint (one with a trainer state) in ``run_dir``, by step."""
    found = []
    for child in Path(run_dir).iterdir() if Path(run_dir).is_dir() else []:
        match = _CHECKPOINT.fullmatch(child.name)
        if match and (child / STATE_FILE).is_file():
            found.append((int(match.group(1)), child))
    return sorted(found)


def latest_checkpoint(run_dir: Path) -> Path | None:
    """The resumable checkpoint with the highest step (numerically: checkpoint-10 after checkpoint-9)."""
    found = checkpoints(run_dir)
    return found[-1][1] if found else None


def resume_config(run_dir: Path, *, max_steps: int | None = None, sets: list[str] | None = None,
                  checkpoint: Path | None = None) -> tuple[UnifiedConfig, Path]:
    """The config that continues the run in ``run_dir``, and the checkpoint it resumes from.

    Raises ConfigValidationError naming what is missing (no saved config, no resumable checkpoint)."""
    run_dir = Path(run_dir)
    saved = run_dir / RESOLVED_FILENAME
    if not saved.is_file():
        raise ConfigValidationError([ConfigIssue("run_dir", f"{run_dir} has no {RESOLVED_FILENAME}; give the "
                                                 "output folder (logging.output_dir) of a run that has started")])
    import yaml

    if (yaml.safe_load(saved.read_text(encoding="utf-8")) or {}).get("algo") == "meta_es":
        return _meta_es_config(run_dir, saved, max_steps=max_steps, sets=sets, checkpoint=checkpoint)
    if checkpoint is None:
        checkpoint = latest_checkpoint(run_dir)
    if checkpoint is None:
        others = sorted(p.name for p in run_dir.glob("checkpoint-*"))
        hint = (f" ({', '.join(others)} hold weights only, as PPO saves them: resuming PPO is not built)"
                if others else "; checkpoints are written every train.save_interval steps when "
                "train.save_strategy is 'steps'")
        raise ConfigValidationError([ConfigIssue("run_dir", f"{run_dir} has no checkpoint-<step> folder with "
                                                 f"{STATE_FILE} to resume from{hint}")])
    if not (Path(checkpoint) / STATE_FILE).is_file():
        raise ConfigValidationError([ConfigIssue("--checkpoint", f"{checkpoint} has no {STATE_FILE}; valid: "
                                                 + ", ".join(p.name for _, p in checkpoints(run_dir)))])
    overrides: dict[str, Any] = {"train.resume_from_checkpoint": str(checkpoint),
                                 "logging.output_dir": str(run_dir)}
    if max_steps is not None:
        overrides["train.max_steps"] = max_steps
    overrides.update(parse_set(sets or []))
    return ConfigLoader.load(saved, overrides), Path(checkpoint)


def _meta_es_config(run_dir: Path, saved: Path, *, max_steps: int | None, sets: list[str] | None,
                    checkpoint: Path | None) -> tuple[UnifiedConfig, Path]:
    state = run_dir / META_ES_STATE
    issues = []
    if not state.is_file():
        issues.append(ConfigIssue("run_dir", f"{run_dir} has no {META_ES_STATE} to resume the Meta-ES search from "
                                  "(it is written after every ES iteration)"))
    if max_steps is not None:
        issues.append(ConfigIssue("--max-steps", "a Meta-ES search is extended by iterations: use "
                                  "--set meta_es.meta_iterations=N (train.max_steps is each candidate's NM-GRPO run)"))
    if checkpoint is not None:
        issues.append(ConfigIssue("--checkpoint", f"a Meta-ES search resumes from its {META_ES_STATE}, not a checkpoint"))
    if issues:
        raise ConfigValidationError(issues)
    overrides: dict[str, Any] = {"meta_es.resume": str(state), "logging.output_dir": str(run_dir)}
    overrides.update(parse_set(sets or []))
    return ConfigLoader.load(saved, overrides), state


def progress(config: UnifiedConfig, found: Path) -> tuple[int, int | None, str]:
    """``(done, limit, how to raise the limit)`` of the run ``found`` (a checkpoint or Meta-ES's state):
    steps and ``train.max_steps``, or ES iterations and ``meta_es.meta_iterations``."""
    import json

    if Path(found).name == META_ES_STATE:
        done = len(json.loads(Path(found).read_text(encoding="utf-8")).get("history", []))
        return done, config.meta_es.meta_iterations, "--set meta_es.meta_iterations=N"
    return checkpoint_step(found), config.train.max_steps, "--max-steps N"


def launch_args(run_dir: Path, checkpoint: Path, *, max_steps: int | None = None,
                sets: list[str] | None = None) -> list[str]:
    """The ``train_unified`` command line that resumes ``run_dir`` from ``checkpoint`` in every process of a
    multi-process run: it resolves to the same config as :func:`resume_config`."""
    from .train_unified import argv_from

    key = "meta_es.resume" if Path(checkpoint).name == META_ES_STATE else "train.resume_from_checkpoint"
    return argv_from(Path(run_dir) / RESOLVED_FILENAME, max_steps=max_steps, output_dir=str(run_dir),
                     sets=[f"{key}={checkpoint}", *(sets or [])])


def checkpoint_step(checkpoint: Path) -> int:
    """The global step a checkpoint was saved at (from its trainer state)."""
    import json

    return int(json.loads((Path(checkpoint) / STATE_FILE).read_text(encoding="utf-8"))["global_step"])
