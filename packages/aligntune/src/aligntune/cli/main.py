"""``aligntune`` — the command line. ``aligntune --help`` imports no torch."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

app = typer.Typer(
    name="aligntune",
    help="Post-train language models: SFT, DPO, reward models, PPO, GRPO and friends behind one config.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # plain help: typer's rich help formatter costs ~0.3 s of imports per call
)

ConfigArg = typer.Argument(None, help="YAML or JSON config file.", exists=False, dir_okay=False, metavar="CONFIG")
SetOpt = typer.Option(None, "--set", help="Override any field: --set train.learning_rate=1e-5 (repeatable).")
AlgoOpt = typer.Option(None, "--algo", help="Algorithm: sft, dpo, reward_model, ppo, grpo, gspo, dapo, drgrpo, nmgrpo or meta_es.")
ModelOpt = typer.Option(None, "--model", help="Model id, path or embedded:NAME.")
DatasetOpt = typer.Option(None, "--dataset", help="Dataset spec (repeatable).")
RewardOpt = typer.Option(None, "--reward", help="Reward spec (repeatable).")
TypeOpt = typer.Option(None, "--type", help="sft (same as --algo sft).")
BackendOpt = typer.Option(None, "--backend", help="trl, unsloth or auto.")
MaxStepsOpt = typer.Option(None, "--max-steps", help="Optimizer steps (train.max_steps).")
EpochsOpt = typer.Option(None, "--epochs", help="Epochs (train.epochs).")
BatchSizeOpt = typer.Option(None, "--batch-size", help="Per-device batch size (train.per_device_batch_size).")
OutputDirOpt = typer.Option(None, "--output-dir", help="Output folder (logging.output_dir).")


def _fail(console, title: str, message: object) -> None:
    """Print ``title: message`` (the message as plain text: ``[check]`` in it is not rich markup), exit 1."""
    from rich.text import Text

    console.print(Text.assemble((title, "bold red"), ": ", str(message)), highlight=False, soft_wrap=True)
    raise typer.Exit(code=1)


def _resolve_or_exit(console, config, **flags):
    """The config the flags describe (same for validate and train); every error printed, exit code 1."""
    from aligntune_config import ConfigValidationError, SpecStringError

    from .resolve import resolve_cli_config

    try:
        return resolve_cli_config(config, **flags)
    except (ConfigValidationError, SpecStringError) as exc:
        _fail(console, "invalid config", exc)


@app.command()
def validate(
    config: Optional[Path] = ConfigArg,
    algo: Optional[str] = AlgoOpt,
    model: Optional[str] = ModelOpt,
    dataset: Optional[list[str]] = DatasetOpt,
    reward: Optional[list[str]] = RewardOpt,
    max_steps: Optional[int] = MaxStepsOpt,
    type_: Optional[str] = TypeOpt,
    epochs: Optional[float] = EpochsOpt,
    batch_size: Optional[int] = BatchSizeOpt,
    backend: Optional[str] = BackendOpt,
    output_dir: Optional[str] = OutputDirOpt,
    sets: Optional[list[str]] = SetOpt,
    show: bool = typer.Option(False, "--print", help="Print the resolved config as YAML."),
) -> None:
    """Resolve a config exactly as training will and report every problem (exit code 1 if any)."""
    from rich.console import Console

    from aligntune_config import ConfigLoader, ConfigValidationError, SpecStringError

    console = Console()
    resolved = _resolve_or_exit(console, config, algo=algo, model=model, datasets=dataset, rewards=reward,
                                max_steps=max_steps, training_type=type_, epochs=epochs, batch_size=batch_size,
                                backend=backend, output_dir=output_dir, sets=sets)
    try:
        resolved = ConfigLoader.validate_config(resolved)
    except (ConfigValidationError, SpecStringError) as exc:
        _fail(console, "invalid config", exc)
    if show:
        console.print(ConfigLoader.dumps(resolved), highlight=False, markup=False, soft_wrap=True)
    datasets = ", ".join(d.to_spec() for d in resolved.datasets)
    console.print(
        f"[green]valid[/]: {resolved.algo.value} on {resolved.model.name_or_path} "
        f"(backend {resolved.backend.value}); datasets: {datasets}; "
        f"rewards: {', '.join(r.type for r in resolved.rewards) or 'none'}",
        highlight=False, soft_wrap=True,
    )


@app.command()
def train(
    config: Optional[Path] = ConfigArg,
    algo: Optional[str] = AlgoOpt,
    model: Optional[str] = ModelOpt,
    dataset: Optional[list[str]] = DatasetOpt,
    reward: Optional[list[str]] = RewardOpt,
    max_steps: Optional[int] = MaxStepsOpt,
    type_: Optional[str] = TypeOpt,
    epochs: Optional[float] = EpochsOpt,
    batch_size: Optional[int] = BatchSizeOpt,
    backend: Optional[str] = BackendOpt,
    output_dir: Optional[str] = OutputDirOpt,
    sets: Optional[list[str]] = SetOpt,
    distributed: Optional[str] = typer.Option(None, "--distributed", help="single, ddp, fsdp or deepspeed (started with `accelerate launch`)."),
    num_processes: Optional[int] = typer.Option(None, "--num-processes", help="Processes in total (distributed.num_processes)."),
) -> None:
    """Train: the same resolution as `validate`, then data, rewards, model, training, and the saved model."""
    from rich.console import Console

    console = Console()
    sets = [*(sets or []), *([f"distributed.backend={distributed}"] if distributed else []),
            *([f"distributed.num_processes={num_processes}"] if num_processes else [])]
    resolved = _resolve_or_exit(console, config, algo=algo, model=model, datasets=dataset, rewards=reward,
                                max_steps=max_steps, training_type=type_, epochs=epochs, batch_size=batch_size,
                                backend=backend, output_dir=output_dir, sets=sets)
    from .train_unified import argv_from, launched_process

    if (resolved.distributed.world_size > 1 or resolved.distributed.nodes > 1) and not launched_process():
        from ..launch import launch  # one process per rank through `accelerate launch`

        raise typer.Exit(code=launch(argv_from(config, algo=algo, model=model, datasets=dataset, rewards=reward,
                                               max_steps=max_steps, training_type=type_, epochs=epochs,
                                               batch_size=batch_size, backend=backend, output_dir=output_dir,
                                               sets=sets), resolved.distributed))
    _train_and_show(console, resolved)


def _train_and_show(console, resolved) -> None:
    """Train ``resolved`` in this process; print the metrics, the before/after table and the model path."""
    import logging

    from rich.logging import RichHandler

    from aligntune_config import ConfigValidationError, SpecStringError

    logging.basicConfig(level=resolved.logging.log_level, format="%(message)s",
                        handlers=[RichHandler(console=console, show_path=False)])
    from ..run import train as run_training

    try:
        result = run_training(resolved)
    except (ConfigValidationError, SpecStringError, ValueError, RuntimeError) as exc:
        _fail(console, "cannot train", exc)
    metrics = result["metrics"]
    shown = {k: v for k, v in metrics.items() if isinstance(v, (int, float)) and not k.startswith("total_flos")}
    console.print(f"[green]done[/]: {resolved.algo.value} on {resolved.model.name_or_path}; "
                  + ", ".join(f"{k}={v:.4g}" for k, v in sorted(shown.items())), highlight=False, soft_wrap=True)
    if result["before"] is not None:
        from rich.table import Table

        table = Table(title="evaluation before and after training", title_justify="left")
        for column in ("metric", "before", "after", "change"):
            table.add_column(column)
        for key in sorted(set(result["before"]) | set(result["after"])):
            b, a = result["before"].get(key), result["after"].get(key)
            change = f"{a - b:+.4g}" if isinstance(a, float) and isinstance(b, float) else ""
            table.add_row(key, f"{b:.4g}" if b is not None else "-", f"{a:.4g}" if a is not None else "-", change)
        console.print(table)
    console.print(f"model saved to [bold]{result['model_path']}[/]", highlight=False)


@app.command()
def resume(
    run_dir: Path = typer.Argument(..., help="Output folder of the run (its logging.output_dir).", file_okay=False,
                                   metavar="RUN_DIR"),
    max_steps: Optional[int] = typer.Option(None, "--max-steps", help="Train up to this step (extends a finished run)."),
    checkpoint: Optional[Path] = typer.Option(None, "--checkpoint", help="This checkpoint instead of the latest."),
    sets: Optional[list[str]] = SetOpt,
) -> None:
    """Continue a run from its output folder: its saved config and latest checkpoint (Meta-ES: its ES state)."""
    from rich.console import Console

    from aligntune_config import ConfigLoader, ConfigValidationError, SpecStringError

    from .resume import launch_args, progress, resume_config

    console = Console()
    try:
        resolved, found = resume_config(run_dir, max_steps=max_steps, sets=sets, checkpoint=checkpoint)
        resolved = ConfigLoader.validate_config(resolved)
    except (ConfigValidationError, SpecStringError) as exc:
        _fail(console, "cannot resume", exc)
    step, limit, raise_with = progress(resolved, found)
    if limit is not None and limit <= step:
        _fail(console, "cannot resume", f"{found.name} is at step {step} of {limit}; pass {raise_with} with N "
              f"greater than {step} to train further")
    console.print(f"resuming {resolved.algo.value} from {found} (step {step})", highlight=False, soft_wrap=True)
    from .train_unified import launched_process

    if (resolved.distributed.world_size > 1 or resolved.distributed.nodes > 1) and not launched_process():
        from ..launch import launch  # every process resumes: the same config, through train_unified

        raise typer.Exit(code=launch(launch_args(run_dir, found, max_steps=max_steps, sets=sets),
                                     resolved.distributed))
    _train_and_show(console, resolved)


@app.command()
def report(
    run_dir: Path = typer.Argument(..., help="Output folder of a finished or running run.", file_okay=False,
                                   metavar="RUN_DIR"),
    out: Optional[Path] = typer.Option(None, "--out", help="Write here instead of RUN_DIR/report."),
) -> None:
    """Plot a run's logged metrics (loss, reward, KL, lengths, learning rate) as PNGs and one HTML page."""
    from rich.console import Console

    from .report import write_report

    console = Console()
    try:
        written = write_report(run_dir, out)
    except FileNotFoundError as exc:
        _fail(console, "no report", exc)
    for image in written["images"]:
        console.print(f"wrote {image}", highlight=False, soft_wrap=True)
    console.print(f"report: [bold]{written['html']}[/] (metrics up to step {written['metrics'].last_step:g})",
                  highlight=False, soft_wrap=True)


