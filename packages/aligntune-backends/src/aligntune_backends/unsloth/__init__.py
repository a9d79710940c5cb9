"""The Unsloth engine: models loaded with Unsloth's ``FastLanguageModel`` (fused kernels, 4-bit QLoRA,
optional vLLM generation), trained by the same trainers as the TRL engine.

Importing this package does not import unsloth: unsloth patches transformers and TRL when it is
imported, so it is imported only when an Unsloth run is actually built (see :mod:`.probe`).
"""

from .probe import unsloth_availability, unsloth_installed

__all__ = ["unsloth_availability", "unsloth_installed"]
