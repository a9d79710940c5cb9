"""The maths of the GRPO family (GRPO, Dr. GRPO, DAPO, GSPO), as pure torch functions.

Shapes: rewards ``[B]`` with ``B = n_prompts x G`` ordered group by group; per-token tensors ``[B, T]``
with a 0/1 completion mask.
"""

from __future__ import annotations

from typing import Literal

import torch

ScaleRewards = Literal["group", "batch", "none"]
Aggregation = Literal["grpo", "bnpo", "dapo", "dr_grpo"]


def group_advantages(rewards: torch.Tensor, group_size: int, scale: ScaleRewards = "group",
                     eps: float = 1e-4) -> torch.Tensor:
    """A_i = r_i - mean(group), divided by the group's std (GRPO), the batch's std, or nothing (Dr. GRPO).
    The std is the unbiased sample std, as in the GRPO paper's reference code."""
    if rewards.numel() % group_size:
        raise ValueError(f"{rewards.numel()} rewards do not split into groups of {group_size}")
    grouped = rewards.view(-1, group_size)
    centred = grouped - grouped.mean(dim=1, keepdim=True)
    if scale == "group":
        centred = centred / (grouped.std(dim=1, keepdim=True) + eps)
    elif scale == "batch":
        centred = centred / (rewards.std() + eps)
    elif scale != "none":
        raise ValueError(f"scale must be group, batch or none, got {scale!r}")
    return centred.reshape(-1)


def informative_groups(rewards: torch.Tensor, group_size: int) -> torch.Tensor:
    """DAPO dynamic sampling: a boolean per group, False when every reward of the group is equal (its
    advantages are all zero, so it carries no gradient)."""
    grouped = rewards.view(-1, group_size)
    return (grouped.max(dim=1).values - grouped.min(dim=1).values) > 0


def soft_overlong_penalty(lengths: torch.Tensor, max_length: int, buffer_length: int,
                          penalty_factor: float = 1.0) -> torch.Tensor:
    """DAPO soft overlong punishment: 0 up to ``max_length - buffer_length``, then falling linearly to
    ``-penalty_factor`` at ``max_length``, and ``-penalty_factor`` beyond."""
    expected = max_length - buffer_length
    lengths = lengths.to(torch.float32)
    ramp = (expected - lengths) / buffer_length * penalty_factor
    out = torch.where(lengths <= expected, torch.zeros_like(lengths), ramp)
    return torch.where(lengths > max_length, torch.full_like(lengths, -penalty_factor), out)


def token_ratio(logps: torch.Tensor, old_logps: torch.Tensor) -> torch.Tensor:
    """Per-token importance ratio π_θ / π_old (GRPO, DAPO, Dr. GRPO)."""
    return torch.exp(logps - old_logps)


def sequence_ratio(logps: torch.Tensor, old_logps: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """GSPO's length-normalised sequence ratio s_i = exp(mean_t(log π_θ - log π_old)), broadcast to tokens
    with the gradient of each token's own log-probability (s_i · π_θ,t / sg[π_θ,t]), as in the paper's
    GSPO-token form: every token of a sequence gets the same ratio value."""
    log_ratio = (logps - old_logps) * mask
    seq_log_ratio = log_ratio.sum(dim=1) / mask.sum(dim=1).clamp(min=1)
    return torch.exp(seq_log_ratio.detach().unsqueeze(1) + logps - logps.detach())


def clipped_objective(ratio: torch.Tensor, advantages: torch.Tensor, eps_low: float, eps_high: float) -> torch.Tensor:
    """Per-token loss -min(ρ·A, clip(ρ, 1-ε_low, 1+ε_high)·A); advantages ``[B]`` broadcast over tokens."""
    adv = advantages.unsqueeze(1) if advantages.dim() == 1 else advantages
    unclipped = ratio * adv
    clipped = torch.clamp(ratio, 1 - eps_low, 1 + eps_high) * adv
    return -torch.minimum(unclipped, clipped)


def k3_kl(logps: torch.Tensor, ref_logps: torch.Tensor) -> torch.Tensor:
    """The unbiased, non-negative per-token KL estimator of the GRPO paper: π_ref/π_θ - log(π_ref/π_θ) - 1."""
    delta = ref_logps - logps
    return torch.exp(delta) - delta - 1


def aggregate(per_token: torch.Tensor, mask: torch.Tensor, mode: Aggregation,
              max_completion_length: int | None = None) -> torch.Tensor:
    """Reduce per-token losses to the batch loss.

    - ``grpo``: mean over each sequence's tokens, then over sequences (length-normalised per sequence).
    - ``bnpo`` / ``dapo``: sum over every token of the batch divided by the number of tokens (token-level).
    - ``dr_grpo``: sum over every token divided by ``B x max_completion_length`` (a constant: no length
      normalisation).
    """
    mask = mask.to(per_token.dtype)
    if mode == "grpo":
        return ((per_token * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1)).mean()
    if mode in ("bnpo", "dapo"):
        return (per_token * mask).sum() / mask.sum().clamp(min=1)
    if mode == "dr_grpo":
        if max_completion_length is None:
            raise ValueError("dr_grpo aggregation needs max_completion_length")
        return (per_token * mask).sum() / (per_token.size(0) * max_completion_length)
    raise ValueError(f"unknown aggregation {mode!r}; valid: grpo, bnpo, dapo, dr_grpo")
