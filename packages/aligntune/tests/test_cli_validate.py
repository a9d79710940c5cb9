import pathlib
import re
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from aligntune.cli.main import app
from aligntune.cli.resolve import parse_set

ROOT = pathlib.Path(__file__).resolve().parents[3]
runner = CliRunner()


def test_validate_quickstart_example():
    result = runner.invoke(app, ["validate", str(ROOT / "examples" / "quickstart.yaml")])
    assert result.exit_code == 0, result.output
    assert "valid: sft on embedded:smollm2-135m-instruct" in result.output


def test_validate_reports_every_error_and_fails():
    result = runner.invoke(app, ["validate", str(ROOT / "examples" / "quickstart.yaml"), "--set", "train.learning_rate=-1",
                                 "--set", "model.lora_rnk=4"])
    assert result.exit_code == 1
    assert "train.learning_rate: must be > 0, got -1" in result.output
    assert "model.lora_rnk: unknown key 'lora_rnk'; did you mean" in result.output


def test_flags_override_the_file_and_set_overrides_flags():
    result = runner.invoke(app, ["validate", str(ROOT / "examples" / "quickstart.yaml"), "--max-steps", "3",
                                 "--batch-size", "4", "--set", "train.learning_rate=3e-4", "--print"])
    assert result.exit_code == 0, result.output
    assert "max_steps: 3" in result.output and "per_device_batch_size: 4" in result.output
    assert "learning_rate: 0.0003" in result.output


def test_flags_alone():
    result = runner.invoke(app, ["validate", "--type", "sft", "--model", "embedded:tiny-random", "--dataset",
                                 "builtin:instructions#max=10", "--epochs", "1"])
    assert result.exit_code == 0, result.output
    assert "valid: sft on embedded:tiny-random" in result.output
    bad = runner.invoke(app, ["validate", "--algo", "grpo", "--model", "m", "--dataset", "d#max=0"])
    assert bad.exit_code == 1 and "max must be > 0" in bad.output


def test_parse_set_types_values():
    assert parse_set(["a=1e-5", "b=3", "c=true", "d=[1, 2]", "e=text"]) == {"a": 1e-5, "b": 3, "c": True, "d": [1, 2], "e": "text"}
    with pytest.raises(ValueError, match="must be KEY=VALUE"):
        parse_set(["novalue"])


