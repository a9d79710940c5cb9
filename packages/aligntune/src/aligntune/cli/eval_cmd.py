"""``aligntune eval``: evaluate a model (a folder, an embedded or Hub name, or a run's output folder) on
datasets given as spec strings, with registry metrics, writing a report per dataset."""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path
from typing import Any, Optional

import typer

logger = logging.getLogger("aligntune.cli.eval")


class EvalInputError(ValueError):
    """A model, dataset or metric argument of ``aligntune eval`` that cannot be used, with the reason."""


def parse_metric(text: str) -> tuple[str, dict[str, Any]]:
    """``name`` or ``name:key=value:key=value`` -> ``(name, params)`` (values parsed like spec strings)."""
    from aligntune_config.spec_strings import parse_value

    name, *parts = text.split(":")
    if not name.strip():
        raise EvalInputError(f"--metric {text!r}: the metric name is empty")
    params: dict[str, Any] = {}
    for part in parts:
        key, eq, value = part.partition("=")
        if not eq or not key.strip():
            raise EvalInputError(f"--metric {text!r}: {part!r} must be key=value (e.g. reward_score:reward=length)")
        params[key.strip()] = parse_value(value)
    return name.strip(), params


def find_run(model: str) -> tuple[str, Any]:
    """``(model location, run config or None)``: a run's output folder (with ``resolved_config.yaml``)
    evaluates its ``final_model``; anything else is a model location as given."""
    from aligntune_config.loader import RESOLVED_FILENAME

    folder = Path(model)
    if not (folder / RESOLVED_FILENAME).is_file():
        return model, None
    from aligntune_config import ConfigLoader

    config = ConfigLoader.load(folder / RESOLVED_FILENAME)
    final = folder / "final_model"
    if not final.is_dir():
        raise EvalInputError(f"{model!r} is a run folder without final_model/: the run has not saved its model yet")
    return str(final), config


def load_model(model: str, run_config: Any = None) -> tuple[Any, Any]:
    """Model and tokenizer for evaluation. A folder holding only a LoRA adapter is put on its base model
    (the run's ``model`` settings, else the adapter's ``base_model_name_or_path``)."""
    from aligntune_backends.models import ModelLoadError, load_model_and_tokenizer
    from aligntune_config import ModelConfig

    folder = Path(model)
    adapter = folder / "adapter_config.json"
    try:
        if adapter.is_file():
            from peft import PeftModel
            from transformers import AutoTokenizer

            if run_config is not None:
                base_config = run_config.model
            else:
                base_config = ModelConfig(name_or_path=json.loads(adapter.read_text())["base_model_name_or_path"])
            base, _ = load_model_and_tokenizer(base_config, for_training=False)
            return PeftModel.from_pretrained(base, str(folder)).eval(), AutoTokenizer.from_pretrained(str(folder))
        return load_model_and_tokenizer(ModelConfig(name_or_path=model), for_training=False)
    except (ModelLoadError, OSError) as exc:
        raise EvalInputError(f"model {model!r} cannot be loaded: {exc}") from exc


