"""``aligntune list`` and ``aligntune doctor``: what is registered, available and installed here."""

from __future__ import annotations

import importlib.util
import platform
from importlib.metadata import PackageNotFoundError, version
from typing import Any

KINDS = ("algorithms", "backends", "rewards", "metrics", "datasets", "adapters", "models")
OPTIONAL = {
    "unsloth": "Unsloth backend", "vllm": "vLLM rollouts", "deepspeed": "DeepSpeed ZeRO", "bitsandbytes": "4/8-bit",
    "liger_kernel": "Liger kernels", "ray": "Meta-ES on Ray", "lm_eval": "lm-evaluation-harness", "wandb": "W&B",
    "tensorboard": "TensorBoard",
}


def _registry(kind: str) -> Any:
    from aligntune_config import registry as r

    return {"algorithms": r.ALGORITHMS, "backends": r.BACKENDS, "rewards": r.REWARDS, "metrics": r.METRICS,
            "datasets": r.BUILTIN_DATASETS, "adapters": r.SCHEMA_ADAPTERS, "models": r.MODEL_SOURCES}[kind]


def rows(kind: str) -> list[tuple[str, str]]:
    """(name, description) of every component of ``kind``; backends with availability and reason."""
    registry = _registry(kind)
    if kind == "backends":
        out = []
        for name in registry.names():
            backend = registry.get(name)
            available = backend.availability()
            out.append((name, ("available" if available else "unavailable") + f": {available.reason}"))
        if "unsloth" not in registry:
            out.append(("unsloth", "unavailable: no unsloth backend is registered (aligntune-backends without its "
                                   "unsloth entry point)"))
        return out
    if kind == "algorithms":
        from aligntune_config.registry import BACKENDS

        out = []
        for name, description in sorted(registry.describe().items()):
            # Meta-ES is an outer loop (aligntune.meta_es_run): each candidate is an NM-GRPO run of a backend
            inner = "nmgrpo" if name == "meta_es" else name
            runs_on = [b for b in BACKENDS.names() if BACKENDS.get(b).supports(inner)]
            where = ", ".join(runs_on) or "not built yet"
            if inner != name and runs_on:
                where += "; each candidate an nmgrpo run"
            out.append((name, f"[trains on: {where}] {description}"))
        return out
    if kind == "datasets":
        return [(f"builtin:{name}", desc) for name, desc in registry.describe().items()]
    return sorted(registry.describe().items())


def _dist_version(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return "not installed"


def doctor_report() -> list[tuple[str, str, str]]:
    """(section, item, finding) rows about this machine."""
    out = [("python", platform.python_version(), platform.platform())]
    for name in ("aligntune", "aligntune-config", "aligntune-data", "aligntune-rewards", "aligntune-algos",
                 "aligntune-backends", "aligntune-eval", "torch", "transformers", "trl", "peft", "accelerate",
                 "datasets"):
        out.append(("version", name, _dist_version(name)))
    import torch

    if torch.cuda.is_available():
        for index in range(torch.cuda.device_count()):
            props = torch.cuda.get_device_properties(index)
            out.append(("device", f"cuda:{index}", f"{props.name}, {props.total_memory / 2**30:.0f} GiB, "
                        f"bf16={'yes' if torch.cuda.is_bf16_supported() else 'no'}"))
    else:
        out.append(("device", "cpu", f"no CUDA device; {torch.get_num_threads()} threads (training runs in fp32)"))
    for module, what in OPTIONAL.items():
        found = importlib.util.find_spec(module) is not None
        out.append(("optional", module, f"{'installed' if found else 'not installed'} ({what})"))
    return out
