import pathlib

import pytest

SPEC_DIR = pathlib.Path(__file__).resolve().parents[3].parent / "shared" / "spec"


@pytest.fixture
def spec_dir() -> pathlib.Path:
    if not SPEC_DIR.is_dir():
        pytest.skip(f"spec folder {SPEC_DIR} not present")
    return SPEC_DIR


def _minimal(algo: str = "sft", **sections):
    base = {"algo": algo, "model": {"name_or_path": "embedded:tiny-random"}, "datasets": [{"name": "builtin:arithmetic"}]}
    base.update(sections)
    return base


@pytest.fixture
def minimal():
    """minimal(algo, **sections) -> the smallest valid config mapping for ``algo``."""
    return _minimal