def _slug(spec: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", Path(spec.split("#")[0].split("?")[0]).name or spec).strip("_") or "dataset"


def evaluate(model: str, datasets: list[str], metrics: list[str] | None = None, *, output_dir: str | None = None,
             max_samples: int | None = None, max_new_tokens: int | None = None, temperature: float | None = None,
             batch_size: int | None = None, seed: int = 0) -> dict[str, dict[str, Any]]:
    """Evaluate ``model`` on each dataset spec; returns ``{dataset spec: report}``.

    Without ``metrics`` the evaluation settings of the run (for a run folder) or EvaluationConfig's
    defaults choose them (``compute_*`` switches, ``metrics``). Reports go to
    ``<output_dir>/<dataset>/report.{json,md}`` (default output_dir: ``<run>/eval`` for a run folder, else
    ``eval_results``).
    """
    from aligntune_config.evaluation import EvaluationConfig
    from aligntune_data import load_dataset
    from aligntune_eval import UnifiedEvaluator

    if not datasets:
        raise EvalInputError("no dataset given: pass --dataset SPEC (e.g. /path/gsm8k_test.jsonl#max=50)")
    location, run_config = find_run(model)
    parsed = [parse_metric(m) for m in metrics or []]
    evaluation = run_config.evaluation if run_config is not None else EvaluationConfig()
    if max_new_tokens is not None or temperature is not None or batch_size is not None:
        evaluation = evaluation.model_copy(update={k: v for k, v in {
            "max_new_tokens": max_new_tokens, "eval_temperature": temperature, "eval_batch_size": batch_size}.items()
            if v is not None})
    out_root = Path(output_dir) if output_dir else (Path(model) / "eval" if run_config is not None else Path("eval_results"))
    loaded, tokenizer = load_model(location, run_config)
    results: dict[str, dict[str, Any]] = {}
    slugs: dict[str, int] = {}
    for spec in datasets:
        rows = load_dataset(spec, format="prompt", data_seed=seed)
        slug = _slug(spec)
        slugs[slug] = slugs.get(slug, 0) + 1
        folder = out_root / (slug if slugs[slug] == 1 else f"{slug}_{slugs[slug]}")
        evaluator = UnifiedEvaluator(loaded, rows, [name for name, _ in parsed] or None, tokenizer=tokenizer,
                                     config=evaluation, max_samples=max_samples, seed=seed, output_dir=folder,
                                     metric_params={name: params for name, params in parsed if params})
        evaluator.evaluate()
        report = dict(evaluator.last_report or {})
        report["model"] = model
        (folder / "report.json").write_text(json.dumps(report, indent=2, default=str), encoding="utf-8")
        results[spec] = report
        logger.info("%s: %s", spec, report["metrics"])
    return results


def eval_command(
    model: str = typer.Argument(..., help="Model folder, embedded:NAME, Hub id, or a run's output folder "
                                          "(evaluates its final_model with the run's evaluation settings)."),
    dataset: Optional[list[str]] = typer.Option(None, "--dataset", help="Dataset spec (repeatable), e.g. "
                                                "/data/gsm8k_test.jsonl#max=50 or builtin:arithmetic#max=20."),
    metric: Optional[list[str]] = typer.Option(None, "--metric", help="Metric name (repeatable; `aligntune list "
                                               "metrics`), with parameters as name:key=value."),
    output_dir: Optional[str] = typer.Option(None, "--output-dir", help="Reports go to OUTPUT_DIR/<dataset>/."),
    max_samples: Optional[int] = typer.Option(None, "--max-samples", min=1, help="Rows per dataset."),
    max_new_tokens: Optional[int] = typer.Option(None, "--max-new-tokens", min=1, help="Tokens generated per prompt."),
    temperature: Optional[float] = typer.Option(None, "--temperature", min=0.0, help="0 = greedy."),
    batch_size: Optional[int] = typer.Option(None, "--batch-size", min=1, help="Prompts generated together."),
    seed: int = typer.Option(0, "--seed", help="Sampling and data seed."),
) -> None:
    """Evaluate a model on datasets with metrics; write report.json, report.md and predictions.jsonl per dataset."""
    from aligntune_config import ConfigValidationError, SpecStringError
    from aligntune_config.registry import UnknownComponentError
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    console = Console()
    try:
        from aligntune_data import DataError

        reports = evaluate(model, list(dataset or []), list(metric or []), output_dir=output_dir,
                           max_samples=max_samples, max_new_tokens=max_new_tokens, temperature=temperature,
                           batch_size=batch_size, seed=seed)
    except (EvalInputError, DataError, ConfigValidationError, SpecStringError, UnknownComponentError) as exc:
        console.print(Text(f"cannot evaluate: {exc}", style="bold red"), soft_wrap=True)
        raise typer.Exit(code=1) from None
    failed = False
    for spec, report in reports.items():
        table = Table(title=f"{spec} ({report['num_samples']} rows)", title_justify="left")
        table.add_column("metric", style="bold")
        table.add_column("value", justify="right")
        for name, value in sorted(report["metrics"].items()):
            table.add_row(Text(name), f"{value:.4f}")
        console.print(table)
        for name, error in sorted(report["errors"].items()):
            failed = True
            console.print(Text(f"metric {name} failed: {error}", style="red"), soft_wrap=True)
        console.print(Text(f"report: {report['files']['json']}"), soft_wrap=True)
    if failed:
        raise typer.Exit(code=1)
