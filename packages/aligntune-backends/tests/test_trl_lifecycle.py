"""The run lifecycle of the TRL engine on embedded:tiny-random: sample logging, checkpoint rotation,
TensorBoard and W&B (offline) logging, push_to_hub against a local server that speaks the Hub's HTTP
API, and evaluate() with registry metrics."""

import base64
import json
import os
import pathlib
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")

datasets = pytest.importorskip("datasets")

from aligntune_backends.trl.engine import backend  # noqa: E402
from aligntune_config import UnifiedConfig  # noqa: E402

ROWS = [{"prompt": f"What is {i} plus {i}?", "completion": f" {2 * i}"} for i in range(16)]


def _config(tmp_path, name="run", logging=None, evaluation=None, **train):
    return UnifiedConfig(
        algo="sft", backend="trl", datasets=["rows"],
        model={"name_or_path": "embedded:tiny-random", "use_peft": False, "precision": "fp32"},
        train={"per_device_batch_size": 4, "max_steps": 4, "learning_rate": 1e-3, "save_strategy": "no",
               "eval_strategy": "no", "logging_steps": 1, "seed": 3, **train},
        logging={"output_dir": str(tmp_path / name), "loggers": ["jsonl"], **(logging or {})},
        evaluation=evaluation or {},
    )


def _trainer(config, eval_rows=None):
    data = datasets.Dataset.from_list(ROWS)
    return backend.create_trainer(config, train_dataset=data, eval_dataset=eval_rows)


def _losses(folder):
    rows = [json.loads(line) for line in (folder / "metrics.jsonl").read_text().splitlines()]
    return [row["loss"] for row in rows if "loss" in row]


def test_sample_logging_every_interval_without_changing_training(tmp_path, caplog):
    sampled = _config(tmp_path, "sampled", logging={"sample_logging": {
        "enabled": True, "interval_steps": 2, "num_samples": 2, "max_new_tokens": 4, "temperature": 0.8}})
    caplog.set_level("INFO", logger="aligntune.samples")
    _trainer(sampled).train()
    records = [json.loads(line) for line in (tmp_path / "sampled" / "samples.jsonl").read_text().splitlines()]
    # steps 2 and 4, the first 3 prompts of the data, 2 samples each
    assert sorted({r["step"] for r in records}) == [2, 4]
    assert len(records) == 2 * 3 * 2
    assert {r["sample"] for r in records} == {0, 1}
    assert "What is 0 plus 0?" in records[0]["prompt"]
    assert all(isinstance(r["completion"], str) for r in records)
    assert sum("sample at step" in m for m in caplog.messages) == len(records)
    # sampling uses its own random state: the training losses equal a run without sampling
    _trainer(_config(tmp_path, "plain")).train()
    assert _losses(tmp_path / "sampled") == _losses(tmp_path / "plain")


def test_sample_logging_by_percent_of_max_steps_with_given_prompts(tmp_path):
    config = _config(tmp_path, logging={"sample_logging": {
        "enabled": True, "percent_of_max_steps": 0.75, "prompts": ["Say hi"], "num_samples": 1, "max_new_tokens": 3,
        "temperature": 0}})
    _trainer(config).train()
    records = [json.loads(line) for line in (tmp_path / "run" / "samples.jsonl").read_text().splitlines()]
    assert [r["step"] for r in records] == [3]  # ceil(0.75 * 4) = 3: only step 3 within 4 steps
    assert "Say hi" in records[0]["prompt"]


def test_checkpoints_keep_only_the_newest_save_total_limit(tmp_path):
    config = _config(tmp_path, save_strategy="steps", save_interval=1, save_total_limit=2, max_steps=5)
    _trainer(config).train()
    kept = sorted(p.name for p in (tmp_path / "run").glob("checkpoint-*"))
    assert kept == ["checkpoint-4", "checkpoint-5"]
    assert (tmp_path / "run" / "checkpoint-5" / "trainer_state.json").exists()


def test_tensorboard_writes_event_files(tmp_path):
    config = _config(tmp_path, logging={"loggers": ["tensorboard"], "logging_dir": str(tmp_path / "tb")})
    _trainer(config).train()
    events = list((tmp_path / "tb").glob("events.out.tfevents.*"))
    assert events
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(tmp_path / "tb"))
    acc.Reload()
    assert len(acc.Scalars("train/loss")) == 4


