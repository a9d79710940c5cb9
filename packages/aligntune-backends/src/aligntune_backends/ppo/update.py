"""One PPO step on a rollout, top to bottom: old log-probabilities, reference log-probabilities and
values; per-token rewards (−β·KL_t, the score at the last response token); GAE; then
``num_ppo_epochs`` passes of clipped policy and value updates over minibatches.

All maths come from the registered PPO algorithm (``ALGORITHMS.get("ppo").math()``)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

import torch

from .models import Reference, ValueModel, forward_logits, token_logprobs
from .rollout import Rollout

logger = logging.getLogger("aligntune.backends.ppo")


@dataclass
class Scored:
    """A rollout with everything the update needs, computed once before it."""

    logps: torch.Tensor  # [B, T] log π_old(a_t)
    ref_logps: torch.Tensor  # [B, T]
    values: torch.Tensor  # [B, T] V_old
    kl: torch.Tensor  # [B, T] per-token KL estimate (masked)
    rewards: torch.Tensor  # [B, T] per-token rewards
    advantages: torch.Tensor  # [B, T]
    returns: torch.Tensor  # [B, T]
    kl_coef: float


@dataclass
class Running:
    """Sums of minibatch statistics, averaged at the end of a step."""

    sums: dict[str, float] = field(default_factory=dict)
    count: int = 0

    def add(self, **stats: torch.Tensor) -> None:
        for key, value in stats.items():
            self.sums[key] = self.sums.get(key, 0.0) + float(value.detach())
        self.count += 1

    def means(self) -> dict[str, float]:
        return {k: v / max(self.count, 1) for k, v in self.sums.items()}


class PPOUpdate:
    """The PPO maths around a policy, its reference, a value model and one optimizer."""

    def __init__(self, math: ModuleType, train: Any, policy: Any, reference: Reference, value_model: ValueModel,
                 optimizer: torch.optim.Optimizer, params: list[torch.nn.Parameter], generator: torch.Generator,
                 scheduler: Any = None):
        self.math = math
        self.train = train
        self.policy = policy
        self.reference = reference
        self.value_model = value_model
        self.optimizer = optimizer
        self.params = params
        self.generator = generator
        self.scheduler = scheduler

    @torch.no_grad()
    def score(self, roll: Rollout, kl_coef: float) -> Scored:
        """Old and reference log-probabilities, values, per-token rewards and advantages of a rollout."""
        m, t = self.math, self.train
        args = (roll.query_response, roll.attention_mask, roll.context_length, t.temperature)
        logps = token_logprobs(forward_logits(self.policy, *args), roll.responses)
        with self.reference.model() as ref:
            ref_logps = token_logprobs(forward_logits(ref, *args), roll.responses)
        values = self.value_model(roll.query_response, roll.attention_mask, roll.context_length)
        mask = roll.response_mask
        kl = m.kl_estimate(logps, ref_logps, t.kl_estimator) * mask
        rewards = -kl_coef * kl
        last = (mask.sum(dim=1).long() - 1).clamp(min=0)
        rows = torch.arange(rewards.size(0), device=rewards.device)
        rewards[rows, last] += roll.scores.to(rewards.dtype)
        if t.whiten_rewards:
            rewards = m.whiten(rewards, mask, shift_mean=False)
        advantages, returns = m.gae(rewards, values, mask, t.gamma, t.lam)
        if t.whiten_advantages:
            advantages = m.whiten(advantages, mask)
        return Scored(logps, ref_logps, values, kl, rewards, advantages, returns, kl_coef)

    def minibatch_loss(self, roll: Rollout, s: Scored, idx: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """The PPO loss of the rows ``idx`` and their statistics."""
        m, t = self.math, self.train
        qr, am, ctx = roll.query_response[idx], roll.attention_mask[idx], roll.context_length
        mask = roll.response_mask[idx]
        logits = forward_logits(self.policy, qr, am, ctx, t.temperature)
        logps = token_logprobs(logits, roll.responses[idx])
        values = self.value_model(qr, am, ctx)
        pg_loss, pg_clip = m.policy_loss(logps, s.logps[idx], s.advantages[idx], mask, t.cliprange)
        vf_loss, vf_clip = m.value_loss(values, s.values[idx], s.returns[idx], mask, t.cliprange_value)
        entropy = m.masked_mean(m.entropy_from_logits(logits), mask)
        loss = pg_loss + t.vf_coef * vf_loss - t.ent_coef * entropy
        approx_kl = 0.5 * m.masked_mean((logps - s.logps[idx]) ** 2, mask)
        stats = {"policy_loss": pg_loss, "value_loss": vf_loss, "policy_clipfrac": pg_clip,
                 "value_clipfrac": vf_clip, "entropy": entropy, "approx_kl": approx_kl, "loss": loss}
        return loss, stats

    def optimize(self, roll: Rollout, s: Scored) -> dict[str, float]:
        """``num_ppo_epochs`` shuffled passes over minibatches of ``per_device_batch_size`` rows, an optimizer
        step (and a learning-rate scheduler step) every ``gradient_accumulation_steps`` minibatches (and at
        the end of a pass)."""
        t = self.train
        size = roll.responses.size(0)
        mb, accum = t.per_device_batch_size, t.gradient_accumulation_steps
        starts = list(range(0, size, mb))
        running = Running()
        grad_norms = []
        for _ in range(t.num_ppo_epochs or 4):
            order = torch.randperm(size, generator=self.generator).to(roll.responses.device)
            for group in range(0, len(starts), accum):
                chunk = starts[group:group + accum]
                for start in chunk:
                    loss, stats = self.minibatch_loss(roll, s, order[start:start + mb])
                    (loss / len(chunk)).backward()
                    running.add(**stats)
                norm = torch.nn.utils.clip_grad_norm_(self.params, t.max_grad_norm)
                grad_norms.append(float(norm))
                self.optimizer.step()
                if self.scheduler is not None:
                    self.scheduler.step()
                self.optimizer.zero_grad(set_to_none=True)
        out = running.means()
        out["grad_norm"] = sum(grad_norms) / max(len(grad_norms), 1)
        return out

    def step(self, roll: Rollout, kl_coef: float) -> dict[str, float]:
        """Score a rollout, update the policy and value model; the step's metrics."""
        s = self.score(roll, kl_coef)
        stats = self.optimize(roll, s)
        m = self.math
        mask = roll.response_mask
        seq_kl = s.kl.sum(dim=1)
        scores = roll.scores.float()
        metrics = {
            "reward_mean": float(scores.mean()),
            "reward_std": float(scores.std(unbiased=False)) if scores.numel() > 1 else 0.0,
            "rlhf_reward": float((scores - kl_coef * seq_kl).mean()),
            "kl": float(seq_kl.mean()),
            "kl_per_token": float(m.masked_mean(s.kl, mask)),
            "kl_coef": kl_coef,
            "explained_variance": float(m.explained_variance(s.values, s.returns, mask)),
            "response_length": float(mask.sum(dim=1).mean()),
            "eos_fraction": float(roll.ended.float().mean()),
            "value_mean": float(m.masked_mean(s.values, mask)),
            "advantage_mean": float(m.masked_mean(s.advantages, mask)),
        }
        metrics.update(stats)
        return metrics
