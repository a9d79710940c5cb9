"""``python -m aligntune.cli.train_unified``: train from a config file and/or flags (the spec's CLI).

    python -m aligntune.cli.train_unified --config examples/configs/ppo_minimal.yaml
    python -m aligntune.cli.train_unified --algo ppo --model microsoft/DialoGPT-small \\
        --dataset Anthropic/hh-rlhf:train#percent=1 --max-steps 100

The config is resolved exactly as ``aligntune validate`` resolves it (``resolve_cli_config``): the file,
then the flags, then ``--set KEY=VALUE`` overrides. An invalid config prints every problem and exits
with code 1, before any model is loaded.

Under ``accelerate launch`` / ``torchrun`` (``WORLD_SIZE`` > 1 in the environment) every process runs
this same module and trains as one rank: the Hugging Face Trainer sets up DDP/FSDP/DeepSpeed from the
process-group environment. ``--distributed``/``--num-processes`` (see ``aligntune.launch``) start those
processes from a single command. ``--help`` imports no torch.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path
from typing import Any

logger = logging.getLogger("aligntune")

EXIT_INVALID = 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m aligntune.cli.train_unified",
        description="Train with any AlignTune algorithm from a YAML/JSON config and/or flags. "
        "Flags override the file; --set overrides both.",
    )
    parser.add_argument("--config", type=Path, default=None, help="YAML or JSON config file.")
    parser.add_argument("--algo", default=None, help="Algorithm: sft, dpo, ppo, grpo, gspo, dapo, drgrpo, reward_model, ...")
    parser.add_argument("--model", default=None, help="Model id, path or embedded:NAME.")
    parser.add_argument("--dataset", action="append", default=None, metavar="SPEC",
                        help="Dataset spec, e.g. Anthropic/hh-rlhf:train#percent=1 (repeatable).")
    parser.add_argument("--reward", action="append", default=None, metavar="SPEC",
                        help="Reward spec, e.g. length:weight=1.0 (repeatable).")
    parser.add_argument("--max-steps", type=int, default=None, help="Optimizer steps (train.max_steps).")
    parser.add_argument("--epochs", type=float, default=None, help="Epochs (train.epochs).")
    parser.add_argument("--batch-size", type=int, default=None, help="Per-device batch size.")
    parser.add_argument("--backend", default=None, help="Execution engine: trl, unsloth or auto.")
    parser.add_argument("--output-dir", default=None, help="Output folder (logging.output_dir).")
    parser.add_argument("--set", dest="sets", action="append", default=None, metavar="KEY=VALUE",
                        help="Override any field: --set train.learning_rate=1e-5 (repeatable).")
    parser.add_argument("--distributed", default=None, choices=["single", "ddp", "fsdp", "deepspeed"],
                        help="Start the run through `accelerate launch` with this strategy "
                        "(default: distributed.backend of the config; single trains in this process).")
    parser.add_argument("--num-processes", type=int, default=None,
                        help="Processes in total for --distributed (distributed.num_processes).")
    parser.add_argument("--launch-dry-run", action="store_true",
                        help="Print the accelerate command and config that would be run, and exit.")
    return parser


def world_size() -> int:
    """Processes of the run this process belongs to (1 when not launched by accelerate/torchrun)."""
    try:
        return int(os.environ.get("WORLD_SIZE", "1"))
    except ValueError:
        return 1


def rank() -> int:
    try:
        return int(os.environ.get("RANK", "0"))
    except ValueError:
        return 0


def train_args(args: argparse.Namespace) -> list[str]:
    """The flags of ``args`` that describe the config, as a command line for each launched process (no
    launch flags: the processes train, they do not launch again)."""
    out: list[str] = []
    if args.config is not None:
        out += ["--config", str(args.config)]
    for flag, value in (("--algo", args.algo), ("--model", args.model), ("--max-steps", args.max_steps),
                        ("--epochs", args.epochs), ("--batch-size", args.batch_size), ("--backend", args.backend),
                        ("--output-dir", args.output_dir)):
        if value is not None:
            out += [flag, str(value)]
    for flag, values in (("--dataset", args.dataset), ("--reward", args.reward), ("--set", args.sets)):
        for value in values or []:
            out += [flag, value]
    return out


def argv_from(config: Path | None = None, *, algo: str | None = None, model: str | None = None,
              datasets: list[str] | None = None, rewards: list[str] | None = None, max_steps: int | None = None,
              training_type: str | None = None, epochs: float | None = None, batch_size: int | None = None,
              backend: str | None = None, output_dir: str | None = None, sets: list[str] | None = None) -> list[str]:
    """The ``train_unified`` command line of ``aligntune train``'s flags (for ``aligntune.launch.launch``)."""
    if algo is None and training_type is not None:
        algo = training_type  # resolve_cli_config accepts only sft for --type; validated before launching
    args = argparse.Namespace(config=config, algo=algo, model=model, dataset=datasets, reward=rewards,
                              max_steps=max_steps, epochs=epochs, batch_size=batch_size, backend=backend,
                              output_dir=output_dir, sets=sets)
    return train_args(args)


