"""The workspace layout and the architecture's dependency rule, read from every package's pyproject."""

import pathlib
import re
import tomllib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
PACKAGES = {
    "aligntune-config": "aligntune_config",
    "aligntune-data": "aligntune_data",
    "aligntune-rewards": "aligntune_rewards",
    "aligntune-algos": "aligntune_algos",
    "aligntune-backends": "aligntune_backends",
    "aligntune-eval": "aligntune_eval",
    "aligntune": "aligntune",
}
LEAVES = [name for name in PACKAGES if name not in ("aligntune-config", "aligntune")]


def _project(name: str) -> dict:
    return tomllib.loads((ROOT / "packages" / name / "pyproject.toml").read_text())["project"]


def _requirement_names(project: dict) -> set[str]:
    reqs = list(project.get("dependencies", []))
    for extra in project.get("optional-dependencies", {}).values():
        reqs += extra
    return {re.split(r"[\s\[<>=!~;]", r, maxsplit=1)[0].lower().replace("_", "-") for r in reqs}


def test_exactly_the_seven_packages():
    found = {p.name for p in (ROOT / "packages").iterdir() if (p / "pyproject.toml").exists()}
    assert found == set(PACKAGES)


@pytest.mark.parametrize("name", PACKAGES)
def test_package_layout(name):
    project = _project(name)
    assert project["name"] == name
    assert re.fullmatch(r"\d+\.\d+\.\d+", project["version"])
    base = ROOT / "packages" / name
    assert (base / "README.md").read_text().strip()
    assert (base / "src" / PACKAGES[name] / "__init__.py").exists()
    assert any((base / "tests").glob("test_*.py")), f"{name} has no tests"


@pytest.mark.parametrize("name", LEAVES)
def test_dependency_rule(name):
    """data, rewards, algos, backends and eval depend on aligntune-config and no other AlignTune package."""
    aligntune_deps = {r for r in _requirement_names(_project(name)) if r.startswith("aligntune")}
    assert aligntune_deps == {"aligntune-config"}, f"{name} depends on {sorted(aligntune_deps)}"


def test_config_depends_on_no_heavy_or_aligntune_package():
    deps = _requirement_names(_project("aligntune-config"))
    assert not {d for d in deps if d.startswith("aligntune")}
    assert not deps & {"torch", "transformers", "trl", "datasets", "numpy"}


def test_meta_package_depends_on_every_package_and_declares_gpu_extras():
    project = _project("aligntune")
    deps = _requirement_names({"dependencies": project["dependencies"]})
    assert {n for n in PACKAGES if n != "aligntune"} <= deps
    assert {"unsloth", "vllm", "deepspeed"} <= set(project["optional-dependencies"])


def test_lock_resolves_gpu_extras_and_keeps_default_current():
    lock = tomllib.loads((ROOT / "uv.lock").read_text())
    versions: dict[str, list[str]] = {}
    for package in lock["package"]:
        versions.setdefault(package["name"], []).append(package["version"])
    for gpu_package in ("unsloth", "vllm", "deepspeed"):
        assert gpu_package in versions, f"{gpu_package} is not resolved in uv.lock"
    # the default environment gets the newest of the torch versions in the lock
    from importlib.metadata import version

    from packaging.version import Version

    newest = max(Version(v) for v in versions["torch"])
    assert Version(version("torch").split("+")[0]) == newest


@pytest.mark.parametrize("name", PACKAGES)
def test_version_attribute_matches_pyproject(name):
    module = __import__(PACKAGES[name])
    assert module.__version__ == _project(name)["version"]


@pytest.mark.parametrize("name", PACKAGES)
def test_import_does_not_load_heavy_libraries(name):
    """Heavy libraries are imported where used, never on import (the CLI's --help stays fast)."""
    import json
    import subprocess
    import sys

    code = (f"import sys, json, {PACKAGES[name]}; "
            "print(json.dumps([m for m in ('torch', 'transformers', 'trl') if m in sys.modules]))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == []
