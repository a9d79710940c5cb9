"""backend: auto -- Unsloth when it is installed, a CUDA device is present and the algorithm is one it
runs; TRL otherwise, with the reason logged. Unsloth's presence and the CUDA device are simulated at the
import boundary (a fake ``unsloth`` module / package on the path, torch's CUDA answer). Probing must
leave nothing behind: no unsloth import, no environment variable, no module when unsloth is absent."""

from __future__ import annotations

import importlib.machinery
import json
import logging
import os
import subprocess
import sys
import types

import pytest
from aligntune_backends.unsloth import probe
from aligntune_config import UnifiedConfig

run = pytest.importorskip("aligntune.run")


def cfg(algo="sft", backend="auto"):
    return UnifiedConfig(algo=algo, backend=backend, model={"name_or_path": "embedded:tiny-random", "use_peft": True},
                         datasets=["d"], rewards=["length"] if algo != "sft" else [],
                         train={"per_device_batch_size": 2} if algo != "sft" else {})


@pytest.fixture
def unsloth_present(monkeypatch):
    module = types.ModuleType("unsloth")
    module.__spec__ = importlib.machinery.ModuleSpec("unsloth", None)
    monkeypatch.setitem(sys.modules, "unsloth", module)


@pytest.fixture
def unsloth_absent(monkeypatch):
    monkeypatch.delitem(sys.modules, "unsloth", raising=False)
    real = probe.importlib.util.find_spec
    monkeypatch.setattr(probe.importlib.util, "find_spec", lambda name, *a: None if name == "unsloth" else real(name, *a))


def test_auto_picks_unsloth_when_installed_on_cuda(unsloth_present, monkeypatch, caplog):
    monkeypatch.setattr(probe, "cuda_available", lambda: True)
    with caplog.at_level(logging.INFO, logger="aligntune"):
        chosen = run.select_backend(cfg("grpo"))
    assert chosen.name == "unsloth"
    assert "backend auto -> unsloth" in caplog.text


@pytest.mark.parametrize("algo", ["sft", "dpo", "ppo", "grpo", "dapo", "drgrpo"])
def test_auto_picks_unsloth_for_every_algorithm_it_runs(unsloth_present, monkeypatch, algo):
    monkeypatch.setattr(probe, "cuda_available", lambda: True)
    assert run.select_backend(cfg(algo)).name == "unsloth"


def test_auto_falls_back_to_trl_for_gspo(unsloth_present, monkeypatch, caplog):
    monkeypatch.setattr(probe, "cuda_available", lambda: True)
    with caplog.at_level(logging.INFO, logger="aligntune"):
        chosen = run.select_backend(cfg("gspo"))
    assert chosen.name == "trl"
    assert "unsloth does not run gspo" in caplog.text


def test_auto_falls_back_to_trl_without_cuda(unsloth_present, monkeypatch, caplog):
    monkeypatch.setattr(probe, "cuda_available", lambda: False)
    with caplog.at_level(logging.INFO, logger="aligntune"):
        chosen = run.select_backend(cfg("sft"))
    assert chosen.name == "trl"
    assert "backend auto -> trl (unsloth is installed but no CUDA device" in caplog.text


def test_auto_falls_back_to_trl_without_unsloth(unsloth_absent, monkeypatch, caplog):
    monkeypatch.setattr(probe, "cuda_available", lambda: True)
    with caplog.at_level(logging.INFO, logger="aligntune"):
        chosen = run.select_backend(cfg("grpo"))
    assert chosen.name == "trl"
    assert "backend auto -> trl (unsloth is not installed" in caplog.text


def test_explicit_unsloth_without_it_is_an_error_with_the_reason(unsloth_absent):
    with pytest.raises(RuntimeError, match="backend unsloth is not available here: unsloth is not installed"):
        run.select_backend(cfg("sft", backend="unsloth"))


