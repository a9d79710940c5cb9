"""DistributedConfig: how many processes and which parallelism (launched through accelerate)."""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import Field, model_validator

from ._base import StrictModel
from .errors import ConfigIssue, cross_field_error
from .enums import DistributedBackend


class DistributedConfig(StrictModel):
    """Parallelism of a run. ``backend`` is the distribution strategy (the spec's BackendType.SINGLE,
    DDP, FSDP, DEEPSPEED); the execution engine (TRL, Unsloth) is ``UnifiedConfig.backend``."""

    _aliases: ClassVar[dict[str, str]] = {"strategy": "backend", "num_nodes": "nodes", "zero_stage": "deepspeed_stage"}

    backend: DistributedBackend = Field(DistributedBackend.SINGLE, description="single, ddp, fsdp or deepspeed.")
    num_processes: int | None = Field(
        None, gt=0, description="Processes in total. Default: nodes x gpus_per_node (1 for single)."
    )
    nodes: int = Field(1, gt=0, description="Machines taking part.")
    gpus_per_node: int | None = Field(None, gt=0, description="Processes per machine (one per GPU).")
    node_rank: int = Field(0, ge=0, description="Rank of this machine (multi-node).")
    master_addr: str = Field("localhost", min_length=1, description="Address of the rank-0 machine.")
    master_port: int = Field(29500, gt=0, lt=65536, description="Port of the rank-0 machine.")
    seed: int | None = Field(None, ge=0, description="Same as train.seed (set one of them).")
    deepspeed_stage: int | None = Field(None, ge=0, le=3, description="ZeRO stage for backend deepspeed (default 2).")
    deepspeed_config: dict[str, Any] = Field(
        default_factory=dict, description="DeepSpeed JSON config (merged over the generated ZeRO config)."
    )
    fsdp_config: dict[str, Any] = Field(default_factory=dict, description="FSDP options passed to accelerate.")

    @model_validator(mode="after")
    def _consistent(self) -> "DistributedConfig":
        problems: list[ConfigIssue] = []
        if self.backend is DistributedBackend.SINGLE:
            if (self.num_processes or 1) > 1 or self.nodes > 1:
                problems.append(ConfigIssue("backend", "single runs one process; use ddp, fsdp or deepspeed for more"))
        if self.node_rank >= self.nodes:
            problems.append(ConfigIssue("node_rank", f"must be < nodes ({self.nodes}), got {self.node_rank}"))
        if self.num_processes is not None and self.gpus_per_node is not None:
            if self.num_processes != self.nodes * self.gpus_per_node:
                problems.append(ConfigIssue(
                    "num_processes", f"must equal nodes x gpus_per_node ({self.nodes} x {self.gpus_per_node}), "
                    f"got {self.num_processes}"))
        if self.num_processes is not None and self.num_processes < self.nodes:
            problems.append(ConfigIssue("num_processes", f"must be >= nodes ({self.nodes}), got {self.num_processes}"))
        if self.deepspeed_stage is not None and self.backend is not DistributedBackend.DEEPSPEED:
            problems.append(ConfigIssue("deepspeed_stage", "only applies to backend deepspeed"))
        if self.deepspeed_config and self.backend is not DistributedBackend.DEEPSPEED:
            problems.append(ConfigIssue("deepspeed_config", "only applies to backend deepspeed"))
        if self.fsdp_config and self.backend is not DistributedBackend.FSDP:
            problems.append(ConfigIssue("fsdp_config", "only applies to backend fsdp"))
        if problems:
            raise cross_field_error(problems)
        return self

    @property
    def world_size(self) -> int:
        if self.num_processes is not None:
            return self.num_processes
        return self.nodes * (self.gpus_per_node or 1)
