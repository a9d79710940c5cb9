"""Writing evaluation reports: ``report.json`` (everything) and ``report.md`` (a table)."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return str(value)
        return f"{value:.4f}"
    return str(value)


def to_markdown(report: dict[str, Any]) -> str:
    """A Markdown summary: settings, then a ``| Metric | Value |`` table, then any errors."""
    lines = ["# Evaluation report", ""]
    for key in ("model", "evaluation", "num_samples", "num_generated", "num_pairs", "num_zero_shot_prompts",
                "num_few_shot_prompts", "beta"):
        if key in report:
            lines.append(f"- **{key}**: {report[key]}")
    gen = report.get("generation") or {}
    if gen:
        lines.append("- **generation**: " + ", ".join(f"{k}={v}" for k, v in gen.items()))
    lines += ["", "| Metric | Value |", "|---|---|"]
    for name, value in sorted(report.get("metrics", {}).items()):
        lines.append(f"| {name} | {_fmt(value)} |")
    skipped = report.get("skipped") or {}
    if skipped:
        lines += ["", "## Skipped", ""]
        lines += [f"- `{name}`: {reason}" for name, reason in sorted(skipped.items())]
    errors = report.get("errors") or {}
    if errors:
        lines += ["", "## Errors", ""]
        lines += [f"- `{name}`: {message}" for name, message in sorted(errors.items())]
    return "\n".join(lines) + "\n"


def write_report(report: dict[str, Any], output_dir: str | Path, predictions: list[dict] | None = None) -> dict[str, str]:
    """Write ``report.json``, ``report.md`` and (when given) ``predictions.jsonl``; return their paths."""
    out = Path(output_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {"json": out / "report.json", "markdown": out / "report.md"}
    paths["json"].write_text(json.dumps(report, indent=2, default=str), encoding="utf-8")
    paths["markdown"].write_text(to_markdown(report), encoding="utf-8")
    if predictions is not None:
        paths["predictions"] = out / "predictions.jsonl"
        with paths["predictions"].open("w", encoding="utf-8") as fh:
            for row in predictions:
                fh.write(json.dumps(row, default=str) + "\n")
    return {k: str(v) for k, v in paths.items()}
