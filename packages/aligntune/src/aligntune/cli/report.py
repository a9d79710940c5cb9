"""``aligntune report RUN_DIR``: plots of a finished or running run from its logged metrics.

Reads ``<run>/metrics.jsonl`` (one JSON object per logging step, written by the TRL engine's
``JsonlMetricsCallback`` and by the PPO trainer) or, when that file is absent, the ``log_history`` of
``trainer_state.json`` (the run folder's, else its latest checkpoint's). Metrics are grouped into panels —
loss, reward, KL, completion lengths, learning rate, and the other numeric metrics — each written as a
PNG, plus one self-contained HTML page with the PNGs embedded and the latest value of every metric.
A running run can be reported again at any time: the files are rewritten from what has been logged.
matplotlib is imported only here (Agg canvas, no pyplot state).
"""

from __future__ import annotations

import base64
import html
import json
import logging
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

logger = logging.getLogger("aligntune")

#: (panel file stem, title) in page order; ``panel_of`` assigns each metric to one.
PANELS = (("loss", "Loss"), ("reward", "Reward"), ("kl", "KL divergence"), ("lengths", "Completion lengths"),
          ("learning_rate", "Learning rate"), ("fitness", "Meta-ES fitness"), ("other", "Other metrics"))
META_ES_STATE = "meta_es_state.json"
#: Bookkeeping keys of a record, never plotted.
NOT_METRICS = {"step", "epoch", "time", "episode"}
#: Keys of the end-of-training summary record (one point, not a curve).
SUMMARY_KEYS = {"train_runtime", "train_samples_per_second", "train_steps_per_second", "total_flos", "train_loss"}
MAX_LINES = 8  # curves per panel; the rest are listed in the table only

_KL = re.compile(r"(^|[/_])kl($|[/_])", re.IGNORECASE)


@dataclass
class RunMetrics:
    """Curves of one run: metric -> [(step, value)], from ``source``."""

    source: Path
    series: dict[str, list[tuple[float, float]]] = field(default_factory=dict)

    @property
    def last_step(self) -> float:
        return max((points[-1][0] for points in self.series.values() if points), default=0)


def panel_of(key: str) -> str:
    """The panel a metric is drawn in."""
    low = key.lower()
    if _KL.search(low):
        return "kl"
    if "loss" in low:
        return "loss"
    if "reward" in low:
        return "reward"
    if "fitness" in low:
        return "fitness"
    if "length" in low:
        return "lengths"
    if low in ("learning_rate", "lr"):
        return "learning_rate"
    return "other"


def _records_from_state(path: Path) -> list[dict[str, Any]]:
    return list(json.loads(path.read_text(encoding="utf-8")).get("log_history", []))


def find_source(run_dir: Path) -> Path | None:
    """metrics.jsonl, else trainer_state.json of the run folder, else Meta-ES's state file (one record per ES
    iteration), else the trainer state of the latest checkpoint."""
    run_dir = Path(run_dir)
    for candidate in (run_dir / "metrics.jsonl", run_dir / "trainer_state.json", run_dir / META_ES_STATE):
        if candidate.is_file():
            return candidate
    from .resume import latest_checkpoint

    checkpoint = latest_checkpoint(run_dir)
    return checkpoint / "trainer_state.json" if checkpoint is not None else None


