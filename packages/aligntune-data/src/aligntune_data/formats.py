"""The canonical formats a loaded dataset takes, and which one each algorithm trains on.

- ``sft``: ``text``; or ``prompt`` + ``completion``; or ``messages`` (a list of ``{role, content}``).
- ``preference``: ``prompt``, ``chosen``, ``rejected``.
- ``prompt``: ``prompt`` plus the columns rewards need (``answer``, ``test_list``, ``test``,
  ``entry_point``, ``reference``, ...).
"""

from __future__ import annotations

from .errors import DataError

FORMATS = ("sft", "preference", "prompt")

_ALGORITHM_FORMATS = {
    "sft": "sft",
    "dpo": "preference",
    "reward_model": "preference",
    "ppo": "prompt",
    "grpo": "prompt",
    "gspo": "prompt",
    "dapo": "prompt",
    "drgrpo": "prompt",
    "nmgrpo": "prompt",
    "meta_es": "prompt",
}
_SPELLINGS = {"dr_grpo": "drgrpo", "nm_grpo": "nmgrpo", "metaes": "meta_es", "rm": "reward_model",
              "reward": "reward_model", "reward-model": "reward_model", "dr-grpo": "drgrpo",
              "nm-grpo": "nmgrpo", "meta-es": "meta_es"}


def format_for_algorithm(algo: object) -> str:
    """The canonical data format algorithm ``algo`` (a name or an ``AlgorithmType``) trains on."""
    name = str(getattr(algo, "value", algo)).strip().lower()
    name = _SPELLINGS.get(name, name)
    try:
        return _ALGORITHM_FORMATS[name]
    except KeyError:
        valid = ", ".join(sorted(_ALGORITHM_FORMATS))
        raise DataError(f"unknown algorithm {algo!r}: no data format for it (valid: {valid})") from None


def check_format(format: str) -> str:
    """Validate a canonical format name (``sft``, ``preference`` or ``prompt``)."""
    value = str(format).strip().lower()
    if value not in FORMATS:
        raise DataError(f"format must be one of {', '.join(FORMATS)}; got {format!r}")
    return value
