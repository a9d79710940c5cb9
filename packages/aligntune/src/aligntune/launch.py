"""Multi-process launch: a DistributedConfig becomes an accelerate config file, and the run is started
with ``accelerate launch --config_file FILE -m aligntune.cli.train_unified ARGS``.

AlignTune has no launcher of its own: accelerate (torchrun underneath) starts the processes, and in each
of them the Hugging Face Trainer sets up DDP, FSDP or DeepSpeed from the environment accelerate gives it.

- ``accelerate_config(dist, cuda)``: the accelerate config as a dict (written as YAML by ``launch``).
- ``deepspeed_json(dist)``: the DeepSpeed config (ZeRO-2 by default, ZeRO-3 with ``deepspeed_stage: 3``;
  ``deepspeed_config`` merged over it). ``"auto"`` values are filled in by the Trainer from ``train:``.
- ``launch(args, dist)``: write both files, run accelerate as a subprocess, stream its output, return its
  exit code. ``backend: single`` trains in a plain subprocess of ``train_unified``.

CPU: accelerate's own MULTI_CPU launcher needs MPI (``mpirun``); on one machine without MPI the processes
are started by accelerate's torchrun launcher (``--multi_gpu`` on the command line) and run on the CPU
with the gloo backend (the Trainer's ``use_cpu``), which accelerate reports as MULTI_CPU.
"""

from __future__ import annotations

import copy
import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from aligntune_config import DistributedConfig
from aligntune_config.enums import DistributedBackend

logger = logging.getLogger("aligntune.launch")

TRAIN_MODULE = "aligntune.cli.train_unified"

FSDP_DEFAULTS: dict[str, Any] = {
    "fsdp_version": 1,
    "fsdp_auto_wrap_policy": "TRANSFORMER_BASED_WRAP",
    "fsdp_sharding_strategy": "FULL_SHARD",
    "fsdp_backward_prefetch": "BACKWARD_PRE",
    "fsdp_forward_prefetch": False,
    "fsdp_offload_params": False,
    "fsdp_state_dict_type": "FULL_STATE_DICT",
    "fsdp_cpu_ram_efficient_loading": True,
    "fsdp_sync_module_states": True,
    "fsdp_use_orig_params": True,
}
"""accelerate's FSDP options used unless ``distributed.fsdp_config`` sets them (keys with or without the
``fsdp_`` prefix). FULL_STATE_DICT so that ``save_model`` writes one ordinary checkpoint."""


def deepspeed_json(dist: DistributedConfig) -> dict[str, Any]:
    """The DeepSpeed config of ``dist``: ZeRO stage ``deepspeed_stage`` (default 2) with the Trainer's
    ``"auto"`` values, and ``dist.deepspeed_config`` merged over it (nested dicts merged key by key)."""
    stage = 2 if dist.deepspeed_stage is None else dist.deepspeed_stage
    zero: dict[str, Any] = {"stage": stage}
    if stage >= 1:
        zero.update({"overlap_comm": True, "contiguous_gradients": True, "reduce_bucket_size": "auto"})
    if stage == 2:
        zero.update({"allgather_partitions": True, "allgather_bucket_size": 2e8, "reduce_scatter": True})
    if stage == 3:
        zero.update({
            "stage3_prefetch_bucket_size": "auto",
            "stage3_param_persistence_threshold": "auto",
            "stage3_max_live_parameters": 1e9,
            "stage3_max_reuse_distance": 1e9,
            "stage3_gather_16bit_weights_on_model_save": True,
            "sub_group_size": 1e9,
        })
    generated: dict[str, Any] = {
        "train_batch_size": "auto",
        "train_micro_batch_size_per_gpu": "auto",
        "gradient_accumulation_steps": "auto",
        "gradient_clipping": "auto",
        "bf16": {"enabled": "auto"},
        "fp16": {"enabled": "auto"},
        "zero_optimization": zero,
        "steps_per_print": 1e9,
        "wall_clock_breakdown": False,
    }
    return _merge(generated, dist.deepspeed_config)


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def fsdp_options(dist: DistributedConfig) -> dict[str, Any]:
    """accelerate's ``fsdp_config`` block: defaults, then ``dist.fsdp_config`` (``fsdp_`` prefix added)."""
    user = {(k if k.startswith("fsdp_") else f"fsdp_{k}"): v for k, v in dist.fsdp_config.items()}
    return {**FSDP_DEFAULTS, **user}


