"""UnifiedEvaluator: generate with a causal LM over a dataset, score the generations, write a report."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from aligntune_config.evaluation import EvaluationConfig

from .api import get_metric
from .preference import CustomMetric
from .report import write_report

logger = logging.getLogger("aligntune.eval.evaluator")
PROMPT_COLUMNS = ("prompt", "question", "instruction")
REFERENCE_COLUMNS = ("reference", "answer", "references")
MODEL_METRICS = {"perplexity"}  # metrics that score with the evaluated model itself


def rows_of(dataset: Any) -> list[dict[str, Any]]:
    """Rows of a list of dicts or a ``datasets.Dataset`` as a list of dicts."""
    if dataset is None:
        raise ValueError("no dataset given: pass dataset= (a list of dicts or a datasets.Dataset)")
    if hasattr(dataset, "column_names") and hasattr(dataset, "to_list"):
        return dataset.to_list()
    rows = list(dataset)
    if rows and not isinstance(rows[0], Mapping):
        raise TypeError(f"dataset rows must be mappings with a 'prompt' column, got {type(rows[0]).__name__}")
    return [dict(r) for r in rows]


def _pick(columns: Iterable[str], wanted: str | None, choices: Sequence[str], what: str) -> str | None:
    columns = list(columns)
    if wanted is not None:
        if wanted not in columns:
            raise KeyError(f"{what} column {wanted!r} is not in the dataset (columns: {columns})")
        return wanted
    return next((c for c in choices if c in columns), None)


def _full_text(row: Mapping[str, Any], p_col: str | None, r_col: str | None) -> str:
    """The text perplexity is measured on: a ``text`` column, else prompt and reference joined."""
    if isinstance(row.get("text"), str):
        return row["text"]
    prompt = str(row.get(p_col) or "") if p_col else ""
    reference = row.get(r_col) if r_col else None
    reference = reference[0] if isinstance(reference, list) and reference else reference
    reference = str(reference or "")
    if prompt and reference and not prompt[-1].isspace():
        return prompt + " " + reference
    return prompt + reference


class UnifiedEvaluator:
    """Evaluates a causal LM on a dataset with registry metrics, then writes ``report.json``/``report.md``.

    ``model``: a transformers model object (with ``tokenizer=``), a local folder, or a name that
    ``model_loader(name)`` turns into a model or ``(model, tokenizer)``. ``metrics``: metric names,
    metric objects, callables ``fn(predictions, references)``, or an :class:`EvaluationConfig` (its
    ``compute_*`` switches, ``metrics``, ``custom_metrics``, ``bertscore_model``,
    ``semantic_similarity_model``, ``max_new_tokens``, ``eval_temperature``, ``eval_batch_size`` and
    ``max_samples_for_quality_metrics`` are honoured; explicit arguments win). ``temperature`` 0 means
    greedy decoding.
    """

    def __init__(self, model: Any = None, dataset: Any = None, metrics: Any = None, *, tokenizer: Any = None,
                 config: EvaluationConfig | Mapping[str, Any] | None = None, max_new_tokens: int | None = None,
                 temperature: float | None = None, batch_size: int | None = None, max_samples: int | None = None,
                 output_dir: str | Path | None = None, model_loader: Callable[[str], Any] | None = None,
                 device: str | None = None, metric_params: Mapping[str, Mapping[str, Any]] | None = None,
                 prompt_column: str | None = None, reference_column: str | None = None,
                 use_chat_template: bool | None = None, generation_kwargs: Mapping[str, Any] | None = None,
                 seed: int = 0, raise_errors: bool = False, show_progress: bool = True):
        if isinstance(metrics, (EvaluationConfig, Mapping)) and config is None:
            config, metrics = metrics, None
        if isinstance(config, Mapping):
            config = EvaluationConfig.model_validate(dict(config))
        self.config = config
        self.model_arg, self.tokenizer_arg, self.model_loader = model, tokenizer, model_loader
        self.dataset, self.metrics_arg = dataset, metrics
        cfg = config or EvaluationConfig()
        self.max_new_tokens = max_new_tokens if max_new_tokens is not None else cfg.max_new_tokens
        self.temperature = temperature if temperature is not None else cfg.eval_temperature
        batch_size = batch_size if batch_size is not None else cfg.eval_batch_size
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        self.batch_size, self.max_samples, self.output_dir = batch_size, max_samples, output_dir
        self.device, self.metric_params = device, {k: dict(v) for k, v in (metric_params or {}).items()}
        self.prompt_column, self.reference_column = prompt_column, reference_column
        self.use_chat_template, self.generation_kwargs = use_chat_template, dict(generation_kwargs or {})
        self.seed, self.raise_errors, self.show_progress = seed, raise_errors, show_progress
        self._model = self._tokenizer = None
        self.last_report: dict[str, Any] | None = None

    # -- model -------------------------------------------------------------------------------------
    def load_model(self) -> tuple[Any, Any]:
        """``(model, tokenizer)``, loaded once."""
        if self._model is None:
            from .models import default_device, load_causal_lm

            device = self.device
            if device is None and isinstance(self.model_arg, (str, Path)):
                device = default_device()  # objects stay where the caller put them
            self._model, self._tokenizer = load_causal_lm(self.model_arg, self.tokenizer_arg,
                                                          model_loader=self.model_loader, device=device)
        return self._model, self._tokenizer

    def _model_name(self) -> str:
        if isinstance(self.model_arg, (str, Path)):
            return str(self.model_arg)
        config = getattr(self.model_arg, "config", None)
        return getattr(config, "_name_or_path", "") or type(self.model_arg).__name__

    # -- metrics -----------------------------------------------------------------------------------
    def _build(self, name: str, **defaults: Any):
        params = {**defaults, **self.metric_params.get(name, {})}
        if name in MODEL_METRICS and "model" not in params:
            model, tokenizer = self.load_model()
            params.update(model=model, tokenizer=tokenizer)
            params.setdefault("batch_size", self.batch_size)
        return get_metric(name, **params)

    def resolve_metrics(self) -> list[tuple[str, Callable[[], Any]]]:
        """``(label, factory)`` pairs from the ``metrics`` argument or the config; each factory builds
        its metric when called (so one metric that cannot be built does not stop the others)."""
        specs: list[tuple[str, Callable[[], Any]]] = []
        if self.metrics_arg is not None:
            items = [self.metrics_arg] if isinstance(self.metrics_arg, str) else list(self.metrics_arg)
            for item in items:
                if isinstance(item, str):
                    specs.append((item, lambda n=item: self._build(n)))
                elif hasattr(item, "compute"):
                    specs.append((getattr(item, "name", type(item).__name__), lambda m=item: m))
                elif callable(item):
                    specs.append((getattr(item, "__name__", "custom"), lambda f=item: CustomMetric(f)))
                else:
                    raise TypeError(f"metrics entries must be names, metric objects or callables, got {item!r}")
        else:
            cfg = self.config or EvaluationConfig()
            switches = [("compute_perplexity", "perplexity", {}), ("compute_bleu", "bleu", {}),
                        ("compute_bleu", "chrf", {}), ("compute_rouge", "rouge", {}),
                        ("compute_meteor", "meteor", {}),
                        ("compute_bertscore", "bertscore", {"model": cfg.bertscore_model}),
                        ("compute_semantic_similarity", "semantic_similarity", {"model": cfg.semantic_similarity_model}),
                        ("compute_codebleu", "codebleu", {})]
            for flag, name, defaults in switches:
                if getattr(cfg, flag):
                    specs.append((name, lambda n=name, d=defaults: self._build(n, **d)))
            for name in cfg.metrics or []:
                specs.append((name, lambda n=name: self._build(n)))
            for fn in cfg.custom_metrics or []:
                specs.append((getattr(fn, "__name__", "custom"), lambda f=fn: CustomMetric(f)))
        return specs

    # -- generation --------------------------------------------------------------------------------
    def _format_prompts(self, tokenizer: Any, prompts: Sequence[str]) -> tuple[list[str], bool]:
        use = self.use_chat_template
        if use is None:
            use = bool(getattr(tokenizer, "chat_template", None))
        if not use:
            return [str(p) for p in prompts], True
        texts = [tokenizer.apply_chat_template([{"role": "user", "content": str(p)}], tokenize=False,
                                               add_generation_prompt=True) for p in prompts]
        return texts, False

    def generate(self, prompts: Sequence[str]) -> list[str]:
        """Generations for ``prompts`` in batches (left padding); temperature 0 decodes greedily."""
        import torch
        from tqdm.auto import tqdm

        model, tokenizer = self.load_model()
        tokenizer.padding_side = "left"
        if tokenizer.pad_token is None:
            if tokenizer.eos_token is None:
                raise ValueError("the tokenizer has neither a pad nor an eos token; set tokenizer.pad_token")
            tokenizer.pad_token = tokenizer.eos_token
        texts, add_special = self._format_prompts(tokenizer, prompts)
        device = next(model.parameters()).device
        gen: dict[str, Any] = {"max_new_tokens": self.max_new_tokens, "pad_token_id": tokenizer.pad_token_id}
        if self.temperature > 0:
            gen.update(do_sample=True, temperature=self.temperature)
            torch.manual_seed(self.seed)
        else:
            gen.update(do_sample=False, temperature=None, top_p=None, top_k=None)
        gen.update(self.generation_kwargs)
        outputs: list[str] = []
        batches = range(0, len(texts), self.batch_size)
        for start in tqdm(batches, desc="generating", disable=not self.show_progress, unit="batch"):
            enc = tokenizer(texts[start:start + self.batch_size], return_tensors="pt", padding=True,
                            add_special_tokens=add_special).to(device)
            with torch.no_grad():
                out = model.generate(**enc, **gen)
            new_tokens = out[:, enc["input_ids"].shape[1]:]
            outputs.extend(tokenizer.batch_decode(new_tokens, skip_special_tokens=True))
        return outputs

    # -- evaluation --------------------------------------------------------------------------------
    def evaluate(self, dataset: Any = None, output_dir: str | Path | None = None) -> dict[str, float]:
        """Generate, score and write the report; returns ``{metric: value}`` (full report: ``last_report``)."""
        rows = rows_of(dataset if dataset is not None else self.dataset)
        if self.max_samples is not None:
            rows = rows[:self.max_samples]
        columns = sorted({k for r in rows for k in r})
        p_col = _pick(columns, self.prompt_column, PROMPT_COLUMNS, "prompt")
        r_col = _pick(columns, self.reference_column, REFERENCE_COLUMNS, "reference")
        metrics = self.resolve_metrics()
        n_quality = len(rows)
        if self.config is not None:
            n_quality = min(n_quality, self.config.max_samples_for_quality_metrics)
        quality_rows = rows[:n_quality]
        results: dict[str, float] = {}
        errors: dict[str, str] = {}
        timing: dict[str, float] = {}
        built = []
        for label, factory in metrics:
            try:
                built.append((label, factory()))
            except Exception as exc:  # noqa: BLE001 - a metric that cannot be built must not sink the others
                self._fail(label, exc, errors)
        predictions: list[str] = []
        if any(getattr(m, "uses_generations", True) for _, m in built):
            if p_col is None:
                raise KeyError(f"no prompt column ({', '.join(PROMPT_COLUMNS)}) in the dataset: {columns}")
            t0 = time.perf_counter()
            predictions = self.generate([r[p_col] for r in quality_rows])
            timing["generation_s"] = time.perf_counter() - t0
        for label, metric in built:
            t0 = time.perf_counter()
            try:
                results.update(self._score(metric, rows, quality_rows, predictions, p_col, r_col))
            except Exception as exc:  # noqa: BLE001 - isolate failures per metric; recorded in the report
                self._fail(label, exc, errors)
            timing[label + "_s"] = time.perf_counter() - t0
        report = {
            "model": self._model_name(), "num_samples": len(rows), "num_generated": len(predictions),
            "generation": {"max_new_tokens": self.max_new_tokens, "temperature": self.temperature,
                           "batch_size": self.batch_size},
            "metrics": results, "errors": errors, "timing_s": timing,
        }
        self.last_report = report
        out = output_dir or self.output_dir
        if out is not None:
            samples = [{"prompt": r.get(p_col), "reference": r.get(r_col) if r_col else None, "prediction": p}
                       for r, p in zip(quality_rows, predictions)]
            report["files"] = write_report(report, out, samples)
            logger.info("evaluation report written to %s", out)
        return results

    def _score(self, metric: Any, rows, quality_rows, predictions, p_col, r_col) -> dict[str, float]:
        if not getattr(metric, "uses_generations", True):
            if getattr(metric, "name", "") == "perplexity":
                return metric.compute([_full_text(r, p_col, r_col) for r in rows])
            cols = {k: [r.get(k) for r in rows] for k in rows[0]}
            return metric.compute([], None, **cols)
        references = [r.get(r_col) for r in quality_rows] if r_col else None
        skip = {p_col, r_col}
        cols = {k: [r.get(k) for r in quality_rows] for k in quality_rows[0] if k not in skip} if quality_rows else {}
        if p_col:
            cols["prompts"] = [r.get(p_col) for r in quality_rows]
        return metric.compute(predictions, references, **cols)

    def _fail(self, label: str, exc: Exception, errors: dict[str, str]) -> None:
        if self.raise_errors:
            raise exc
        logger.error("metric %s failed: %s: %s", label, type(exc).__name__, exc)
        errors[label] = f"{type(exc).__name__}: {exc}"
