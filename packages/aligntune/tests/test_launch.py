"""aligntune.launch (accelerate and DeepSpeed configs, the launch command) and the train_unified CLI."""

import json
import os
import subprocess
import sys

import pytest
import yaml
from aligntune.launch import (
    FSDP_DEFAULTS,
    TRAIN_MODULE,
    accelerate_command,
    accelerate_config,
    deepspeed_json,
    launch,
    write_launch_files,
)
from aligntune_config import DistributedConfig


def dist(**kwargs):
    return DistributedConfig(**kwargs)


def test_ddp_cpu_is_multi_cpu_with_gloo_launch():
    cfg = accelerate_config(dist(backend="ddp", num_processes=2), cuda=False)
    assert cfg["distributed_type"] == "MULTI_CPU"
    assert cfg["use_cpu"] is True
    assert cfg["num_processes"] == 2
    assert cfg["num_machines"] == 1 and cfg["machine_rank"] == 0
    assert cfg["main_process_ip"] == "localhost" and cfg["main_process_port"] == 29500
    cmd = accelerate_command("acc.yaml", ["--config", "c.yaml"], dist(backend="ddp", num_processes=2), cuda=False)
    assert cmd[-4:] == ["-m", TRAIN_MODULE, "--config", "c.yaml"]
    assert "--multi_gpu" in cmd and cmd[cmd.index("--config_file") + 1] == "acc.yaml"


def test_ddp_cuda_is_multi_gpu():
    cfg = accelerate_config(dist(backend="ddp", gpus_per_node=4), cuda=True)
    assert cfg["distributed_type"] == "MULTI_GPU"
    assert cfg["use_cpu"] is False
    assert cfg["num_processes"] == 4
    cmd = accelerate_command("a.yaml", [], dist(backend="ddp", gpus_per_node=4), cuda=True)
    assert "--multi_gpu" not in cmd  # the config file says MULTI_GPU


def test_multi_node_fields():
    d = dist(backend="ddp", nodes=2, gpus_per_node=8, node_rank=1, master_addr="10.0.0.1", master_port=29555)
    cfg = accelerate_config(d, cuda=True)
    assert cfg["num_processes"] == 16  # accelerate counts processes over all machines
    assert cfg["num_machines"] == 2
    assert cfg["machine_rank"] == 1
    assert cfg["main_process_ip"] == "10.0.0.1"
    assert cfg["main_process_port"] == 29555
    assert cfg["same_network"] is True and cfg["rdzv_backend"] == "static"


def test_deepspeed_defaults_to_zero2():
    ds = deepspeed_json(dist(backend="deepspeed", num_processes=2))
    assert ds["zero_optimization"]["stage"] == 2
    assert "stage3_gather_16bit_weights_on_model_save" not in ds["zero_optimization"]
    assert ds["train_micro_batch_size_per_gpu"] == "auto"
    assert ds["gradient_accumulation_steps"] == "auto"
    assert ds["bf16"] == {"enabled": "auto"}


def test_deepspeed_stage3():
    ds = deepspeed_json(dist(backend="deepspeed", deepspeed_stage=3, num_processes=2))
    zero = ds["zero_optimization"]
    assert zero["stage"] == 3
    assert zero["stage3_gather_16bit_weights_on_model_save"] is True
    assert zero["stage3_prefetch_bucket_size"] == "auto"
    cfg = accelerate_config(dist(backend="deepspeed", deepspeed_stage=3, num_processes=2), cuda=True, deepspeed_file="/x/ds.json")
    assert cfg["distributed_type"] == "DEEPSPEED"
    assert cfg["deepspeed_config"]["deepspeed_config_file"] == "/x/ds.json"
    assert cfg["deepspeed_config"]["zero3_init_flag"] is True
    assert "mixed_precision" not in cfg  # from the JSON ("auto"), not from accelerate


def test_deepspeed_user_keys_merged_over_defaults():
    user = {"zero_optimization": {"offload_optimizer": {"device": "cpu"}, "overlap_comm": False},
            "gradient_clipping": 0.5, "bf16": {"enabled": True}}
    ds = deepspeed_json(dist(backend="deepspeed", num_processes=2, deepspeed_config=user))
    zero = ds["zero_optimization"]
    assert zero["stage"] == 2  # kept from the defaults
    assert zero["contiguous_gradients"] is True  # kept
    assert zero["overlap_comm"] is False  # user wins
    assert zero["offload_optimizer"] == {"device": "cpu"}  # added
    assert ds["gradient_clipping"] == 0.5
    assert ds["bf16"] == {"enabled": True}
    assert ds["fp16"] == {"enabled": "auto"}


