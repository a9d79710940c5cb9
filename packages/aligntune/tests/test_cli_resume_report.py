"""`aligntune resume` and `aligntune report` on the output of a real (tiny-random) run."""

import json
import pathlib

import pytest
from typer.testing import CliRunner

from aligntune.cli.main import app
from aligntune.cli.report import collect, panel_of
from aligntune.cli.resume import latest_checkpoint

runner = CliRunner()
WIDE = {"COLUMNS": "250"}


def _jsonl_steps(run: pathlib.Path) -> list[int]:
    return [json.loads(line)["step"] for line in (run / "metrics.jsonl").read_text().splitlines()
            if "loss" in json.loads(line)]


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory):
    """4 SFT steps of tiny-random, a checkpoint every 2 steps, metrics logged every step."""
    root = tmp_path_factory.mktemp("run")
    run = root / "out"
    result = runner.invoke(app, [
        "train", "--type", "sft", "--model", "embedded:tiny-random", "--dataset", "builtin:instructions#max=16",
        "--max-steps", "4", "--batch-size", "4", "--output-dir", str(run), "--set", "model.precision=fp32",
        "--set", "train.save_interval=2", "--set", "train.logging_steps=1", "--set", "logging.loggers=[jsonl]",
        "--set", f"caching.root={root / 'cache'}"], env=WIDE)
    assert result.exit_code == 0, result.output
    return run


def test_resume_continues_from_the_latest_checkpoint(finished_run):
    assert sorted(p.name for p in finished_run.glob("checkpoint-*")) == ["checkpoint-2", "checkpoint-4"]
    assert _jsonl_steps(finished_run) == [1, 2, 3, 4]
    result = runner.invoke(app, ["resume", str(finished_run), "--max-steps", "6"], env=WIDE)
    assert result.exit_code == 0, result.output
    assert "checkpoint-4 (step 4)" in result.output and "done: sft" in result.output
    # steps 5 and 6 were trained on top of step 4: nothing before them was redone
    assert _jsonl_steps(finished_run) == [1, 2, 3, 4, 5, 6]
    state = json.loads((finished_run / "checkpoint-6" / "trainer_state.json").read_text())
    assert state["global_step"] == 6 and state["max_steps"] == 6
    assert "max_steps: 6" in (finished_run / "resolved_config.yaml").read_text()


def test_resume_refuses_what_it_cannot_continue(finished_run, tmp_path):
    done = runner.invoke(app, ["resume", str(finished_run), "--max-steps", "2", "--checkpoint",
                               str(finished_run / "checkpoint-4")], env=WIDE)
    assert done.exit_code == 1 and "at step 4 of 2; pass --max-steps N with N greater than 4" in done.output
    empty = runner.invoke(app, ["resume", str(tmp_path)], env=WIDE)
    assert empty.exit_code == 1 and "has no resolved_config.yaml" in empty.output
    (tmp_path / "resolved_config.yaml").write_text((finished_run / "resolved_config.yaml").read_text())
    (tmp_path / "checkpoint-3").mkdir()  # weights only (as PPO saves): not resumable
    weights_only = runner.invoke(app, ["resume", str(tmp_path)], env=WIDE)
    assert weights_only.exit_code == 1 and "checkpoint-3 hold weights only" in weights_only.output


def test_latest_checkpoint_is_numeric(tmp_path):
    for step in (9, 10, 2):
        (tmp_path / f"checkpoint-{step}").mkdir()
        (tmp_path / f"checkpoint-{step}" / "trainer_state.json").write_text("{}")
    (tmp_path / "checkpoint-11").mkdir()  # no trainer state: skipped
    assert latest_checkpoint(tmp_path).name == "checkpoint-10"


