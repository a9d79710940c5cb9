"""``builtin:instructions``: instruction-following SFT rows with checkable outputs.

Columns: ``instruction``, ``output`` (a correct reply), ``check`` (a JSON spec of how a reply is
verified: ``{"kind": "uppercase_word", "word": "APPLE"}``, ...) and ``kind``.
"""

from __future__ import annotations

import json
import random

from .common import SPLIT_SIZES, rng_for

_WORDS = ["apple", "river", "planet", "candle", "garden", "violin", "harbor", "meadow", "rocket", "lantern"]
_FRUITS = ["apple", "banana", "cherry", "mango", "pear", "plum", "kiwi", "grape", "peach", "lemon", "lime", "fig"]
_COLORS = ["red", "blue", "green", "yellow", "purple", "orange"]


def _uppercase(rng: random.Random) -> dict:
    word = rng.choice(_WORDS)
    return {"instruction": f"Reply with the word {word} in uppercase.", "output": word.upper(),
            "check": {"kind": "uppercase_word", "word": word.upper()}}


def _fruits(rng: random.Random) -> dict:
    n = rng.randint(2, 6)
    fruits = rng.sample(_FRUITS, n)
    return {"instruction": f"List {n} fruits as bullets.", "output": "\n".join(f"- {f}" for f in fruits),
            "check": {"kind": "bullet_count", "count": n}}


def _repeat(rng: random.Random) -> dict:
    word, times = rng.choice(_WORDS), rng.randint(2, 5)
    return {"instruction": f"Write the word {word} exactly {times} times, separated by spaces.",
            "output": " ".join([word] * times), "check": {"kind": "repeat_word", "word": word, "times": times}}


def _reverse(rng: random.Random) -> dict:
    word = rng.choice(_WORDS)
    return {"instruction": f"Spell the word {word} backwards.", "output": word[::-1],
            "check": {"kind": "exact", "text": word[::-1]}}


def _count_letters(rng: random.Random) -> dict:
    word = rng.choice(_WORDS)
    return {"instruction": f"How many letters are in the word {word}? Answer with a number only.",
            "output": str(len(word)), "check": {"kind": "exact", "text": str(len(word))}}


def _json_color(rng: random.Random) -> dict:
    color = rng.choice(_COLORS)
    text = json.dumps({"color": color})
    return {"instruction": f'Return a JSON object with the key "color" set to "{color}".', "output": text,
            "check": {"kind": "json_equals", "value": {"color": color}}}


_KINDS = (_uppercase, _fruits, _repeat, _reverse, _count_letters, _json_color)


def instructions(split: str, seed: int = 47) -> list[dict]:
    """Instruction-following rows whose outputs can be checked by rule."""
    rng = rng_for("instructions", split, seed)
    rows = []
    for _ in range(SPLIT_SIZES[split]):
        row = rng.choice(_KINDS)(rng)
        check = row["check"]
        rows.append({"instruction": row["instruction"], "output": row["output"], "kind": check["kind"],
                     "check": json.dumps(check, sort_keys=True)})
    return rows


def check_output(check: str, reply: str) -> bool:
    """Whether ``reply`` satisfies the ``check`` column of a ``builtin:instructions`` row."""
    spec = json.loads(check)
    text = reply.strip()
    kind = spec["kind"]
    if kind == "uppercase_word":
        return text == spec["word"]
    if kind == "bullet_count":
        lines = [line for line in text.splitlines() if line.strip()]
        return len(lines) == spec["count"] and all(line.lstrip().startswith(("-", "*", "•")) for line in lines)
    if kind == "repeat_word":
        return text.split() == [spec["word"]] * spec["times"]
    if kind == "exact":
        return text == spec["text"]
    if kind == "json_equals":
        try:
            return json.loads(text) == spec["value"]
        except json.JSONDecodeError:
            return False
    raise ValueError(f"unknown check kind {kind!r}")


instructions.version = "1"  # type: ignore[attr-defined]