PROBE_SCRIPT = r"""
import json, os, sys
before_env = dict(os.environ)
from aligntune_config import UnifiedConfig
from aligntune_config.registry import BACKENDS
from aligntune.run import select_backend
import aligntune_backends.unsloth.engine  # the engine module itself (what the registry loads)
loaded = set(sys.modules)
available = BACKENDS.get("unsloth").availability()
# third-party modules the probe imported (the import system's own stdlib helpers do not count)
new_by_probe = sorted(m for m in set(sys.modules) - loaded
                      if not m.startswith("aligntune") and m.split(".")[0] not in sys.stdlib_module_names)
torch_by_probe = "torch" in sys.modules
config = UnifiedConfig(algo="sft", model={"name_or_path": "embedded:tiny-random"}, datasets=["d"])
chosen = select_backend(config)
print(json.dumps({
    "available": bool(available), "reason": available.reason, "chosen": chosen.name,
    "unsloth_imported": "unsloth" in sys.modules or os.environ.get("FAKE_UNSLOTH_IMPORTED") == "1",
    "env_changed": sorted(k for k in set(os.environ) | set(before_env) if os.environ.get(k) != before_env.get(k)),
    "torch_imported": torch_by_probe, "new_by_probe": new_by_probe,
}))
"""


def _probe_in_subprocess(tmp_path, with_fake_unsloth: bool) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    if with_fake_unsloth:
        # an installed "unsloth" that would mark the process and patch the environment if imported
        package = tmp_path / "site" / "unsloth"
        package.mkdir(parents=True)
        (package / "__init__.py").write_text("import os\nos.environ['FAKE_UNSLOTH_IMPORTED'] = '1'\n"
                                             "os.environ['UNSLOTH_IS_PRESENT'] = '1'\n")
        env["PYTHONPATH"] = str(tmp_path / "site")
    env["CUDA_VISIBLE_DEVICES"] = ""  # no GPU, even on a machine that has one
    out = subprocess.run([sys.executable, "-c", PROBE_SCRIPT], capture_output=True, text=True, env=env, timeout=180,
                         check=False)
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_probing_an_installed_unsloth_imports_nothing_of_it_and_leaves_env_alone(tmp_path):
    result = _probe_in_subprocess(tmp_path, with_fake_unsloth=True)
    assert result["available"] is False and "no CUDA device" in result["reason"]
    assert result["chosen"] == "trl"
    assert result["unsloth_imported"] is False
    assert result["env_changed"] == []


def test_probing_without_unsloth_imports_nothing_at_all(tmp_path):
    result = _probe_in_subprocess(tmp_path, with_fake_unsloth=False)
    assert result["available"] is False and "not installed" in result["reason"]
    assert result["chosen"] == "trl"
    assert result["env_changed"] == [] and result["unsloth_imported"] is False
    assert result["torch_imported"] is False  # no unsloth: not even torch is asked about CUDA
    assert result["new_by_probe"] == [], result["new_by_probe"]


def test_list_backends_shows_availability_and_reason(unsloth_absent):
    inspect_cmds = pytest.importorskip("aligntune.cli.inspect_cmds")
    rows = dict(inspect_cmds.rows("backends"))
    assert rows["trl"].startswith("available")
    assert rows["unsloth"].startswith("unavailable: unsloth is not installed")
    assert "aligntune[unsloth]" in rows["unsloth"]


def test_list_backends_with_unsloth_on_cuda(unsloth_present, monkeypatch):
    inspect_cmds = pytest.importorskip("aligntune.cli.inspect_cmds")
    monkeypatch.setattr(probe, "cuda_available", lambda: True)
    assert dict(inspect_cmds.rows("backends"))["unsloth"].startswith("available: unsloth is installed and a CUDA")
    monkeypatch.setattr(probe, "cuda_available", lambda: False)
    assert "no CUDA device" in dict(inspect_cmds.rows("backends"))["unsloth"]
