"""The model sources: registered in MODEL_SOURCES, satisfy the ModelSource protocol, import light."""

from __future__ import annotations

import json
import subprocess
import sys

from aligntune_backends.models import EMBEDDED_SOURCE, GGUF_SOURCE, register_model_sources
from aligntune_config.interfaces import ModelSource
from aligntune_config.registry import MODEL_SOURCES


def test_sources_are_registered_and_follow_the_protocol():
    register_model_sources()  # idempotent
    assert MODEL_SOURCES.get("embedded") is EMBEDDED_SOURCE
    assert MODEL_SOURCES.get("gguf") is GGUF_SOURCE
    assert isinstance(EMBEDDED_SOURCE, ModelSource) and isinstance(GGUF_SOURCE, ModelSource)
    assert "embedded:tiny-random" in MODEL_SOURCES.describe()["embedded"]


def test_embedded_source_resolves_its_scheme_only(tiny_random_path):
    assert EMBEDDED_SOURCE.can_resolve("embedded:tiny-random")
    assert not EMBEDDED_SOURCE.can_resolve("HuggingFaceTB/SmolLM2-135M")
    assert not EMBEDDED_SOURCE.can_resolve("/models/embedded")
    assert EMBEDDED_SOURCE.resolve("embedded:tiny-random") == str(tiny_random_path)


def test_gguf_source_claims_existing_gguf_files_only(tmp_path):
    file = tmp_path / "x.gguf"
    assert not GGUF_SOURCE.can_resolve(str(file))
    file.write_bytes(b"GGUF")
    assert GGUF_SOURCE.can_resolve(str(file)) and not GGUF_SOURCE.can_resolve(str(tmp_path))


def test_import_is_light_and_registers_the_sources():
    code = ("import sys, json, aligntune_backends.models\n"
            "from aligntune_config.registry import MODEL_SOURCES\n"
            "print(json.dumps({'heavy': [m for m in ('torch', 'transformers', 'peft', 'gguf') if m in sys.modules],"
            " 'sources': MODEL_SOURCES.names()}))")
    out = json.loads(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)
    assert out["heavy"] == []
    assert {"embedded", "gguf"} <= set(out["sources"])
