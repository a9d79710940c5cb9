"""Meta-ES: antithetic evolution strategies over the mirror-map parameters φ (numpy only: no torch, so
spawned workers start fast).

Iteration t (σ_t = sigma·sigma_decay^t):
    ε_1..ε_{N/2} ~ N(0, I);  candidates φ + σ_t ε_i (index 2i) and φ − σ_t ε_i (index 2i+1)
    F_k = fitness_fn(candidate_k, k)        (a raise or a non-finite value counts as −∞: ranked last)
    s_k = centred rank of F_k in [−0.5, 0.5] (ties share their mean rank), minus its mean (the baseline)
    g = 1/(N σ_t) Σ_k s_k ε̃_k,  ε̃_{2i} = ε_i, ε̃_{2i+1} = −ε_i;   φ ← φ + α g
The best candidate (fitness, φ) is tracked; an iteration whose best beats the best so far by more than
``min_delta`` resets the patience counter, otherwise it grows, and Meta-ES stops when it reaches ``patience``.
After every iteration the whole state (φ, t, σ, best, counter, the numpy Generator's state, history) is
written atomically as JSON, and ``MetaESConfig.resume`` continues from such a file exactly.
"""

from __future__ import annotations

import json
import logging
import math
import multiprocessing
import os
import tempfile
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from aligntune_config.meta_es import MetaESConfig

logger = logging.getLogger(__name__)

FitnessFn = Callable[[np.ndarray, int], float]
STATE_FORMAT = "aligntune.meta_es.state/1"


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    """Write ``text`` to ``path`` via a temporary file in the same folder and ``os.replace``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def centered_ranks(fitness: Sequence[float]) -> np.ndarray:
    """Ranks scaled to [−0.5, 0.5] (lowest fitness −0.5, highest 0.5), ties sharing their mean rank,
    minus their mean (the baseline; zero unless ties are uneven). −∞ ranks lowest."""
    values = np.asarray(fitness, dtype=np.float64)
    n = values.size
    if n < 2:
        return np.zeros(n)
    order = np.argsort(values, kind="stable")
    ranks = np.empty(n)
    ranks[order] = np.arange(n, dtype=np.float64)
    _, inverse = np.unique(values, return_inverse=True)
    ranks = np.bincount(inverse, weights=ranks)[inverse] / np.bincount(inverse)[inverse]
    shaped = ranks / (n - 1) - 0.5
    return shaped - shaped.mean()


class QuadraticFitness:
    """Toy fitness −‖φ − target‖² (picklable, for tests, benchmarks and smoke runs)."""

    def __init__(self, target: Sequence[float]):
        self.target = np.asarray(target, dtype=np.float64)

    def __call__(self, phi: np.ndarray, candidate_index: int) -> float:
        return -float(np.sum((np.asarray(phi) - self.target) ** 2))


def _call_fitness(fitness_fn: FitnessFn, phi: np.ndarray, index: int) -> float:
    return float(fitness_fn(phi, index))


@dataclass
class MetaESResult:
    """What ``MetaES.run`` returns. ``history`` has one dict per iteration (including resumed ones)."""

    phi: np.ndarray
    best_phi: np.ndarray
    best_fitness: float
    iterations: int
    stopped_early: bool
    history: list[dict[str, Any]] = field(default_factory=list)


def _jsonable_float(x: float) -> float | None:
    return float(x) if math.isfinite(x) else None


class MetaES:
    """Antithetic ES over a flat φ. ``fitness_fn(phi, candidate_index) -> float`` (higher is better) must be
    picklable when ``num_workers > 1`` or ``ray_address`` is set. ``seed`` seeds the numpy Generator of ε;
    ``metadata`` (JSON values, e.g. ``{"units_per_group": 4}`` so ``MirrorMap.load`` reads the state's
    ``best_phi``) is stored in the state file."""

    def __init__(self, config: MetaESConfig, phi0: np.ndarray | Sequence[float], fitness_fn: FitnessFn,
                 state_path: str | os.PathLike, seed: int = 0, metadata: dict[str, Any] | None = None):
        if config.N % 2 or config.N < 2:
            raise ValueError(f"Meta-ES needs an even population N >= 2 (± pairs), got N={config.N}")
        phi = np.array(phi0, dtype=np.float64).reshape(-1)
        if phi.size == 0 or not np.all(np.isfinite(phi)):
            raise ValueError("phi0 must be a non-empty finite vector")
        self.config = config
        self.fitness_fn = fitness_fn
        self.state_path = Path(state_path)
        self.phi = phi
        self.iteration = 0
        self.best_fitness = -math.inf
        self.best_phi = phi.copy()
        self.patience_counter = 0
        self.history: list[dict[str, Any]] = []
        self.rng = np.random.default_rng(seed)
        self.metadata: dict[str, Any] = dict(metadata or {})
        if config.resume:
            self._load(config.resume)

    # -- state ------------------------------------------------------------------------------------------
    @property
    def sigma(self) -> float:
        """σ_t of the next iteration."""
        return self.config.sigma * self.config.sigma_decay ** self.iteration

    def state(self) -> dict[str, Any]:
        """The JSON-serialisable state (exactly round-trippable: floats as shortest repr, RNG state)."""
        return {"format": STATE_FORMAT, "iteration": self.iteration, "sigma": self.sigma,
                "phi": self.phi.tolist(), "best_fitness": _jsonable_float(self.best_fitness),
                "best_phi": self.best_phi.tolist(), "patience_counter": self.patience_counter,
                "rng_state": self.rng.bit_generator.state, "history": self.history, "es": self._es_settings(),
                **self.metadata}

    def _es_settings(self) -> dict[str, float]:
        cfg = self.config
        return {"N": cfg.N, "sigma": cfg.sigma, "sigma_decay": cfg.sigma_decay, "alpha": cfg.alpha,
                "dim": int(self.phi.size)}

    def save(self) -> None:
        """Write the state to ``state_path`` atomically (temp file + os.replace)."""
        atomic_write_text(self.state_path, json.dumps(self.state()))

    def _load(self, path: str | os.PathLike) -> None:
        state = json.loads(Path(path).read_text(encoding="utf-8"))
        if state.get("format") != STATE_FORMAT:
            raise ValueError(f"{path} is not a Meta-ES state file (format {STATE_FORMAT!r})")
        phi = np.asarray(state["phi"], dtype=np.float64)
        if phi.shape != self.phi.shape:
            raise ValueError(f"{path}: φ has {phi.size} values, phi0 has {self.phi.size}")
        self.phi = phi
        self.iteration = int(state["iteration"])
        best = state["best_fitness"]
        self.best_fitness = -math.inf if best is None else float(best)
        self.best_phi = np.asarray(state["best_phi"], dtype=np.float64)
        self.patience_counter = int(state["patience_counter"])
        self.history = list(state["history"])
        bit_generator = getattr(np.random, state["rng_state"]["bit_generator"])()
        bit_generator.state = state["rng_state"]
        self.rng = np.random.Generator(bit_generator)
        saved = state.get("es", {})
        changed = {k: (saved[k], v) for k, v in self._es_settings().items() if k in saved and saved[k] != v}
        if changed:
            logger.warning("Meta-ES resumed from %s with changed settings %s (saved, now): the run will not "
                           "match an uninterrupted one", path, changed)
        known = {"format", "iteration", "sigma", "phi", "best_fitness", "best_phi", "patience_counter",
                 "rng_state", "history", "es"}
        self.metadata.update({k: v for k, v in state.items() if k not in known})
        logger.info("Meta-ES resumed from %s at iteration %d (best fitness %s)", path, self.iteration, best)

    # -- evaluation -------------------------------------------------------------------------------------
    def _record(self, index: int, outcome: float | BaseException) -> float:
        if isinstance(outcome, BaseException):
            logger.error("Meta-ES candidate %d of iteration %d failed (ranked last): %r", index, self.iteration,
                         outcome, exc_info=(type(outcome), outcome, outcome.__traceback__))
            return -math.inf
        if not math.isfinite(outcome):
            logger.error("Meta-ES candidate %d of iteration %d returned fitness %r (ranked last)", index,
                         self.iteration, outcome)
            return -math.inf
        level = logging.INFO if self.config.debug_mode else logging.DEBUG
        logger.log(level, "Meta-ES iteration %d candidate %d: fitness %.6g", self.iteration, index, outcome)
        return outcome

    def _evaluate_serial(self, candidates: list[np.ndarray]) -> list[float]:
        out = []
        for k, cand in enumerate(candidates):
            try:
                out.append(self._record(k, _call_fitness(self.fitness_fn, cand.copy(), k)))
            except Exception as exc:  # noqa: BLE001 - user fitness may raise anything; the candidate ranks last
                out.append(self._record(k, exc))
        return out

    def _evaluate_pool(self, pool: Executor, candidates: list[np.ndarray]) -> list[float]:
        futures = [pool.submit(_call_fitness, self.fitness_fn, cand, k) for k, cand in enumerate(candidates)]
        out = []
        for k, future in enumerate(futures):
            try:
                out.append(self._record(k, future.result()))
            except Exception as exc:  # noqa: BLE001 - the fitness's error in the worker, or a worker crash
                out.append(self._record(k, exc))
        return out

    def _evaluate_ray(self, ray: Any, candidates: list[np.ndarray]) -> list[float]:
        remote = ray.remote(_call_fitness)
        refs = [remote.remote(self.fitness_fn, cand, k) for k, cand in enumerate(candidates)]
        out = []
        for k, ref in enumerate(refs):
            try:
                out.append(self._record(k, ray.get(ref)))
            except Exception as exc:  # noqa: BLE001 - ray re-raises the task's error (RayTaskError)
                out.append(self._record(k, exc))
        return out

    def _ray(self) -> Any:
        try:
            import ray
        except ImportError as exc:
            raise RuntimeError(f"meta_es.ray_address is {self.config.ray_address!r} but ray is not installed; "
                               "install ray or unset ray_address") from exc
        if not ray.is_initialized():
            ray.init(address=self.config.ray_address)
        return ray

    # -- the loop ---------------------------------------------------------------------------------------
    def step(self, evaluate: Callable[[list[np.ndarray]], list[float]]) -> dict[str, Any]:
        """One ES iteration with the given candidate evaluator; updates φ, the best, the counter, history."""
        cfg = self.config
        sigma = self.sigma
        eps = self.rng.standard_normal((cfg.N // 2, self.phi.size))
        signed = np.repeat(eps, 2, axis=0) * np.tile([1.0, -1.0], cfg.N // 2)[:, None]
        candidates = [self.phi + sigma * e for e in signed]
        fitness = np.asarray(evaluate(candidates), dtype=np.float64)
        shaped = centered_ranks(fitness)
        grad = shaped @ signed / (cfg.N * sigma)
        self.phi = self.phi + cfg.alpha * grad
        best_k = int(np.argmax(fitness))
        improved = bool(fitness[best_k] > self.best_fitness + cfg.min_delta)
        if fitness[best_k] > self.best_fitness:
            self.best_fitness, self.best_phi = float(fitness[best_k]), candidates[best_k].copy()
        self.patience_counter = 0 if improved else self.patience_counter + 1
        finite = fitness[np.isfinite(fitness)]
        record = {"iteration": self.iteration, "sigma": sigma, "fitness": [_jsonable_float(f) for f in fitness],
                  "shaped": shaped.tolist(), "failed": int(fitness.size - finite.size),
                  "mean_fitness": float(finite.mean()) if finite.size else None,
                  "max_fitness": _jsonable_float(fitness[best_k]), "best_fitness": _jsonable_float(self.best_fitness),
                  "grad_norm": float(np.linalg.norm(grad)), "improved": improved,
                  "patience_counter": self.patience_counter}
        self.history.append(record)
        self.iteration += 1
        logger.info("Meta-ES iteration %d: σ=%.4g max %.6g mean %s best %.6g failed %d patience %d/%d",
                    record["iteration"], sigma, fitness[best_k], record["mean_fitness"], self.best_fitness,
                    record["failed"], self.patience_counter, cfg.patience)
        return record

    def done(self) -> bool:
        """True when the iteration budget is spent or patience ran out."""
        return self.iteration >= self.config.meta_iterations or self.patience_counter >= self.config.patience

    def run(self, max_iterations: int | None = None,
            on_iteration: Callable[[MetaES, dict[str, Any]], None] | None = None) -> MetaESResult:
        """Iterate until ``meta_iterations``, patience, or ``max_iterations`` more iterations (an interruption:
        the state file lets a later run resume); checkpoints after every iteration, then calls
        ``on_iteration(self, record)`` (e.g. to log the record or save the best φ)."""
        cfg = self.config
        pool: Executor | None = None
        if cfg.ray_address:
            ray = self._ray()
            evaluate: Callable[[list[np.ndarray]], list[float]] = lambda c: self._evaluate_ray(ray, c)
        elif cfg.num_workers > 1:
            pool = ProcessPoolExecutor(max_workers=min(cfg.num_workers, cfg.N),
                                       mp_context=multiprocessing.get_context("spawn"))
            evaluate = lambda c: self._evaluate_pool(pool, c)
        else:
            evaluate = self._evaluate_serial
        steps = 0
        try:
            while not self.done() and (max_iterations is None or steps < max_iterations):
                record = self.step(evaluate)
                self.save()
                if on_iteration is not None:
                    on_iteration(self, record)
                steps += 1
        finally:
            if pool is not None:
                pool.shutdown(wait=True, cancel_futures=True)
        stopped_early = self.patience_counter >= cfg.patience and self.iteration < cfg.meta_iterations
        if stopped_early:
            logger.info("Meta-ES stopped early at iteration %d: no improvement > %g for %d iterations",
                        self.iteration, cfg.min_delta, cfg.patience)
        return MetaESResult(phi=self.phi.copy(), best_phi=self.best_phi.copy(), best_fitness=self.best_fitness,
                            iterations=self.iteration, stopped_early=stopped_early, history=list(self.history))
