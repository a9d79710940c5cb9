"""The Unsloth engine: the model and tokenizer come from Unsloth's ``FastLanguageModel``; the trainer is
built by the TRL engine's ``create_trainer`` (the same algorithm code, only the engine differs).

Runs SFT, DPO, PPO, GRPO, DAPO and Dr. GRPO (``aligntune_config.resolve.UNSLOTH_ALGORITHMS``, the
spec's backend matrix); GSPO and the others are refused with the reason. vLLM generation on Unsloth is
its own colocated engine (``train.fast_inference``, or ``train.use_vllm`` in colocate mode): the model
is loaded with ``fast_inference=True`` and Unsloth's patched GRPOTrainer generates with it.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from aligntune_config import AlgorithmType, Availability
from aligntune_config.resolve import UNSLOTH_ALGORITHMS

from ..trl.args import GRPO_LIKE
from ..trl.engine import EngineError
from ..trl.engine import backend as trl_backend
from .loading import load_with_unsloth, uses_vllm
from .probe import unsloth_availability

if TYPE_CHECKING:
    from aligntune_config import UnifiedConfig

logger = logging.getLogger("aligntune.backends.unsloth")

SUPPORTED = frozenset(a for a in UNSLOTH_ALGORITHMS if trl_backend.supports(a))


def trainer_config(config: UnifiedConfig) -> UnifiedConfig:
    """The config the shared (TRL) trainer construction gets. With Unsloth's vLLM generation the GRPO
    family's trainer is told ``use_vllm`` (Unsloth's patched GRPOTrainer then generates with the
    model's own vLLM engine); ``fast_inference`` itself was consumed by the model loading."""
    t = config.train
    if config.algo in GRPO_LIKE and uses_vllm(config):
        train = t.model_copy(update={"use_vllm": True, "vllm_mode": "colocate", "fast_inference": False})
        return config.model_copy(update={"train": train})
    if t.fast_inference:
        return config.model_copy(update={"train": t.model_copy(update={"fast_inference": False})})
    return config


class UnslothBackend:
    """Backend ``unsloth``: available where unsloth is installed and a CUDA device is present."""

    name = "unsloth"

    def availability(self) -> Availability:
        return unsloth_availability()

    def supports(self, algorithm: AlgorithmType) -> bool:
        return AlgorithmType(algorithm) in SUPPORTED

    def check(self, config: UnifiedConfig) -> None:
        """Refuse what this engine cannot run, before any model is loaded."""
        algo = config.algo
        if algo not in SUPPORTED:
            runs = ", ".join(sorted(a.value for a in SUPPORTED))
            raise EngineError(f"backend: the Unsloth engine does not run {algo.value} (it runs {runs}); "
                              "use backend: trl")
        t = config.train
        if t.use_vllm and t.vllm_mode == "server":
            raise EngineError("train.vllm_mode: the Unsloth engine generates with its own vLLM engine in the "
                              "training process (colocate); vllm_mode=server (a `trl vllm-serve` server) runs on "
                              "backend: trl")
        if uses_vllm(config) and algo not in GRPO_LIKE:
            raise EngineError(f"train.fast_inference: Unsloth's vLLM generation is used by the GRPO family; "
                              f"{algo.value} does not generate with it (remove fast_inference/use_vllm)")
        if uses_vllm(config) and config.model.quantization.load_in_8bit:
            raise EngineError("model.quantization.load_in_8bit: Unsloth's vLLM generation (fast_inference) loads "
                              "16-bit or 4-bit weights; use load_in_4bit or turn fast_inference off")
        trl_backend.check(trainer_config(config))

    def create_trainer(self, config: UnifiedConfig, *, train_dataset: Any, eval_dataset: Any = None,
                       reward_functions: Sequence[Any] = (), reward_names: Sequence[str] | None = None,
                       model: Any = None, tokenizer: Any = None, callbacks: Sequence[Any] = ()) -> Any:
        """Load the model with Unsloth (unless ``model`` and ``tokenizer`` are given) and build the
        trainer with the TRL engine's construction."""
        self.check(config)
        if model is None or tokenizer is None:
            availability = self.availability()
            if not availability:
                raise EngineError(f"backend: unsloth is not available here: {availability.reason}")
            model, tokenizer = load_with_unsloth(config)
        trainer = trl_backend.create_trainer(trainer_config(config), train_dataset=train_dataset,
                                             eval_dataset=eval_dataset, reward_functions=reward_functions,
                                             reward_names=reward_names, model=model, tokenizer=tokenizer,
                                             callbacks=callbacks)
        trainer.config = config  # the run's own resolved config is the one saved beside its outputs
        return trainer


backend = UnslothBackend()