class _Recorder(BaseHTTPRequestHandler):
    """Answers the Hub API calls of create_repo and upload_folder, and records every request."""

    requests: list = []

    def log_message(self, *args):
        pass

    def _reply(self, body):
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.requests.append((self.command, self.path, self.headers.get("authorization"), body))
        if self.path == "/api/repos/create":
            name = json.loads(body)
            self._reply({"url": f"http://{self.headers['Host']}/{name.get('organization')}/{name['name']}",
                         "name": name["name"]})
        elif "/preupload/" in self.path:
            files = json.loads(body)["files"]
            self._reply({"files": [{"path": f["path"], "uploadMode": "regular", "shouldIgnore": False} for f in files]})
        elif "/commit/" in self.path:
            repo = self.path.split("/api/models/")[1].split("/commit/")[0]
            self._reply({"commitUrl": f"http://{self.headers['Host']}/{repo}/commit/{'a' * 40}", "commitOid": "a" * 40,
                         "success": True})
        else:
            self.send_response(404)
            self.end_headers()

    def do_GET(self):
        self.requests.append((self.command, self.path, self.headers.get("authorization"), b""))
        self.send_response(404)
        self.end_headers()


@pytest.fixture
def hub_server(monkeypatch):
    import huggingface_hub.constants as constants

    _Recorder.requests = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setattr(constants, "ENDPOINT", f"http://127.0.0.1:{server.server_port}")
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    yield _Recorder.requests
    server.shutdown()


def test_push_to_hub_uploads_the_saved_model_to_the_repo(tmp_path, hub_server):
    trainer = _trainer(_config(tmp_path, max_steps=1, logging={"hub_token": "hf_secret", "hub_private_repo": True}))
    trainer.train()
    url = trainer.push_to_hub("alice/tiny-sft")
    assert url.endswith("alice/tiny-sft")
    create = [r for r in hub_server if r[1] == "/api/repos/create"]
    body = json.loads(create[0][3])
    assert (body["name"], body["organization"], body["visibility"]) == ("tiny-sft", "alice", "private")
    assert create[0][2] == "Bearer hf_secret"
    commits = [r for r in hub_server if r[1] == "/api/models/alice/tiny-sft/commit/main"]
    assert len(commits) == 1
    lines = [json.loads(line) for line in commits[0][3].decode().splitlines()]
    uploaded = {entry["value"]["path"]: base64.b64decode(entry["value"]["content"])
                for entry in lines if entry["key"] == "file"}
    saved = pathlib.Path(trainer.config.logging.output_dir) / "final_model"
    expected = {p.name for p in saved.iterdir() if p.is_file()}
    assert {"config.json", "model.safetensors", "tokenizer_config.json"} <= set(uploaded)
    assert set(uploaded) == expected
    assert uploaded["model.safetensors"] == (saved / "model.safetensors").read_bytes()


def test_wandb_offline_writes_a_run_folder_and_touches_no_network(tmp_path, hub_server, monkeypatch):
    pytest.importorskip("wandb")
    # every W&B API call would go to the recording server: none may arrive
    import huggingface_hub.constants as constants

    monkeypatch.setenv("WANDB_BASE_URL", constants.ENDPOINT)
    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.setenv("WANDB_SILENT", "true")
    config = _config(tmp_path, max_steps=2, logging={"loggers": ["wandb", "jsonl"], "wandb_project": "tests",
                                                     "run_name": "tiny"})
    _trainer(config).train()
    import wandb

    wandb.finish()
    runs = list((tmp_path / "run" / "wandb").glob("offline-run-*"))
    assert len(runs) == 1
    assert list(runs[0].glob("*.wandb"))  # the offline run log that `wandb sync` uploads
    assert not hub_server


def test_evaluate_reports_loss_perplexity_and_registry_metrics(tmp_path):
    eval_rows = datasets.Dataset.from_list(ROWS[:4])
    config = _config(tmp_path, max_steps=1, evaluation={"metrics": ["exact_match", "token_f1"], "max_new_tokens": 4,
                                                         "max_samples_for_quality_metrics": 3})
    trainer = _trainer(config, eval_rows)
    trainer.train()
    metrics = trainer.evaluate()
    assert metrics["eval_perplexity"] == pytest.approx(__import__("math").exp(metrics["eval_loss"]))
    assert 0.0 <= metrics["eval_exact_match"] <= 1.0 and 0.0 <= metrics["eval_token_f1"] <= 1.0
    # the scores are those of the model's own generations
    from aligntune_backends.trl.evaluation import generate
    from aligntune_config.registry import METRICS

    predictions = generate(trainer.trainer.model, trainer.tokenizer, [r["prompt"] for r in ROWS[:3]], max_new_tokens=4,
                           temperature=0.0, batch_size=8, seed=3)
    expected = METRICS.get("token_f1")().compute(predictions, [r["completion"] for r in ROWS[:3]])
    assert metrics["eval_token_f1"] == pytest.approx(expected["token_f1"])