def test_fsdp_options():
    d = dist(backend="fsdp", num_processes=2, fsdp_config={"sharding_strategy": "SHARD_GRAD_OP",
                                                             "fsdp_offload_params": True,
                                                             "transformer_layer_cls_to_wrap": "LlamaDecoderLayer"})
    cfg = accelerate_config(d, cuda=True)
    assert cfg["distributed_type"] == "FSDP"
    fsdp = cfg["fsdp_config"]
    assert fsdp["fsdp_sharding_strategy"] == "SHARD_GRAD_OP"
    assert fsdp["fsdp_offload_params"] is True
    assert fsdp["fsdp_transformer_layer_cls_to_wrap"] == "LlamaDecoderLayer"
    assert fsdp["fsdp_state_dict_type"] == FSDP_DEFAULTS["fsdp_state_dict_type"]
    assert fsdp["fsdp_auto_wrap_policy"] == "TRANSFORMER_BASED_WRAP"


def test_single_is_no_distribution():
    cfg = accelerate_config(dist(), cuda=False)
    assert cfg["distributed_type"] == "NO" and cfg["num_processes"] == 1


@pytest.mark.parametrize("backend,extra", [("ddp", {}), ("fsdp", {"fsdp_config": {"offload_params": True}}),
                                           ("deepspeed", {"deepspeed_stage": 3})])
def test_files_are_read_by_accelerate(tmp_path, backend, extra):
    pytest.importorskip("accelerate")
    from accelerate.commands.config.config_args import load_config_from_file

    d = dist(backend=backend, num_processes=2, **extra)
    path = write_launch_files(d, tmp_path, cuda=True)
    loaded = load_config_from_file(str(path))
    assert loaded.num_processes == 2
    assert str(loaded.distributed_type).upper().endswith(accelerate_config(d, cuda=True)["distributed_type"])
    if backend == "deepspeed":
        ds = json.loads((tmp_path / "deepspeed.json").read_text())
        assert ds["zero_optimization"]["stage"] == 3
        assert yaml.safe_load(path.read_text())["deepspeed_config"]["deepspeed_config_file"] == str(tmp_path / "deepspeed.json")


def test_launch_dry_run_prints_command(tmp_path, capsys):
    code = launch(["--config", "run.yaml"], dist(backend="ddp", num_processes=2), folder=tmp_path, cuda=False,
                  dry_run=True)
    assert code == 0
    out = capsys.readouterr().out
    assert "distributed_type: MULTI_CPU" in out
    assert f"-m {TRAIN_MODULE} --config run.yaml" in out
    assert (tmp_path / "accelerate.yaml").exists()


def _env(tmp_path):
    return {**os.environ, "ALIGNTUNE_CACHE": str(tmp_path / "models"), "HF_HUB_OFFLINE": "1"}


def test_train_unified_help_imports_no_torch(tmp_path):
    code = ("import sys, runpy\nsys.argv = ['train_unified', '--help']\n"
            "try:\n    runpy.run_module('aligntune.cli.train_unified', run_name='__main__')\n"
            "except SystemExit:\n    pass\n"
            "heavy = [m for m in ('torch', 'transformers', 'trl', 'accelerate') if m in sys.modules]\n"
            "print('HEAVY', heavy)\n")
    out = subprocess.run([sys.executable, "-c", code], check=False, capture_output=True, text=True, env=_env(tmp_path), timeout=60)
    assert out.returncode == 0, out.stderr
    assert "--dataset SPEC" in out.stdout and "--max-steps" in out.stdout
    assert "HEAVY []" in out.stdout


def test_train_unified_invalid_config_exits_1(tmp_path):
    out = subprocess.run([sys.executable, "-m", TRAIN_MODULE, "--algo", "sft", "--model", "embedded:tiny-random",
                          "--dataset", "builtin:instructions", "--set", "train.learning_rate=-1"],
                         check=False, capture_output=True, text=True, env=_env(tmp_path), timeout=60)
    assert out.returncode == 1
    assert "invalid config" in out.stderr and "learning_rate" in out.stderr


