"""Meta-ES runs: the outer loop of aligntune_algos.meta_es.MetaES over the mirror-map parameters φ of
NM-GRPO, with each candidate trained by the backend's NM-GRPO trainer and scored on held-out data.

``create_rl_trainer(algorithm="meta_es", ...)`` returns a :class:`MetaESTrainer`; its ``train()`` runs:

1. φ₀ from ``mirror`` (``phi_path``, else random from ``init_scale``/``mirror_seed``);
2. each ES iteration draws N antithetic candidates φ ± σ_t·ε; for each, :class:`CandidateFitness`
   - writes φ to ``<output_dir>/candidates/cand-<k>-<hash>/phi.json``,
   - trains ``meta_es.T`` NM-GRPO steps (``algo: nmgrpo``, ``mirror.phi_path`` = that file, every other
     field as configured) from the SAME starting weights (a copy of the model loaded once per process,
     with torch seeded by ``train.seed`` before loading, so LoRA initialisations agree across processes),
   - generates on the held-out split (``meta_es.eval_split`` of the training datasets, first
     ``eval_samples`` rows) ``eval_k`` samples per prompt with ``eval_max_tokens`` new tokens at
     ``eval_temperature`` (greedy at 0), the sampling seeded by ``train.seed`` so every candidate is
     scored on the same random numbers,
   - scores them with the configured rewards (for rewards that run code, their ``timeout`` is
     ``eval_timeout``): fitness ``mean_reward`` is the mean reward over prompts and samples;
     ``pass_at_k`` is the fraction of prompts with at least one of their ``eval_k`` samples passing,
     a sample passing when its reward is > 0 (for rewards that score a failure 0: math accuracy, code
     execution, exact match);
   a candidate that raises is logged and ranked last by MetaES;
3. after every iteration the ES state is written to ``<output_dir>/meta_es_state.json`` (``meta_es.resume``
   continues from it), and the best φ so far to ``<output_dir>/best_phi.json`` (use it as
   ``mirror.phi_path`` of an NM-GRPO run).

``num_workers > 1`` trains candidates in that many spawned processes; ``ray_address`` sends them to a Ray
cluster. Each candidate's NM-GRPO run logs with ``logging.loggers`` except W&B; the ES iterations go to
W&B project ``meta_es.wandb_project`` when ``wandb`` is among the loggers and ``meta_es.no_wandb`` is
false.
"""

from __future__ import annotations

import copy
import hashlib
import inspect
import json
import logging
import math
from pathlib import Path
from typing import Any

from aligntune_config import AlgorithmType, UnifiedConfig

logger = logging.getLogger("aligntune.meta_es")

STATE_FILE = "meta_es_state.json"
BEST_PHI_FILE = "best_phi.json"


def _takes_timeout(reward_type: str) -> bool:
    from aligntune_config.registry import REWARDS

    target = REWARDS.get(reward_type)
    try:
        params = inspect.signature(target).parameters
    except (TypeError, ValueError):
        return False
    return "timeout" in params


def fitness_rewards(config: UnifiedConfig) -> list[Any]:
    """``config.rewards`` with ``params.timeout = meta_es.eval_timeout`` for the rewards that take a timeout."""
    out = []
    for reward in config.rewards:
        if getattr(reward, "type", None) and _takes_timeout(reward.type):
            reward = reward.model_copy(update={"params": {**reward.params, "timeout": config.meta_es.eval_timeout}})
        out.append(reward)
    return out