def read_records(source: Path) -> list[dict[str, Any]]:
    """The logged records of ``source``; a partly written last line (a running run) is skipped."""
    if source.name == META_ES_STATE:  # step = ES iterations done
        history = json.loads(source.read_text(encoding="utf-8")).get("history", [])
        return [{**{k: v for k, v in record.items() if k != "iteration"}, "step": record["iteration"] + 1}
                for record in history]
    if source.suffix == ".json":
        return _records_from_state(source)
    records = []
    for number, line in enumerate(source.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            logger.warning("%s line %d is not JSON (still being written?); skipped", source, number)
    return records


def collect(records: list[dict[str, Any]], source: Path) -> RunMetrics:
    """Numeric curves by metric. A step logged twice (a resumed run re-doing steps after its checkpoint)
    keeps its latest value."""
    by_key: dict[str, dict[float, float]] = {}
    for record in records:
        step = record.get("step")
        if not isinstance(step, (int, float)) or SUMMARY_KEYS & record.keys():
            continue
        for key, value in record.items():
            if key in NOT_METRICS or isinstance(value, bool) or not isinstance(value, (int, float)):
                continue
            if math.isfinite(value):
                by_key.setdefault(key, {})[float(step)] = float(value)
    series = {key: sorted(points.items()) for key, points in sorted(by_key.items())}
    return RunMetrics(source=source, series=series)


def load_run(run_dir: Path) -> RunMetrics:
    """The curves of the run in ``run_dir`` (FileNotFoundError naming the files looked for)."""
    source = find_source(run_dir)
    if source is None:
        raise FileNotFoundError(f"{run_dir} has no metrics.jsonl (logging.loggers: [jsonl]), no "
                                f"trainer_state.json (in the folder or a checkpoint-<step> folder) and no {META_ES_STATE}")
    metrics = collect(read_records(source), source)
    if not metrics.series:
        raise FileNotFoundError(f"{source} holds no logged metrics yet (is the run past its first logging step?)")
    return metrics


def _plot(title: str, curves: dict[str, list[tuple[float, float]]], target: Path) -> None:
    from matplotlib.figure import Figure

    if title == "Other metrics":  # different scales: one small plot per metric
        keys = list(curves)[:12]
        cols = min(3, len(keys))
        rows = math.ceil(len(keys) / cols)
        fig = Figure(figsize=(4.2 * cols, 2.8 * rows), layout="constrained")
        axes = fig.subplots(rows, cols, squeeze=False).ravel()
        for ax, key in zip(axes, keys):
            steps, values = zip(*curves[key])
            ax.plot(steps, values, marker="o" if len(steps) < 20 else None, markersize=3)
            ax.set_title(key, fontsize=9)
            ax.set_xlabel("step", fontsize=8)
            ax.grid(alpha=0.3)
        for ax in axes[len(keys):]:
            ax.set_visible(False)
    else:
        fig = Figure(figsize=(7, 3.8), layout="constrained")
        ax = fig.subplots()
        for key, points in list(curves.items())[:MAX_LINES]:
            steps, values = zip(*points)
            ax.plot(steps, values, label=key, marker="o" if len(steps) < 20 else None, markersize=3)
        ax.set_title(title)
        ax.set_xlabel("step")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.savefig(target, dpi=100)


def _run_summary(run_dir: Path) -> list[tuple[str, str]]:
    from aligntune_config.loader import RESOLVED_FILENAME

    rows = [("run folder", str(Path(run_dir).resolve()))]
    saved = Path(run_dir) / RESOLVED_FILENAME
    if saved.is_file():
        import yaml

        config = yaml.safe_load(saved.read_text(encoding="utf-8")) or {}
        train = config.get("train") or {}
        rows += [("algorithm", str(config.get("algo"))), ("model", str((config.get("model") or {}).get("name_or_path"))),
                 ("max steps", str(train.get("max_steps"))), ("learning rate", str(train.get("learning_rate")))]
    if (Path(run_dir) / "final_model").is_dir():
        rows.append(("final model", str((Path(run_dir) / "final_model").resolve())))
    else:
        rows.append(("final model", "not saved yet (running or stopped early)"))
    return rows


def evaluation_rows(run_dir: Path) -> list[tuple[str, float | None, float | None]]:
    """(metric, before, after) of the run's before/after evaluation (``eval_before``/``eval_after``
    ``report.json``, written with ``evaluation.before_after``); empty when there is none."""
    scores = []
    for phase in ("before", "after"):
        path = Path(run_dir) / f"eval_{phase}" / "report.json"
        metrics = json.loads(path.read_text(encoding="utf-8")).get("metrics", {}) if path.is_file() else {}
        scores.append({k: float(v) for k, v in metrics.items() if isinstance(v, (int, float)) and not isinstance(v, bool)})
    before, after = scores
    return [(key, before.get(key), after.get(key)) for key in sorted(before.keys() | after.keys())]


def _evaluation_html(run_dir: Path) -> str:
    rows = evaluation_rows(run_dir)
    if not rows:
        return ""

    def cell(value: float | None) -> str:
        return "-" if value is None else f"{value:.4g}"

    body = "".join(
        f"<tr><td>{html.escape(key)}</td><td>{cell(b)}</td><td>{cell(a)}</td>"
        f"<td>{f'{a - b:+.4g}' if a is not None and b is not None else ''}</td></tr>" for key, b, a in rows)
    return ("<h2>Evaluation before and after training</h2>"
            f"<table><tr><th>metric</th><th>before</th><th>after</th><th>change</th></tr>{body}</table>")


def _html(run_dir: Path, metrics: RunMetrics, images: list[tuple[str, Path]]) -> str:
    esc = html.escape
    summary = "".join(f"<tr><th>{esc(k)}</th><td>{esc(v)}</td></tr>" for k, v in _run_summary(run_dir))
    summary += (f"<tr><th>metrics from</th><td>{esc(str(metrics.source))}</td></tr>"
                f"<tr><th>last logged step</th><td>{metrics.last_step:g}</td></tr>")
    figures = "".join(
        f'<figure><img alt="{esc(title)}" src="data:image/png;base64,'
        f'{base64.b64encode(path.read_bytes()).decode("ascii")}"><figcaption>{esc(title)}</figcaption></figure>'
        for title, path in images)
    last = "".join(
        f"<tr><td>{esc(key)}</td><td>{points[-1][1]:.6g}</td><td>{points[-1][0]:g}</td><td>{len(points)}</td></tr>"
        for key, points in metrics.series.items())
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>AlignTune run report: {esc(Path(run_dir).name)}</title>
<style>body{{font-family:system-ui,sans-serif;margin:2em;max-width:1100px}}table{{border-collapse:collapse;margin:1em 0}}
th,td{{border:1px solid #ccc;padding:.25em .6em;text-align:left}}img{{max-width:100%}}figure{{margin:1.5em 0}}</style>
</head><body><h1>Run report: {esc(Path(run_dir).name)}</h1>
<table>{summary}</table>
{_evaluation_html(run_dir)}
{figures}
<h2>Latest values</h2>
<table><tr><th>metric</th><th>value</th><th>step</th><th>points</th></tr>{last}</table>
</body></html>
"""


def write_report(run_dir: Path, out_dir: Path | None = None) -> dict[str, Any]:
    """Write ``<panel>.png`` for each panel with data and ``report.html`` into ``out_dir`` (default
    ``<run_dir>/report``). Returns ``{"html": path, "images": [paths], "metrics": RunMetrics}``."""
    run_dir = Path(run_dir)
    metrics = load_run(run_dir)
    out_dir = Path(out_dir) if out_dir is not None else run_dir / "report"
    out_dir.mkdir(parents=True, exist_ok=True)
    panels: dict[str, dict[str, list[tuple[float, float]]]] = {}
    for key, points in metrics.series.items():
        panels.setdefault(panel_of(key), {})[key] = points
    images = []
    for stem, title in PANELS:
        if stem in panels:
            target = out_dir / f"{stem}.png"
            _plot(title, panels[stem], target)
            images.append((title, target))
    page = out_dir / "report.html"
    page.write_text(_html(run_dir, metrics, images), encoding="utf-8")
    logger.info("report of %s (%d metrics up to step %g) written to %s", run_dir, len(metrics.series),
                metrics.last_step, page)
    return {"html": page, "images": [path for _, path in images], "metrics": metrics}
