"""aligntune-config builds alone and installs alone into a fresh virtual environment, without torch."""

import pathlib
import shutil
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
UV = shutil.which("uv")


@pytest.mark.skipif(UV is None, reason="uv is not installed")
def test_config_package_builds_and_installs_alone(tmp_path):
    dist = tmp_path / "dist"
    subprocess.run([UV, "build", "--package", "aligntune-config", "--wheel", "-o", str(dist), "-q"], cwd=ROOT, check=True)
    wheel = next(dist.glob("aligntune_config-*.whl"))
    venv = tmp_path / "venv"
    subprocess.run([UV, "venv", "-q", "-p", sys.executable, str(venv)], check=True)
    python = venv / "bin" / "python"
    subprocess.run([UV, "pip", "install", "-q", "--python", str(python), str(wheel)], check=True)
    code = ("import sys, aligntune_config as c\n"
            "cfg = c.UnifiedConfig(algo='sft', model={'name_or_path': 'm'}, datasets=['d'])\n"
            "import importlib.util\n"
            "print(cfg.algo.value, importlib.util.find_spec('torch') is None, 'aligntune_config' in sys.modules)")
    out = subprocess.run([str(python), "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["sft", "True", "True"]
