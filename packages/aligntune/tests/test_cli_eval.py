"""``aligntune eval`` through typer's CliRunner on embedded:tiny-random: a model name, a run's output folder
(its final_model and its evaluation settings), and clear failures."""

import json
import os
import pathlib

import pytest
from typer.testing import CliRunner

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from aligntune.cli.main import app

SHARED = pathlib.Path(__file__).resolve().parents[3].parent / "shared" / "data"
ALPACA = SHARED / "alpaca_200.json"
runner = CliRunner()


@pytest.fixture(autouse=True)
def _cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("ALIGNTUNE_CACHE", str(tmp_path_factory.getbasetemp() / "aligntune-cache"))


def _predictions(folder: pathlib.Path) -> list[dict]:
    return [json.loads(line) for line in (folder / "predictions.jsonl").read_text().splitlines()]


@pytest.mark.skipif(not ALPACA.is_file(), reason="shared alpaca_200.json is absent")
def test_eval_of_a_model_name_on_two_datasets(tmp_path):
    from aligntune_eval import get_metric

    out = tmp_path / "out"
    result = runner.invoke(app, ["eval", "embedded:tiny-random", "--dataset", f"{ALPACA}#max=3",
                                 "--dataset", "builtin:arithmetic#max=2", "--metric", "bleu", "--metric", "exact_match",
                                 "--metric", "reward_score:reward=length:prefix=len", "--max-new-tokens", "4",
                                 "--output-dir", str(out)])
    assert result.exit_code == 0, result.output
    assert "bleu" in result.output and "report:" in result.output
    report = json.loads((out / "alpaca_200.json" / "report.json").read_text())
    assert report["model"] == "embedded:tiny-random" and report["num_samples"] == 3
    assert report["generation"]["max_new_tokens"] == 4
    samples = _predictions(out / "alpaca_200.json")
    preds, refs = [s["prediction"] for s in samples], [s["reference"] for s in samples]
    # the figures are those of the metrics on the written predictions
    assert report["metrics"]["bleu"] == pytest.approx(get_metric("bleu").compute(preds, refs)["bleu"])
    assert report["metrics"]["len_mean"] == pytest.approx(get_metric("reward_score", reward="length")
                                                          .compute(preds)["reward_mean"])
    arithmetic = json.loads((out / "builtin_arithmetic" / "report.json").read_text())
    assert arithmetic["num_samples"] == 2 and set(arithmetic["metrics"]) == set(report["metrics"])


def test_eval_of_a_run_folder_uses_its_model_and_evaluation_settings(tmp_path):
    from aligntune_backends.models import load_model_and_tokenizer
    from aligntune_config import ConfigLoader, ModelConfig, UnifiedConfig

    run = tmp_path / "run"
    config = UnifiedConfig.model_validate({
        "algo": "sft", "model": {"name_or_path": "embedded:tiny-random"}, "datasets": ["builtin:instructions#max=4"],
        "evaluation": {"compute_perplexity": False, "compute_bleu": False, "compute_rouge": False,
                       "metrics": ["token_f1"], "max_new_tokens": 3, "max_samples_for_quality_metrics": 2},
        "logging": {"output_dir": str(run)}})
    ConfigLoader.save_resolved_config(config, run)
    model, tokenizer = load_model_and_tokenizer(ModelConfig(name_or_path="embedded:tiny-random"), for_training=False)
    model.save_pretrained(run / "final_model")
    tokenizer.save_pretrained(run / "final_model")
    result = runner.invoke(app, ["eval", str(run), "--dataset", "builtin:arithmetic#max=3"])
    assert result.exit_code == 0, result.output
    report = json.loads((run / "eval" / "builtin_arithmetic" / "report.json").read_text())
    assert set(report["metrics"]) == {"token_f1"}  # the run's evaluation.metrics, its compute_* switches off
    assert report["generation"]["max_new_tokens"] == 3 and report["num_generated"] == 2


def test_eval_failures_are_clear(tmp_path):
    missing = tmp_path / "no-such-model"
    result = runner.invoke(app, ["eval", str(missing), "--dataset", "builtin:arithmetic#max=2"])
    assert result.exit_code == 1 and "no-such-model" in result.output
    result = runner.invoke(app, ["eval", "embedded:tiny-random"])
    assert result.exit_code == 1 and "--dataset" in result.output
    result = runner.invoke(app, ["eval", "embedded:tiny-random", "--dataset", "builtin:arithmetic#max=2",
                                 "--metric", "no_such_metric", "--max-new-tokens", "2", "--output-dir", str(tmp_path)])
    assert result.exit_code == 1 and "no_such_metric" in result.output