def test_train_unified_distributed_flags_dry_run(tmp_path):
    out = subprocess.run([sys.executable, "-m", TRAIN_MODULE, "--algo", "sft", "--model", "embedded:tiny-random",
                          "--dataset", "builtin:instructions", "--distributed", "deepspeed", "--num-processes", "2",
                          "--launch-dry-run"], check=False, capture_output=True, text=True, env=_env(tmp_path), timeout=60)
    assert out.returncode == 0, out.stderr
    assert "distributed_type: DEEPSPEED" in out.stdout
    assert '"stage": 2' in out.stdout
    # the processes get the config flags, not the launch flags
    assert "--dataset builtin:instructions" in out.stdout and "--num-processes" not in out.stdout.splitlines()[-1]


def test_train_unified_bad_distributed_combination_exits_1(tmp_path):
    out = subprocess.run([sys.executable, "-m", TRAIN_MODULE, "--algo", "sft", "--model", "embedded:tiny-random",
                          "--dataset", "builtin:instructions", "--num-processes", "2"],
                         check=False, capture_output=True, text=True, env=_env(tmp_path), timeout=60)
    assert out.returncode == 1  # backend single with 2 processes
    assert "single" in out.stderr


def test_argv_from_main_flags():
    from pathlib import Path

    from aligntune.cli.train_unified import argv_from

    argv = argv_from(Path("run.yaml"), training_type="sft", datasets=["a", "b"], rewards=["length"], max_steps=3,
                     sets=["train.seed=1"], output_dir="out")
    assert argv == ["--config", "run.yaml", "--algo", "sft", "--max-steps", "3", "--output-dir", "out",
                    "--dataset", "a", "--dataset", "b", "--reward", "length", "--set", "train.seed=1"]


@pytest.mark.parametrize("backend,extra", [("ddp", {}), ("fsdp", {"fsdp_config": {"sharding_strategy": "HYBRID_SHARD"}}),
                                           ("deepspeed", {"deepspeed_stage": 3})])
def test_multi_node_files_read_by_accelerate(tmp_path, backend, extra):
    pytest.importorskip("accelerate")
    from accelerate.commands.config.config_args import load_config_from_file

    d = dist(backend=backend, nodes=2, gpus_per_node=4, node_rank=1, master_addr="10.1.2.3", master_port=29777, **extra)
    loaded = load_config_from_file(str(write_launch_files(d, tmp_path, cuda=True)))
    assert (loaded.num_machines, loaded.machine_rank, loaded.num_processes) == (2, 1, 8)
    assert (loaded.main_process_ip, loaded.main_process_port) == ("10.1.2.3", 29777)
    if backend == "fsdp":
        assert loaded.fsdp_config["fsdp_sharding_strategy"] == "HYBRID_SHARD"
    if backend == "deepspeed":
        assert loaded.deepspeed_config["deepspeed_multinode_launcher"] == "standard"
        assert json.loads((tmp_path / "deepspeed.json").read_text())["zero_optimization"]["stage"] == 3


def test_fsdp_cpu_and_deepspeed_zero2_are_not_multi_cpu():
    # FSDP and DeepSpeed keep their own distributed_type (and no --multi_gpu) whatever the device
    for backend in ("fsdp", "deepspeed"):
        d = dist(backend=backend, num_processes=2)
        assert accelerate_config(d, cuda=False)["distributed_type"] in ("FSDP", "DEEPSPEED")
        assert "--multi_gpu" not in accelerate_command("a.yaml", [], d, cuda=False)
    zero2 = deepspeed_json(dist(backend="deepspeed", deepspeed_stage=2, num_processes=2))["zero_optimization"]
    assert zero2["stage"] == 2 and zero2["allgather_partitions"] is True and zero2["reduce_scatter"] is True
    assert not any(key.startswith("stage3_") for key in zero2)


def test_train_unified_multi_node_dry_run(tmp_path):
    out = subprocess.run([sys.executable, "-m", TRAIN_MODULE, "--algo", "sft", "--model", "embedded:tiny-random",
                          "--dataset", "builtin:instructions", "--distributed", "ddp",
                          "--set", "distributed.nodes=2", "--set", "distributed.gpus_per_node=8",
                          "--set", "distributed.node_rank=1", "--set", "distributed.master_addr=10.0.0.1",
                          "--set", "distributed.master_port=29500", "--launch-dry-run"],
                         check=False, capture_output=True, text=True, env=_env(tmp_path), timeout=300)
    assert out.returncode == 0, out.stderr
    assert "num_machines: 2" in out.stdout and "machine_rank: 1" in out.stdout and "num_processes: 16" in out.stdout
    assert "main_process_ip: 10.0.0.1" in out.stdout and "main_process_port: 29500" in out.stdout