def accelerate_config(dist: DistributedConfig, cuda: bool, deepspeed_file: str | Path | None = None) -> dict[str, Any]:
    """The accelerate config file of ``dist`` as a dict. ``cuda``: whether the processes train on GPUs.
    ``deepspeed_file``: where the DeepSpeed JSON is (written by ``launch``); without it the DeepSpeed
    config is embedded as ``deepspeed_config.deepspeed_config_file`` = ``"deepspeed.json"``."""
    backend = DistributedBackend(dist.backend)
    if backend is DistributedBackend.SINGLE:
        distributed_type = "NO"
    elif backend is DistributedBackend.DDP:
        distributed_type = "MULTI_GPU" if cuda else "MULTI_CPU"
    elif backend is DistributedBackend.FSDP:
        distributed_type = "FSDP"
    else:
        distributed_type = "DEEPSPEED"
    config: dict[str, Any] = {
        "compute_environment": "LOCAL_MACHINE",
        "distributed_type": distributed_type,
        "num_processes": dist.world_size,
        "num_machines": dist.nodes,
        "machine_rank": dist.node_rank,
        "main_process_ip": dist.master_addr,
        "main_process_port": dist.master_port,
        "rdzv_backend": "static",
        "same_network": True,
        "use_cpu": not cuda,
        "gpu_ids": "all",
        "debug": False,
        "main_training_function": "main",
        # precision comes from the config (model.precision / train.bf16), set by the Trainer itself
        "mixed_precision": "no",
        "downcast_bf16": "no",
    }
    if backend is DistributedBackend.FSDP:
        config["fsdp_config"] = fsdp_options(dist)
    if backend is DistributedBackend.DEEPSPEED:
        stage = 2 if dist.deepspeed_stage is None else dist.deepspeed_stage
        config["deepspeed_config"] = {
            "deepspeed_config_file": str(deepspeed_file or "deepspeed.json"),
            "deepspeed_multinode_launcher": "standard",
            "zero3_init_flag": stage == 3,
        }
        config.pop("mixed_precision")  # given by the DeepSpeed JSON ("auto": the Trainer's bf16/fp16)
    return config


def cuda_available() -> bool:
    """Whether this machine has a CUDA device (torch imported only here)."""
    try:
        import torch
    except ImportError:
        return False
    return bool(torch.cuda.is_available())


def write_launch_files(dist: DistributedConfig, folder: str | Path, cuda: bool) -> Path:
    """Write ``accelerate.yaml`` (and ``deepspeed.json`` for DeepSpeed) into ``folder``; the YAML's path."""
    import yaml

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    ds_file = None
    if DistributedBackend(dist.backend) is DistributedBackend.DEEPSPEED:
        ds_file = folder / "deepspeed.json"
        ds_file.write_text(json.dumps(deepspeed_json(dist), indent=2) + "\n", encoding="utf-8")
    path = folder / "accelerate.yaml"
    path.write_text(yaml.safe_dump(accelerate_config(dist, cuda, ds_file), sort_keys=False), encoding="utf-8")
    return path


def accelerate_command(config_file: str | Path, train_args: Sequence[str], dist: DistributedConfig,
                       cuda: bool) -> list[str]:
    """``accelerate launch --config_file FILE [--multi_gpu] -m aligntune.cli.train_unified ARGS``."""
    exe = shutil.which("accelerate")
    head = [exe] if exe else [sys.executable, "-m", "accelerate.commands.accelerate_cli"]
    cmd = [*head, "launch", "--config_file", str(config_file)]
    if DistributedBackend(dist.backend) is DistributedBackend.DDP and not cuda:
        # accelerate's MULTI_CPU launcher is mpirun; its torchrun launcher runs CPU processes on gloo
        cmd.append("--multi_gpu")
    return [*cmd, "-m", TRAIN_MODULE, *train_args]


def launch(config_path_or_args: str | Path | Sequence[str], dist: DistributedConfig, *,
           folder: str | Path | None = None, cuda: bool | None = None, dry_run: bool = False,
           env: dict[str, str] | None = None) -> int:
    """Train with ``dist``'s processes; the exit code of the launcher.

    ``config_path_or_args``: a config file, or the ``train_unified`` arguments (``["--config", F, "--set",
    ...]``). ``folder``: where the accelerate YAML (and DeepSpeed JSON) go (default: a temporary folder,
    removed afterwards). ``dry_run``: print the command and the files, run nothing.
    """
    if isinstance(config_path_or_args, (str, Path)):
        args = ["--config", str(config_path_or_args)]
    else:
        args = [str(a) for a in config_path_or_args]
    run_env = {**os.environ, **(env or {})}
    if DistributedBackend(dist.backend) is DistributedBackend.SINGLE:
        cmd = [sys.executable, "-m", TRAIN_MODULE, *args]
        if dry_run:
            _show(" ".join(cmd))
            return 0
        return _stream(cmd, run_env)
    if cuda is None:
        cuda = cuda_available()
    with tempfile.TemporaryDirectory(prefix="aligntune-launch-") as tmp:
        target = Path(folder) if folder is not None else Path(tmp)
        config_file = write_launch_files(dist, target, cuda)
        cmd = accelerate_command(config_file, args, dist, cuda)
        logger.info("launching %d process(es) on %d node(s): %s", dist.world_size, dist.nodes, " ".join(cmd))
        if dry_run:
            _show(config_file.read_text(encoding="utf-8"))
            if (target / "deepspeed.json").exists():
                _show((target / "deepspeed.json").read_text(encoding="utf-8"))
            _show(" ".join(cmd))
            return 0
        return _stream(cmd, run_env)


def _show(text: str) -> None:
    """Dry-run output: what would run, on standard output (the point of a dry run)."""
    sys.stdout.write(text.rstrip("\n") + "\n")


def _stream(cmd: list[str], env: dict[str, str]) -> int:
    """Run ``cmd``, its output passed through line by line; its exit code (130 on Ctrl-C)."""
    process = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1)
    try:
        assert process.stdout is not None
        for line in process.stdout:
            sys.stdout.write(line)
            sys.stdout.flush()
        return process.wait()
    except KeyboardInterrupt:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
        return 130
