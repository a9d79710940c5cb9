"""Shared fixtures of the aligntune-rewards tests (pytest runs with --import-mode=importlib, so helpers
are shared as fixtures, not imports)."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parents[3].parent / "shared" / "data"


def _data_file(name: str) -> Path:
    path = DATA / name
    if not path.exists():
        pytest.skip(f"real data {path} is not available")
    return path


@pytest.fixture(scope="session")
def gsm8k_rows():
    with open(_data_file("gsm8k_test.jsonl")) as handle:
        return [json.loads(line) for line in handle]


@pytest.fixture(scope="session")
def humaneval_rows():
    with gzip.open(_data_file("HumanEval.jsonl.gz"), "rt") as handle:
        return [json.loads(line) for line in handle]


@pytest.fixture(scope="session")
def mbpp_rows():
    with open(_data_file("sanitized-mbpp.json")) as handle:
        return json.load(handle)


@pytest.fixture(scope="session")
def alpaca_rows():
    with open(_data_file("alpaca_200.json")) as handle:
        return json.load(handle)


@pytest.fixture
def score():
    """score(name_or_spec, text, **kw) -> float: one completion through get_reward."""
    from aligntune_rewards import get_reward

    def run(spec, text, *, prompt=None, reference=None, **columns):
        fn = get_reward(spec)
        kwargs = {k: [v] for k, v in columns.items()}
        return fn([text], prompts=None if prompt is None else [prompt],
                  references=None if reference is None else [reference], **kwargs)[0]

    return run