def check_meta_es(config: UnifiedConfig) -> None:
    """What a Meta-ES run needs and refuses, before any model is loaded."""
    issues = []
    if not config.rewards:
        issues.append("rewards: Meta-ES needs rewards (they train every candidate and score its fitness)")
    if config.evaluation.before_after:
        issues.append("evaluation.before_after: does not apply to meta_es (it trains many candidate models); "
                      "run NM-GRPO with mirror.phi_path set to the best φ and evaluate that run")
    if config.logging.push_to_hub:
        issues.append("logging.push_to_hub: a Meta-ES run produces a mirror map (best_phi.json), not a model to upload")
    if config.train.resume_from_checkpoint:
        issues.append("train.resume_from_checkpoint: Meta-ES resumes from meta_es.resume (its state file), "
                      "candidates always start from the same weights")
    for name in ("max_steps", "epochs"):
        if name in config.train.model_fields_set and getattr(config.train, name) is not None:
            issues.append(f"train.{name}: every Meta-ES candidate trains meta_es.T steps ({config.meta_es.T}); "
                          f"set meta_es.T instead")
    if "eval_timeout" in config.meta_es.model_fields_set and not any(
            getattr(r, "type", None) and _takes_timeout(r.type) for r in config.rewards):
        issues.append("meta_es.eval_timeout: no configured reward executes code (none takes a timeout); remove it")
    if issues:
        raise ValueError("; ".join(issues))


def candidate_config(config: UnifiedConfig, phi_path: Path, output_dir: Path) -> UnifiedConfig:
    """The NM-GRPO run of one candidate: T steps with the φ of ``phi_path``, logged under ``output_dir``."""
    loggers = [name for name in config.logging.loggers if name != "wandb"]
    return config.model_copy(update={
        "algo": AlgorithmType.NMGRPO,
        "train": config.train.model_copy(update={"max_steps": config.meta_es.T}),
        "mirror": config.mirror.model_copy(update={"phi_path": str(phi_path)}),
        "logging": config.logging.model_copy(update={"output_dir": str(output_dir), "loggers": loggers}),
    })


class _Loaded:
    """What every candidate of one process shares: data, rewards, the starting model, the backend."""

    def __init__(self, config: UnifiedConfig):
        import torch
        from aligntune_data import format_for_algorithm, load_dataset

        from .run import build_reward, select_backend

        es = config.meta_es
        self.backend = select_backend(config.model_copy(update={"algo": AlgorithmType.NMGRPO}))
        fmt = format_for_algorithm("nmgrpo")
        self.train_dataset = load_dataset(list(config.datasets), format=fmt, data_seed=config.train.data_seed,
                                          cache=config.caching, num_proc=config.train.dataset_num_proc)
        held_out = [d.model_copy(update={"split": es.eval_split, "max_samples": es.eval_samples, "percent": None})
                    for d in config.datasets]
        self.fitness_rows = load_dataset(held_out, format=fmt, data_seed=config.train.data_seed, cache=config.caching,
                                         num_proc=config.train.dataset_num_proc)
        self.rewards, self.reward_names = build_reward(config)
        from aligntune_rewards import CompositeReward

        self.fitness_reward = CompositeReward(fitness_rewards(config), name="fitness")
        from aligntune_backends.models import load_model_and_tokenizer

        torch.manual_seed(config.train.seed)  # LoRA initialisation: identical in every process
        self.model, self.tokenizer = load_model_and_tokenizer(config.model, for_training=True)
        logger.info("Meta-ES: %d training rows, %d held-out rows (%s split) for fitness", len(self.train_dataset),
                    len(self.fitness_rows), es.eval_split)