@app.command("list")
def list_(kind: Optional[str] = typer.Argument(None, help="algorithms, backends, rewards, metrics, datasets, adapters, models", metavar="KIND")) -> None:
    """List what AlignTune can use here: algorithms, backends (with availability), rewards, metrics, ..."""
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from .inspect_cmds import KINDS, rows

    if kind is not None and kind not in KINDS:
        typer.echo(f"unknown kind {kind!r}; valid: {', '.join(KINDS)}", err=True)
        raise typer.Exit(code=2)
    console = Console()
    for name in [kind] if kind else KINDS:
        table = Table(title=name, show_lines=False, title_justify="left")
        table.add_column("name", style="bold")
        table.add_column("description")
        for item, description in rows(name):
            table.add_row(Text(item), Text(description))  # plain text: "[...]" is not rich markup
        console.print(table)


@app.command()
def doctor() -> None:
    """Versions, devices and which optional parts work on this machine."""
    from rich.console import Console
    from rich.table import Table

    from .inspect_cmds import doctor_report

    table = Table(title="aligntune doctor", title_justify="left")
    for column in ("section", "item", "finding"):
        table.add_column(column)
    from rich.text import Text

    for row in doctor_report():
        table.add_row(*(Text(cell) for cell in row))
    Console().print(table)


@app.command()
def schema(output: Optional[Path] = typer.Argument(None, help="Write here instead of standard output.", metavar="OUTPUT")) -> None:
    """Print the JSON Schema of a config file (for editor completion and validation)."""
    import json

    from aligntune_config import export_json_schema

    text = json.dumps(export_json_schema(), indent=2) + "\n"
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        typer.echo(f"wrote {output}")


@app.command()
def version() -> None:
    """Print the versions of the AlignTune packages installed here."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as dist_version

    for name in ("aligntune", "aligntune-config", "aligntune-data", "aligntune-rewards", "aligntune-algos",
                 "aligntune-backends", "aligntune-eval"):
        try:
            typer.echo(f"{name} {dist_version(name)}")
        except PackageNotFoundError:
            typer.echo(f"{name} (not installed)")


from .eval_cmd import eval_command  # light module: torch and the evaluator load inside the command

app.command("eval")(eval_command)


if __name__ == "__main__":
    app()
