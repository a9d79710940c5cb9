"""Execution engines and model loading of AlignTune.

- ``aligntune_backends.models``: embedded models (``embedded:tiny-random``, ``embedded:smollm2-135m-instruct``),
  local folders, GGUF files and Hub ids; precision, quantization, gradient checkpointing and LoRA.
- ``aligntune_backends.trl``: the TRL engine (registered as backend ``trl``): SFT, DPO, reward models,
  GRPO, GSPO, Dr. GRPO and DAPO built from a resolved UnifiedConfig.
- ``aligntune_backends.ppo``: AlignTune's PPO loop (TRL 1.x has none), on the same models and data.

Not built yet: the Unsloth engine, NM-GRPO / Meta-ES runs, DAPO dynamic sampling, reward/value
models. Importing this package imports neither torch nor transformers.
"""

__version__ = "0.1.0"