def launched_process() -> bool:
    """Whether this process was started by accelerate/torchrun (then it trains as one rank)."""
    return world_size() > 1 or "LOCAL_RANK" in os.environ


def resolve(args: argparse.Namespace) -> Any:
    """The UnifiedConfig of ``args`` (ConfigValidationError/SpecStringError on invalid input)."""
    from .resolve import resolve_cli_config

    return resolve_cli_config(args.config, algo=args.algo, model=args.model, datasets=args.dataset,
                              rewards=args.reward, max_steps=args.max_steps, epochs=args.epochs,
                              batch_size=args.batch_size, backend=args.backend, output_dir=args.output_dir,
                              sets=args.sets)


def apply_launch_flags(args: argparse.Namespace) -> None:
    """--distributed/--num-processes become ``--set distributed.*`` overrides: validated with the rest of
    the config, and the same in every launched process."""
    sets = list(args.sets or [])
    if args.distributed is not None:
        sets.append(f"distributed.backend={args.distributed}")
    if args.num_processes is not None:
        sets.append(f"distributed.num_processes={args.num_processes}")
    args.sets = sets or None


def _setup_logging(level: str) -> None:
    fmt = "%(message)s" if world_size() == 1 else f"[rank {rank()}] %(message)s"
    logging.basicConfig(level=level if rank() == 0 else "WARNING", format=fmt, stream=sys.stderr)


def run_training(trainer: Any) -> dict[str, Any]:
    """Train, save the model; the training metrics (with the model path)."""
    metrics = dict(trainer.train() or {})
    metrics["model_path"] = trainer.save_model()  # every rank: FSDP/DeepSpeed gather the weights collectively
    return metrics


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from aligntune_config import ConfigValidationError, SpecStringError

    apply_launch_flags(args)
    try:
        config = resolve(args)
        from aligntune_config import ConfigLoader

        config = ConfigLoader.validate_config(config)
        dist = config.distributed
    except (ConfigValidationError, SpecStringError) as exc:
        print(f"invalid config: {exc}", file=sys.stderr)
        return EXIT_INVALID

    launched = launched_process()
    if not launched and (dist.world_size > 1 or dist.nodes > 1 or args.launch_dry_run):
        from ..launch import launch

        return launch(train_args(args), dist, dry_run=args.launch_dry_run)

    _setup_logging(config.logging.log_level)
    if launched:
        logger.info("rank %d of %d (%s)", rank(), world_size(), dist.backend.value)
    from ..run import build_trainer

    try:
        trainer = build_trainer(config)
    except (ConfigValidationError, SpecStringError, ValueError, RuntimeError) as exc:
        print(f"cannot start training: {exc}", file=sys.stderr)
        return EXIT_INVALID
    metrics = run_training(trainer)
    if rank() == 0:
        shown = {k: v for k, v in metrics.items() if isinstance(v, (int, float)) and not k.startswith("total_flos")}
        print(f"done: {config.algo.value} on {config.model.name_or_path}; "
              + ", ".join(f"{k}={v:.4g}" for k, v in sorted(shown.items())))
        print(f"model saved to {metrics['model_path']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
