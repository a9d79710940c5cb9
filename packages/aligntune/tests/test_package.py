"""Package metadata and the light-import rule (heavy libraries are imported where used, not on import)."""

import json
import pathlib
import subprocess
import sys
import tomllib

import aligntune

PYPROJECT = pathlib.Path(__file__).resolve().parents[1] / "pyproject.toml"


def test_version_matches_pyproject():
    assert aligntune.__version__ == tomllib.loads(PYPROJECT.read_text())["project"]["version"]


def test_import_does_not_load_heavy_libraries():
    code = "import sys, json, aligntune; print(json.dumps([m for m in ('torch', 'transformers', 'trl') if m in sys.modules]))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == []
