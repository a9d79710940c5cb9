"""Shared fixtures of the aligntune-backends tests: an isolated model cache, no Hub access, and the
embedded models resolved once per session."""

from __future__ import annotations

import time

import pytest


@pytest.fixture(scope="session", autouse=True)
def model_cache(tmp_path_factory):
    """A fresh model cache for the whole session (``$ALIGNTUNE_CACHE``), and the Hub switched off."""
    root = tmp_path_factory.mktemp("aligntune-model-cache")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ALIGNTUNE_CACHE", str(root))
        mp.setenv("HF_HUB_OFFLINE", "1")
        mp.setenv("TRANSFORMERS_OFFLINE", "1")
        yield root


@pytest.fixture(scope="session")
def tiny_random_path(model_cache):
    """The cached folder of embedded:tiny-random (built on first use)."""
    from aligntune_backends.models import resolve_embedded

    return resolve_embedded("embedded:tiny-random")


@pytest.fixture(scope="session")
def smollm2_build(model_cache):
    """(folder, seconds) of the first resolve of embedded:smollm2-135m-instruct: the GGUF conversion."""
    from aligntune_backends.models import resolve_embedded

    start = time.monotonic()
    path = resolve_embedded("embedded:smollm2-135m-instruct")
    return path, time.monotonic() - start


@pytest.fixture
def tiny_config():
    """Factory of ModelConfigs for embedded:tiny-random with the given overrides."""
    from aligntune_config.model import ModelConfig

    def make(**overrides):
        return ModelConfig(name_or_path=overrides.pop("name_or_path", "embedded:tiny-random"), **overrides)

    return make