def test_report_plots_the_logged_metrics(finished_run, tmp_path):
    out = tmp_path / "report"
    result = runner.invoke(app, ["report", str(finished_run), "--out", str(out)], env=WIDE)
    assert result.exit_code == 0, result.output
    pngs = sorted(p.name for p in out.glob("*.png"))
    assert {"loss.png", "learning_rate.png"} <= set(pngs)
    for png in pngs:
        assert (out / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    page = (out / "report.html").read_text()
    assert page.count("data:image/png;base64,") == len(pngs)  # self-contained
    assert "embedded:tiny-random" in page and "<td>loss</td>" in page and "src=\"http" not in page


def test_report_without_metrics_fails_clearly(tmp_path):
    result = runner.invoke(app, ["report", str(tmp_path)], env=WIDE)
    assert result.exit_code == 1 and "no metrics.jsonl" in result.output


def test_report_panels_and_repeated_steps(tmp_path):
    assert panel_of("loss") == "loss" and panel_of("eval_loss") == "loss"
    assert panel_of("rewards/chosen") == "reward" and panel_of("reward_std") == "reward"
    assert panel_of("kl") == "kl" and panel_of("objective/kl") == "kl" and panel_of("approx_kl") == "kl"
    assert panel_of("completions/mean_length") == "lengths" and panel_of("learning_rate") == "learning_rate"
    assert panel_of("grad_norm") == "other" and panel_of("kl_coef") == "kl"
    records = [{"step": 1, "loss": 2.0}, {"step": 2, "loss": 1.5}, {"step": 2, "loss": 1.4},  # redone after resume
               {"step": 3, "train_runtime": 1.0, "train_loss": 1.6}, {"step": 3, "flag": True, "note": "x"}]
    metrics = collect(records, tmp_path / "metrics.jsonl")
    assert metrics.series == {"loss": [(1.0, 2.0), (2.0, 1.4)]}


def test_report_shows_the_before_after_evaluation(tmp_path):
    (tmp_path / "metrics.jsonl").write_text("".join(
        json.dumps({"step": s, "reward": 0.1 * s, "kl": 0.01 * s, "completions/mean_length": 20 + s}) + "\n"
        for s in range(1, 6)) + '{"step": 6, "rew')  # a running run: the last line is still being written
    for phase, score in (("before", 0.0), ("after", 0.25)):
        (tmp_path / f"eval_{phase}").mkdir()
        (tmp_path / f"eval_{phase}" / "report.json").write_text(json.dumps({"metrics": {"instruction_accuracy": score}}))
    result = runner.invoke(app, ["report", str(tmp_path)], env=WIDE)
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (tmp_path / "report").glob("*.png")) == ["kl.png", "lengths.png", "reward.png"]
    page = (tmp_path / "report" / "report.html").read_text()
    assert "<td>instruction_accuracy</td><td>0</td><td>0.25</td><td>+0.25</td>" in page
    assert "not saved yet" in page and "metrics up to step 5" in result.output


def test_multi_process_resume_gives_every_process_the_same_config(finished_run):
    from aligntune.cli.resume import launch_args, resume_config
    from aligntune.cli.train_unified import build_parser, resolve

    checkpoint = finished_run / "checkpoint-4"
    sets = ["distributed.backend=ddp", "distributed.num_processes=2"]
    expected, _ = resume_config(finished_run, max_steps=9, sets=sets, checkpoint=checkpoint)
    argv = launch_args(finished_run, checkpoint, max_steps=9, sets=sets)
    launched = resolve(build_parser().parse_args(argv))
    assert launched.model_dump() == expected.model_dump()
    assert launched.train.resume_from_checkpoint == str(checkpoint) and launched.train.max_steps == 9
    assert launched.logging.output_dir == str(finished_run) and launched.distributed.num_processes == 2


def test_report_of_a_meta_es_run_plots_fitness_per_iteration(tmp_path):
    history = [{"iteration": i, "sigma": 0.1, "fitness": [0.1 * i, 0.0], "shaped": [0.5, -0.5], "failed": 0,
                "mean_fitness": 0.05 * i, "max_fitness": 0.1 * i, "best_fitness": 0.1 * i, "grad_norm": 1.0,
                "improved": True, "patience_counter": 0} for i in range(3)]
    (tmp_path / "meta_es_state.json").write_text(json.dumps({"phi": [0.0], "history": history}))
    result = runner.invoke(app, ["report", str(tmp_path)], env=WIDE)
    assert result.exit_code == 0, result.output
    assert {"fitness.png", "other.png"} == {p.name for p in (tmp_path / "report").glob("*.png")}
    assert "metrics up to step 3" in result.output
    page = (tmp_path / "report" / "report.html").read_text()
    assert "<td>best_fitness</td><td>0.2</td><td>3</td><td>3</td>" in page


def test_meta_es_resumes_from_its_es_state(tmp_path):
    from aligntune_config import ConfigLoader

    from aligntune.cli.resume import progress, resume_config

    config = ConfigLoader.load({"algo": "meta_es", "model": {"name_or_path": "embedded:tiny-random"},
                                "datasets": ["builtin:arithmetic"], "rewards": ["math"],
                                "train": {"per_device_batch_size": 2}, "meta_es": {"meta_iterations": 2, "N": 2, "T": 1}})
    ConfigLoader.save_resolved_config(config, tmp_path)
    missing = runner.invoke(app, ["resume", str(tmp_path), "--max-steps", "3"], env=WIDE)
    assert missing.exit_code == 1 and "no meta_es_state.json" in missing.output
    assert "use --set meta_es.meta_iterations=N" in missing.output
    state = tmp_path / "meta_es_state.json"
    state.write_text(json.dumps({"history": [{"iteration": 0}, {"iteration": 1}]}))
    finished = runner.invoke(app, ["resume", str(tmp_path)], env=WIDE)
    assert finished.exit_code == 1 and "at step 2 of 2; pass --set meta_es.meta_iterations=N" in finished.output
    resumed, found = resume_config(tmp_path, sets=["meta_es.meta_iterations=4"])
    assert found == state and resumed.meta_es.resume == str(state) and resumed.logging.output_dir == str(tmp_path)
    assert progress(resumed, found) == (2, 4, "--set meta_es.meta_iterations=N")
