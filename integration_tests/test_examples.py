"""Every file in examples/ runs: YAML configs through the CLI (`aligntune train FILE` via typer's
runner), Python scripts as a user runs them (a subprocess). Both with `embedded:tiny-random`, 2 steps and
tiny lengths, so the whole file stays around a minute or two on 2 CPU cores.

Overrides applied to YAML files (nothing else changes): --model embedded:tiny-random, --max-steps 2,
--output-dir <tmp> (not --max-steps for Meta-ES, which refuses it), and through --set: batch size 2, at most 8 rows per dataset (4 per evaluation
dataset), 2 generations and 8 completion tokens for online algorithms, 4 new tokens for before/after
evaluation, and for Meta-ES one iteration of two 1-step candidates scored on 2 prompts. Scripts take
--model, --max-steps and --output-dir (the convention of examples/README.md).
"""

from __future__ import annotations

import json
import pathlib
import subprocess
import sys

import pytest
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
YAMLS = sorted([*EXAMPLES.glob("*.yaml"), *EXAMPLES.glob("*.yml")])
SCRIPTS = sorted(EXAMPLES.glob("*.py"))
ONLINE = {"grpo", "gspo", "dapo", "drgrpo", "nmgrpo", "ppo", "meta_es"}


def small_overrides(data: dict) -> list[str]:
    """--set items that make a config tiny (only for keys that apply to it)."""
    algo = str(data.get("algo") or data.get("algorithm") or "sft").lower()
    train = data.get("train") or data.get("training") or {}
    sets = ["train.per_device_batch_size=2", "train.gradient_accumulation_steps=1", "train.logging_steps=1",
            'train.save_strategy="no"', "logging.loggers=[jsonl]"]
    sets += [f"datasets[{i}].max_samples=8" for i in range(len(data.get("datasets") or []))]
    sets += [f"eval_datasets[{i}].max_samples=4" for i in range(len(data.get("eval_datasets") or []))]
    if (data.get("evaluation") or {}).get("before_after"):
        sets += ["evaluation.max_new_tokens=4", "evaluation.eval_batch_size=4"]
    if algo in ONLINE:
        if algo != "ppo":
            sets.append("train.num_generations=2")
        for key in ("max_completion_length", "response_length"):
            if key in train:
                sets.append(f"train.{key}=8")
        if "overlong_buffer_length" in train:
            sets.append("train.overlong_buffer_length=4")
        if "max_prompt_length" in train:
            sets.append("train.max_prompt_length=48")
    if algo == "meta_es":  # one ES iteration of two 1-step candidates, scored on 2 prompts
        small = {"N": 2, "T": 1, "meta_iterations": 1, "eval_samples": 2, "eval_max_tokens": 4, "num_workers": 1}
        sets += [f"meta_es.{k}={v}" for k, v in small.items() if k in (data.get("meta_es") or {})]
    return sets


def test_every_algorithm_built_here_has_an_example():
    algos = {str(yaml.safe_load(p.read_text()).get("algo")) for p in YAMLS}
    assert {"sft", "dpo", "grpo", "gspo", "dapo", "drgrpo", "reward_model"} <= algos, algos
    assert {"custom_reward.py", "custom_processing.py"} <= {p.name for p in SCRIPTS}
    texts = {p.name: p.read_text() for p in YAMLS}
    assert any("column_mapping:" in t for t in texts.values())
    assert any(t.count("- name:") >= 2 and t.count("type:") + t.count("- math_accuracy") >= 2 for t in texts.values())
    for name, text in texts.items():  # what a user runs: the real model, unless it is a GPU-only example
        assert "embedded:smollm2-135m-instruct" in text or "cuda" in text.lower(), name


@pytest.mark.parametrize("path", YAMLS, ids=[p.name for p in YAMLS])
def test_yaml_example_trains_through_the_cli(path, tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from aligntune.cli.main import app

    monkeypatch.chdir(ROOT)  # examples name their local data relative to the repository root
    data = yaml.safe_load(path.read_text())
    meta_es = str(data.get("algo")) == "meta_es"  # Meta-ES counts steps per candidate (meta_es.T), set above
    args = ["train", str(path), "--model", "embedded:tiny-random", "--output-dir", str(tmp_path)]
    args += [] if meta_es else ["--max-steps", "2"]
    for item in small_overrides(data):
        args += ["--set", item]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, (result.output, result.exception)
    assert "model saved to" in result.output
    saved = pathlib.Path(result.output.split("model saved to", 1)[1].split()[0])
    assert saved.is_file() or any(saved.iterdir())  # a model folder (Meta-ES: the best φ as JSON)
    metrics = tmp_path / "metrics.jsonl"
    if metrics.exists() and not meta_es:  # the engine's log: training stopped at max_steps
        steps = [json.loads(line).get("step") for line in metrics.read_text().splitlines()]
        assert max(s for s in steps if s is not None) == 2


@pytest.mark.parametrize("path", SCRIPTS, ids=[p.name for p in SCRIPTS])
def test_python_example_runs(path, tmp_path):
    out = subprocess.run([sys.executable, str(path), "--model", "embedded:tiny-random", "--max-steps", "2",
                          "--output-dir", str(tmp_path)], capture_output=True, text=True, cwd=ROOT, timeout=900)
    assert out.returncode == 0, out.stderr[-4000:]
    assert any(tmp_path.rglob("*.safetensors")) or any(tmp_path.rglob("*.json")), list(tmp_path.rglob("*"))
