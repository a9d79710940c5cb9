"""vLLM generation for AlignTune's own rollout loops (PPO): the GRPO family gets vLLM from TRL's
GRPOTrainer (``train.use_vllm``); PPO, which is AlignTune's loop, gets the same machinery here.

It is a thin layer over TRL's ``trl.generation.vllm_generation.VLLMGeneration`` (colocate: a vLLM engine
in the training process sharing the GPU; server: a ``trl vllm-serve`` server), so that weight syncing
(LoRA merged, ZeRO-3/FSDP gathered) is the code TRL's own trainers use:

- :func:`vllm_generation_kwargs` maps the ``train`` fields onto VLLMGeneration's arguments;
- :class:`VLLMRollout` generates completions from token ids and pushes the policy's weights to vLLM
  after each update (:meth:`VLLMRollout.sync_weights`);
- :func:`pad_responses` turns the completions into the right-padded ``[B, T]`` tensor that
  ``policy.generate`` would have returned after the prompt.

Needs CUDA and the ``vllm`` extra; :func:`check_vllm` says why not, before any model is loaded.
"""

from __future__ import annotations

import importlib.util
import logging
from collections.abc import Callable, Sequence
from typing import Any

logger = logging.getLogger("aligntune.backends.vllm")


class VLLMUnavailable(RuntimeError):
    """vLLM rollouts were asked for (``train.use_vllm``) where they cannot run."""


def check_vllm(train: Any, *, cuda: bool | None = None) -> None:
    """Raise :class:`VLLMUnavailable` naming ``train.use_vllm`` when vLLM rollouts cannot run here."""
    if not train.use_vllm:
        return
    if importlib.util.find_spec("vllm") is None:
        raise VLLMUnavailable("train.use_vllm: vllm is not installed; install the extra aligntune[vllm] "
                              "(uv sync --extra vllm) or set use_vllm: false")
    if train.vllm_mode == "colocate":
        if cuda is None:
            import torch

            cuda = torch.cuda.is_available()
        if not cuda:
            raise VLLMUnavailable("train.use_vllm: vLLM in colocate mode needs a CUDA device; run on a GPU, use "
                                  "vllm_mode: server with vllm_server_base_url, or set use_vllm: false")


def stop_arguments(stop_id: int | None, eos_id: int | None) -> dict[str, Any]:
    """vLLM SamplingParams that end a response where PPO's ``train.stop_token`` says: at the tokenizer's
    EOS (vLLM's default), at another token (``stop_token_ids``), or never (``ignore_eos``)."""
    if stop_id is None:
        return {"ignore_eos": True}
    if stop_id == eos_id:
        return {}
    return {"stop_token_ids": [stop_id]}


def vllm_generation_kwargs(train: Any, *, stop_id: int | None, eos_id: int | None, trust_remote_code: bool,
                           max_model_length: int | None = None) -> dict[str, Any]:
    """Keyword arguments of TRL's VLLMGeneration (besides model, accelerator, processing_class) for PPO
    rollouts of ``train`` (a TrainingConfig)."""
    generation = {**stop_arguments(stop_id, eos_id), **(train.generation_kwargs or {})}
    repetition_penalty = float(generation.pop("repetition_penalty", 1.0))
    return {
        "mode": train.vllm_mode,
        "server_base_url": train.vllm_server_base_url,
        "gpu_memory_utilization": train.vllm_gpu_memory_utilization,
        "max_model_length": max_model_length or train.max_length,
        "trust_remote_code": trust_remote_code,
        "temperature": train.temperature,
        "top_p": train.top_p,
        "top_k": train.top_k or 0,
        "repetition_penalty": repetition_penalty,
        "max_completion_length": train.response_length,
        "generation_kwargs": generation,
    }


def _trl_vllm_generation() -> Any:
    try:
        from trl.generation.vllm_generation import VLLMGeneration
    except ImportError as exc:
        raise VLLMUnavailable(f"train.use_vllm: this TRL has no trl.generation.vllm_generation ({exc}); "
                              "TRL >= 1.x is needed for vLLM rollouts") from exc
    return VLLMGeneration


class VLLMRollout:
    """vLLM generation for one policy. ``factory``: the VLLMGeneration class (default: TRL's);
    ``accelerator``: the run's accelerate Accelerator (default: a new single-process one)."""

    def __init__(self, policy: Any, tokenizer: Any, train: Any, *, stop_id: int | None, trust_remote_code: bool = False,
                 accelerator: Any = None, factory: Callable[..., Any] | None = None):
        if factory is None:
            check_vllm(train)
        if accelerator is None:
            from accelerate import Accelerator

            accelerator = Accelerator()
        self.kwargs = vllm_generation_kwargs(train, stop_id=stop_id, eos_id=tokenizer.eos_token_id,
                                             trust_remote_code=trust_remote_code)
        factory = factory or _trl_vllm_generation()
        logger.info("vLLM rollouts (%s mode, gpu_memory_utilization %.2f)", self.kwargs["mode"],
                    self.kwargs["gpu_memory_utilization"])
        self.engine = factory(model=policy, accelerator=accelerator, processing_class=tokenizer, **self.kwargs)
        self.synced = False

    def generate(self, prompt_ids: Sequence[Sequence[int]]) -> list[list[int]]:
        """One completion (token ids, stop token included when reached) per prompt."""
        if not self.synced:  # vLLM was loaded from the checkpoint; the policy may already differ (LoRA)
            self.sync_weights()
        _, completion_ids, *_ = self.engine.generate([list(p) for p in prompt_ids], None, 1)
        return [list(c) for c in completion_ids]

    def sync_weights(self) -> None:
        """Push the policy's current weights to vLLM (call after every policy update)."""
        self.engine.sync_weights()
        self.synced = True


def pad_responses(completion_ids: Sequence[Sequence[int]], pad_id: int, device: Any = None) -> Any:
    """``[B, T]`` long tensor of the completions, right-padded with ``pad_id`` (T >= 1)."""
    import torch

    width = max([len(c) for c in completion_ids] + [1])
    out = torch.full((len(completion_ids), width), pad_id, dtype=torch.long, device=device)
    for row, ids in enumerate(completion_ids):
        if ids:
            out[row, :len(ids)] = torch.tensor(list(ids), dtype=torch.long, device=device)
    return out