def generate(model: Any, tokenizer: Any, prompts: list[Any], *, max_new_tokens: int, temperature: float, k: int,
             batch_size: int, seed: int) -> list[list[str]]:
    """``k`` completions per prompt (strings used as they are, chat prompts through the chat template),
    sampled at ``temperature`` (greedy at 0) with torch seeded by ``seed``."""
    import torch

    texts = [p if isinstance(p, str) else tokenizer.apply_chat_template(p, tokenize=False, add_generation_prompt=True)
             for p in prompts]
    side = tokenizer.padding_side
    tokenizer.padding_side = "left"
    device = next(model.parameters()).device
    out: list[list[str]] = []
    torch.manual_seed(seed)
    was_training = model.training
    model.eval()
    try:
        for start in range(0, len(texts), batch_size):
            enc = tokenizer(texts[start:start + batch_size], return_tensors="pt", padding=True,
                            add_special_tokens=False).to(device)
            kwargs: dict[str, Any] = {"do_sample": temperature > 0, "num_return_sequences": k}
            if temperature > 0:
                kwargs["temperature"] = temperature
            with torch.no_grad():
                ids = model.generate(**enc, max_new_tokens=max_new_tokens, pad_token_id=tokenizer.pad_token_id,
                                     **kwargs)
            decoded = tokenizer.batch_decode(ids[:, enc["input_ids"].size(1):], skip_special_tokens=True)
            out.extend(decoded[i * k:(i + 1) * k] for i in range(len(decoded) // k))
    finally:
        tokenizer.padding_side = side
        model.train(was_training)
    return out


def score(config: UnifiedConfig, model: Any, tokenizer: Any, rows: Any, reward: Any) -> float:
    """The fitness of ``model`` on ``rows`` (see the module docstring)."""
    es = config.meta_es
    prompts = list(rows["prompt"])
    samples = generate(model, tokenizer, prompts, max_new_tokens=es.eval_max_tokens, temperature=es.eval_temperature,
                       k=es.eval_k, batch_size=config.train.per_device_eval_batch_size, seed=config.train.seed)
    columns = {name: [v for v in rows[name] for _ in range(es.eval_k)] for name in rows.column_names if name != "prompt"}
    references = columns.pop("reference", None)
    if references is None:
        references = columns.get("answer")
    flat = [s for group in samples for s in group]
    prompt_texts = [p if isinstance(p, str) else "\n".join(str(m.get("content", "")) for m in p)
                    for p in prompts for _ in range(es.eval_k)]
    values = [float(v) for v in reward(flat, prompts=prompt_texts, references=references, **columns)]
    if es.fitness == "mean_reward":
        return sum(values) / len(values)
    passed = [any(v > 0 for v in values[i * es.eval_k:(i + 1) * es.eval_k]) for i in range(len(prompts))]
    return sum(passed) / len(passed)


class CandidateFitness:
    """``fitness(phi, index)``: train NM-GRPO for T steps with φ from the common start, return the held-out
    fitness. Picklable (what it loads is rebuilt in each process on first use)."""

    def __init__(self, config: UnifiedConfig, units_per_group: int):
        self.config = config
        self.units_per_group = units_per_group
        self._loaded: _Loaded | None = None

    def __getstate__(self) -> dict[str, Any]:
        return {"config": self.config, "units_per_group": self.units_per_group, "_loaded": None}

    def load(self) -> _Loaded:
        if self._loaded is None:
            self._loaded = _Loaded(self.config)
        return self._loaded

    def __call__(self, phi: Any, index: int) -> float:
        import numpy as np
        from aligntune_config.registry import ALGORITHMS

        loaded = self.load()
        phi = np.asarray(phi, dtype=np.float64)
        digest = hashlib.sha1(phi.tobytes()).hexdigest()[:10]
        folder = Path(self.config.logging.output_dir) / "candidates" / f"cand-{index}-{digest}"
        folder.mkdir(parents=True, exist_ok=True)
        phi_path = folder / "phi.json"
        ALGORITHMS.get("nmgrpo").math().MirrorMap.from_vector(phi, self.units_per_group).save(phi_path)
        config = candidate_config(self.config, phi_path, folder)
        trainer = loaded.backend.create_trainer(config, train_dataset=loaded.train_dataset,
                                                reward_functions=loaded.rewards, reward_names=loaded.reward_names,
                                                model=copy.deepcopy(loaded.model), tokenizer=loaded.tokenizer)
        metrics = trainer.train()
        model = trainer.trainer.model
        fitness = score(self.config, model, loaded.tokenizer, loaded.fitness_rows, loaded.fitness_reward)
        (folder / "fitness.json").write_text(json.dumps({"fitness": fitness, "train": metrics}, default=str),
                                             encoding="utf-8")
        logger.info("Meta-ES candidate %s: fitness %.6g", folder.name, fitness)
        return fitness


class MetaESTrainer:
    """A Meta-ES run with the lifecycle of the other trainers: ``train()`` runs the ES loop,
    ``save_model()`` writes the best φ."""

    def __init__(self, config: UnifiedConfig, **backend_kwargs: Any):
        if backend_kwargs:
            raise TypeError(f"a Meta-ES run loads its own model for every candidate; {', '.join(sorted(backend_kwargs))} "
                            "cannot be given")
        check_meta_es(config)
        self.config = config
        self.output_dir = Path(config.logging.output_dir)
        self.state_path = self.output_dir / STATE_FILE
        self.wandb = None
        if "wandb" in config.logging.loggers and not config.meta_es.no_wandb:
            try:
                import wandb
            except ImportError as exc:
                raise ValueError("logging.loggers has wandb for Meta-ES but wandb is not installed; install it, "
                                 "remove wandb from the loggers, or set meta_es.no_wandb") from exc
            self.wandb = wandb
        backend = self._backend()
        backend.check(candidate_config(config, self.output_dir / BEST_PHI_FILE, self.output_dir))
        self.fitness = CandidateFitness(config, config.mirror.units_per_group)
        if config.meta_es.num_workers == 1 and not config.meta_es.ray_address:
            self.fitness.load()  # data and model errors now, not in the first candidate
        from aligntune_config.registry import ALGORITHMS

        self._mirror = ALGORITHMS.get("nmgrpo").math().MirrorMap
        self.result: Any = None
        self.eval_rows = None

    def _backend(self) -> Any:
        from .run import select_backend

        return select_backend(self.config.model_copy(update={"algo": AlgorithmType.NMGRPO}))

    def _es(self) -> Any:
        from aligntune_algos.meta_es import MetaES

        phi0 = self._mirror.from_config(self.config.mirror).to_vector()
        return MetaES(self.config.meta_es, phi0, self.fitness, self.state_path, seed=self.config.train.seed,
                      metadata={"units_per_group": self.config.mirror.units_per_group})

    def train(self, max_iterations: int | None = None) -> dict[str, Any]:
        """Run (or continue, with ``meta_es.resume``) the ES loop; ``max_iterations`` stops after that many
        more iterations (the state file allows resuming)."""
        from aligntune_config import ConfigLoader

        ConfigLoader.save_resolved_config(self.config, self.output_dir)
        es = self._es()
        run = None
        if self.wandb is not None:
            run = self.wandb.init(project=self.config.meta_es.wandb_project, name=self.config.logging.run_name,
                                  config=ConfigLoader.to_dict(self.config), dir=str(self.output_dir))
        try:
            self.result = es.run(max_iterations=max_iterations, on_iteration=self._on_iteration(run))
        finally:
            if run is not None:
                run.finish()
        self.save_model()
        result = self.result
        return {"meta_es/best_fitness": result.best_fitness if math.isfinite(result.best_fitness) else None,
                "meta_es/iterations": result.iterations, "meta_es/stopped_early": result.stopped_early,
                "meta_es/candidates_failed": sum(r["failed"] for r in result.history),
                "state_path": str(self.state_path), "best_phi_path": str(self.output_dir / BEST_PHI_FILE)}

    def _on_iteration(self, run: Any) -> Any:
        def record(es: Any, entry: dict[str, Any]) -> None:
            self._mirror.from_vector(es.best_phi, self.config.mirror.units_per_group).save(self.output_dir / BEST_PHI_FILE)
            if run is not None:
                run.log({f"meta_es/{k}": v for k, v in entry.items()
                         if isinstance(v, (int, float)) and v is not None}, step=entry["iteration"])
        return record

    def save_model(self, path: str | None = None) -> str:
        """Write the best φ found (MirrorMap JSON) to ``path`` (default ``<output_dir>/best_phi.json``)."""
        if self.result is None:
            raise RuntimeError("Meta-ES has not run yet: call train() first")
        target = Path(path) if path else self.output_dir / BEST_PHI_FILE
        self._mirror.from_vector(self.result.best_phi, self.config.mirror.units_per_group).save(target)
        logger.info("best φ (fitness %s) saved to %s", self.result.best_fitness, target)
        return str(target)
