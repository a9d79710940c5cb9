"""A bridge to EleutherAI's lm-evaluation-harness: run its tasks on an AlignTune model through its HFLM.

lm-eval is optional (``pip install 'aligntune[lm-eval]'``); importing this module does not import it.
Tasks are lm-eval task names (``hellaswag``, ``gsm8k`` -- these download their data from the Hub), task
config dicts, or paths of task YAML files / folders of them (``include_path``), which may read local
files (``dataset_path: json`` with ``dataset_kwargs.data_files``) and so run offline.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

logger = logging.getLogger("aligntune.eval.lm_eval")
INSTALL_HINT = "pip install 'aligntune[lm-eval]' (or pip install lm-eval)"


def require_lm_eval() -> Any:
    """The ``lm_eval`` module, or an ImportError naming the extra that installs it."""
    try:
        import lm_eval
    except ImportError as exc:
        raise ImportError(f"the lm-evaluation-harness bridge needs the lm-eval package, which is not installed: "
                          f"{INSTALL_HINT}") from exc
    return lm_eval


def _split_tasks(tasks: str | Sequence[Any]) -> tuple[list[Any], list[str]]:
    """(task names or config dicts, include paths) from names, dicts and YAML files/folders."""
    items = [tasks] if isinstance(tasks, (str, Path, Mapping)) else list(tasks)
    if not items:
        raise ValueError("no lm-eval tasks given: pass task names, task config dicts or task YAML paths")
    out: list[Any] = []
    include: list[str] = []
    for item in items:
        if isinstance(item, Mapping):
            out.append(dict(item))
            continue
        path = Path(str(item))
        if path.suffix in (".yaml", ".yml"):
            if not path.is_file():
                raise FileNotFoundError(f"lm-eval task file {str(path)!r} does not exist")
            import yaml

            name = (yaml.safe_load(path.read_text()) or {}).get("task")
            if not name:
                raise ValueError(f"lm-eval task file {str(path)!r} has no 'task:' name")
            include.append(str(path.parent))
            out.append(str(name))
        elif path.is_dir():
            raise ValueError(f"{str(path)!r} is a folder: name its task YAML files (or pass include_path= and task names)")
        else:
            out.append(str(item))
    return out, include


def flat_metrics(results: Mapping[str, Mapping[str, Any]]) -> dict[str, float]:
    """``{"task/metric": value}`` from lm-eval's ``results`` (``acc,none`` -> ``acc``; other filters kept as
    ``acc,filter``); non-numeric entries (aliases, "N/A" stderrs) are left out."""
    flat: dict[str, float] = {}
    for task, values in results.items():
        for key, value in values.items():
            if key == "alias" or isinstance(value, bool) or not isinstance(value, (int, float)):
                continue
            name = key.removesuffix(",none")
            if not (isinstance(value, float) and math.isnan(value)):
                flat[f"{task}/{name}"] = float(value)
    return flat


def run_lm_eval(model: Any, tasks: str | Sequence[Any], *, tokenizer: Any = None,
                model_loader: Callable[[str], Any] | None = None, include_path: str | Sequence[str] | None = None,
                num_fewshot: int | None = None, limit: float | None = None, batch_size: int = 8,
                device: str | None = None, max_length: int | None = None, gen_kwargs: Mapping[str, Any] | None = None,
                log_samples: bool = True, apply_chat_template: bool = False, seed: int = 0,
                output_dir: str | Path | None = None) -> dict[str, Any]:
    """Evaluate ``model`` on lm-eval ``tasks``; returns ``{"metrics": {"task/metric": value}, "results",
    "samples", "config"}``.

    ``model``: a transformers causal LM object (with ``tokenizer=``), a local folder, or a name that
    ``model_loader(name)`` turns into a model or ``(model, tokenizer)`` (the aligntune meta-package passes
    its loader, so ``embedded:smollm2-135m-instruct`` works). ``limit`` caps the documents per task.
    ``output_dir``: ``lm_eval_results.json`` (metrics, lm-eval's results and configs) and
    ``lm_eval_samples.jsonl`` (the per-document records lm-eval logs).
    """
    require_lm_eval()
    from lm_eval import simple_evaluate
    from lm_eval.models.huggingface import HFLM
    from lm_eval.tasks import TaskManager

    from .models import default_device, load_causal_lm

    names, included = _split_tasks(tasks)
    paths = [include_path] if isinstance(include_path, str) else list(include_path or [])
    paths += [p for p in included if p not in paths]
    if device is None and isinstance(model, (str, Path)):
        device = default_device()
    loaded, tok = load_causal_lm(model, tokenizer, model_loader=model_loader, device=device)
    device = device or str(next(loaded.parameters()).device)
    lm = HFLM(pretrained=loaded, tokenizer=tok, batch_size=batch_size, device=device, max_length=max_length)
    manager = TaskManager(include_path=paths or None)
    out = simple_evaluate(model=lm, tasks=names, num_fewshot=num_fewshot, limit=limit, task_manager=manager,
                          log_samples=log_samples, gen_kwargs=dict(gen_kwargs) if gen_kwargs else None,
                          apply_chat_template=apply_chat_template, random_seed=seed, numpy_random_seed=seed,
                          torch_random_seed=seed, fewshot_random_seed=seed, bootstrap_iters=0)
    if out is None:  # lm-eval returns None on non-zero ranks
        return {"metrics": {}, "results": {}, "samples": {}, "config": {}}
    report = {"metrics": flat_metrics(out.get("results", {})), "results": out.get("results", {}),
              "n_samples": out.get("n-samples", {}), "configs": out.get("configs", {}),
              "samples": out.get("samples", {}) if log_samples else {}}
    if output_dir is not None:
        folder = Path(output_dir)
        folder.mkdir(parents=True, exist_ok=True)
        summary = {k: v for k, v in report.items() if k != "samples"}
        (folder / "lm_eval_results.json").write_text(json.dumps(summary, indent=2, default=str), encoding="utf-8")
        with (folder / "lm_eval_samples.jsonl").open("w", encoding="utf-8") as fh:
            for task, rows in report["samples"].items():
                for row in rows:
                    fh.write(json.dumps({"task": task, **row}, default=str) + "\n")
        logger.info("lm-eval results written to %s", folder)
    return report