def test_help_is_light():
    code = ("import sys, json\nfrom typer.testing import CliRunner\nfrom aligntune.cli.main import app\n"
            "r = CliRunner().invoke(app, ['--help'])\nassert r.exit_code == 0 and 'validate' in r.output\n"
            "print(json.dumps([m for m in ('torch', 'transformers', 'pydantic') if m in sys.modules]))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_train_command_trains_and_saves(tmp_path):
    out = tmp_path / "run"
    result = runner.invoke(app, ["train", "--type", "sft", "--model", "embedded:tiny-random", "--dataset",
                                 "builtin:instructions#max=8", "--max-steps", "1", "--batch-size", "4", "--output-dir",
                                 str(out), "--set", "model.precision=fp32", "--set", f"caching.root={tmp_path / 'c'}"])
    assert result.exit_code == 0, result.output
    assert "done: sft on embedded:tiny-random" in result.output
    assert (out / "final_model" / "config.json").exists() and (out / "resolved_config.yaml").exists()


def test_train_refuses_bad_config_before_work():
    result = runner.invoke(app, ["train", "--type", "sft", "--model", "m", "--dataset", "d", "--set", "train.max_steps=0"])
    assert result.exit_code == 1 and "train.max_steps: must be > 0" in result.output


def test_list_shows_registered_components_and_availability():
    wide = {"COLUMNS": "300"}  # one table row per line
    result = runner.invoke(app, ["list", "backends"], env=wide)
    assert result.exit_code == 0 and re.search(r"trl\s*│ available: trl is installed", result.output)
    assert re.search(r"unsloth\s*│ (available|unavailable): \w", result.output), result.output  # with its reason
    algorithms = runner.invoke(app, ["list", "algorithms"], env=wide).output
    assert re.search(r"grpo\s*│ \[trains on: trl", algorithms), algorithms
    for algo in ("sft", "dpo", "reward_model", "ppo", "grpo", "gspo", "dapo", "drgrpo", "nmgrpo", "meta_es"):
        # every algorithm is listed with the engines that train it here, or says it is not built yet
        assert re.search(rf"{algo}\s*│ \[trains on: (not built yet|(trl|unsloth)(, (trl|unsloth))*)[];]", algorithms), algo
    assert re.search(r"meta_es\s*│ \[trains on: trl.*; each candidate an nmgrpo run\]", algorithms), algorithms
    for kind, name in (("rewards", "math"), ("metrics", "bleu"), ("datasets", "builtin:arithmetic"),
                       ("adapters", "hh_rlhf"), ("models", "embedded")):
        out = runner.invoke(app, ["list", kind], env=wide).output
        assert name in out, (kind, out[:500])
    bad = runner.invoke(app, ["list", "gizmos"])
    assert bad.exit_code == 2


def test_doctor_reports_versions_and_devices():
    result = runner.invoke(app, ["doctor"])
    assert result.exit_code == 0
    assert "torch" in result.output and "trl" in result.output and ("cpu" in result.output or "cuda" in result.output)
    assert "unsloth" in result.output


def test_train_evaluates_before_and_after(tmp_path):
    config = tmp_path / "run.yaml"
    config.write_text(
        "algo: sft\nmodel: {name_or_path: embedded:tiny-random, precision: fp32}\n"
        "datasets: ['builtin:instructions#max=16']\n"
        "eval_datasets: [{name: builtin:instructions, split: test, max_samples: 4, preserve_columns: [check]}]\n"
        "train: {per_device_batch_size: 4, max_steps: 1, eval_strategy: 'no'}\n"
        "evaluation: {before_after: true, metrics: [instruction_check], max_new_tokens: 4}\n"
        f"logging: {{output_dir: '{tmp_path / 'out'}'}}\ncaching: {{root: '{tmp_path / 'cache'}'}}\n")
    result = runner.invoke(app, ["train", str(config)], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "evaluation before and after training" in result.output and "instruction_accuracy" in result.output
    assert (tmp_path / "out" / "eval_before" / "report.json").exists()
    assert (tmp_path / "out" / "eval_after" / "report.json").exists()


def test_before_after_needs_eval_data_and_metrics():
    result = runner.invoke(app, ["validate", "--type", "sft", "--model", "m", "--dataset", "d", "--set",
                                 "evaluation.before_after=true"])
    assert result.exit_code == 1
    assert "evaluation.before_after: needs evaluation data" in result.output
    assert "evaluation.metrics: evaluation.before_after needs metric names" in result.output


def test_flag_set_and_file_errors_are_reported_together():
    result = runner.invoke(app, ["validate", str(ROOT / "examples" / "quickstart.yaml"), "--type", "dpo", "--set",
                                 "novalue", "--set", "train.learning_rate=-1", "--set", "model.lora_rnk=4"])
    assert result.exit_code == 1
    assert "4 errors in" in result.output and "quickstart.yaml" in result.output
    for expected in ("--type: must be 'sft'", "--set: 'novalue' must be KEY=VALUE", "train.learning_rate: must be > 0",
                     "model.lora_rnk: unknown key"):
        assert expected in result.output, expected


def test_error_text_is_not_read_as_markup():
    # "[bold]" would be swallowed as a rich style tag if error text were printed as markup
    result = runner.invoke(app, ["validate", "--type", "sft", "--model", "m", "--dataset", "d", "--set",
                                 "train.max_steps=[bold]x"])
    assert result.exit_code == 1 and "got '[bold]x'" in result.output, result.output
