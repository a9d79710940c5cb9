"""Neural-Mirror GRPO (``mirror:``) and Meta-ES (``meta_es:``) parameters."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from ._base import StrictModel
from .errors import ConfigIssue, cross_field_error


class NeuralMirrorConfig(StrictModel):
    """The learned mirror map h_φ of NM-GRPO (see docs/algorithms.md)."""

    mirror_coefficient: float = Field(1e-4, ge=0, description="λ: weight of the Bregman divergence D_h(π_θ, π_ref).")
    init_scale: float = Field(0.01, gt=0, description="Scale of the random initial φ.")
    units_per_group: int = Field(4, gt=0, description="Units per activation group (x³, x², √x, ∛x, log, exp).")
    mirror_seed: int = Field(0, ge=0, description="Seed of the initial φ.")
    phi_path: str | None = Field(None, description="JSON file with a φ to use (e.g. Meta-ES's best).")


class MetaESConfig(StrictModel):
    """Meta-ES: antithetic evolution strategies over the mirror-map parameters φ."""

    meta_iterations: int = Field(15, gt=0, description="Outer ES iterations.")
    patience: int = Field(5, gt=0, description="Stop after this many iterations without improvement.")
    min_delta: float = Field(0.001, ge=0, description="Smallest improvement of the best fitness that counts.")
    N: int = Field(10, gt=0, description="Population size per iteration (even: ± pairs).")
    T: int = Field(100, gt=0, description="NM-GRPO steps each candidate trains.")
    sigma: float = Field(0.01, gt=0, description="Initial perturbation scale σ₀.")
    sigma_decay: float = Field(0.99, gt=0, le=1, description="σ_t = sigma x sigma_decay^t.")
    alpha: float = Field(0.01, gt=0, description="ES step size α.")
    debug_mode: bool = Field(False, description="Debug logging of every candidate.")
    fitness: Literal["mean_reward", "pass_at_k"] = Field("mean_reward", description="Fitness on the held-out split.")
    eval_split: str = Field("test", min_length=1, description="Held-out split scored for fitness.")
    eval_samples: int = Field(32, gt=0, description="Held-out prompts per fitness evaluation.")
    eval_timeout: int = Field(5, gt=0, description="Seconds allowed per code execution in fitness.")
    eval_max_tokens: int = Field(512, gt=0, description="Tokens generated per fitness prompt.")
    eval_k: int = Field(1, gt=0, description="k of pass@k (samples per prompt).")
    eval_temperature: float = Field(0.8, ge=0, description="Sampling temperature of fitness generations.")
    num_workers: int = Field(1, gt=0, description="Candidates trained in parallel processes.")
    ray_address: str | None = Field(None, description="Ray cluster address; candidates run as Ray tasks when set.")
    no_wandb: bool = Field(False, description="Disable W&B for Meta-ES.")
    wandb_project: str = Field("neural-mirror-es", min_length=1, description="W&B project of Meta-ES.")
    resume: str | None = Field(None, description="Meta-ES state JSON to resume from.")

    @model_validator(mode="after")
    def _even(self) -> "MetaESConfig":
        if self.N % 2:
            raise cross_field_error([ConfigIssue("N", f"must be even (candidates come in ± pairs), got {self.N}")])
        return self
