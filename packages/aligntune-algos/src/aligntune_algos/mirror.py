"""Neural-Mirror GRPO: a learned convex mirror map h_φ over token probabilities and its Bregman divergence.

    h_φ(y) = Σ_j v_j·H_j(w_j·y + b_j) + (a/2)·y² + c·(y·log y − y),        y ∈ (0, 1]

H_j is the antiderivative of a non-decreasing activation σ_j; the units come in six groups (in this order):

=======  ==========================  ===================================================
group    σ(x)                        H(x) = ∫₀ˣ σ
=======  ==========================  ===================================================
cube     x³                          x⁴/4
square   x·|x|  (odd extension)      |x|³/3
sqrt     sign(x)·√|x|                (2/3)·|x|^{3/2}
cbrt     ∛x = sign(x)·|x|^{1/3}      (3/4)·|x|^{4/3}
log      log(relu(x) + ε), ε=1e-3    (u+ε)log(u+ε) − u − ε·log ε + (x−u)·log ε, u = relu(x)
exp      exp(min(x, 20))             eˣ below 20, continued linearly above (no overflow)
=======  ==========================  ===================================================

Every σ_j is non-decreasing on all of ℝ, so every H_j is convex, and H_j(w·y + b) is convex in y for any
real w, b. With v = softplus(v_raw), a = softplus(a_raw), c = softplus(c_raw) ≥ 0, h is convex
(h'' = Σ v_j w_j² σ_j'(·) + a + c/y ≥ 0) and D_h ≥ 0.

φ (the raw parameters, what Meta-ES perturbs) is the flat vector
``[v_raw (6·U), w (6·U), b (6·U), a_raw, c_raw]`` with units ordered group by group (U = units per group).

This module is NM-GRPO's ``math_module`` (the AlgorithmSpec engines load): it re-exports GRPO's maths
(advantages, ratios, clipping, aggregation, dynamic sampling, overlong shaping) and adds the mirror map.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch
import torch.nn.functional as F

from . import grpo_math
from .grpo_math import (
    aggregate,
    clipped_objective,
    group_advantages,
    informative_groups,
    k3_kl,
    sequence_ratio,
    soft_overlong_penalty,
    token_ratio,
)
from .meta_es import atomic_write_text

if TYPE_CHECKING:
    from aligntune_config.meta_es import NeuralMirrorConfig

LOG_EPS = 1e-3
EXP_CAP = 20.0
_LOG_LOG_EPS = math.log(LOG_EPS)
_EPS_LOG_EPS = LOG_EPS * _LOG_LOG_EPS
_EXP_CAP_VALUE = math.exp(EXP_CAP)
PHI_FORMAT = "aligntune.neural_mirror.phi/1"

Fn = Callable[[torch.Tensor], torch.Tensor]


def _log_h(x: torch.Tensor) -> torch.Tensor:
    u = torch.relu(x)
    return (u + LOG_EPS) * torch.log(u + LOG_EPS) - u - _EPS_LOG_EPS + (x - u) * _LOG_LOG_EPS


def _exp_h(x: torch.Tensor) -> torch.Tensor:
    return torch.exp(torch.clamp(x, max=EXP_CAP)) + _EXP_CAP_VALUE * torch.relu(x - EXP_CAP)


#: name -> (H, σ = H'). One call of each per evaluation, on all of the group's units at once.
GROUPS: dict[str, tuple[Fn, Fn]] = {
    "cube": (lambda x: x.pow(4) / 4, lambda x: x.pow(3)),
    "square": (lambda x: x.abs().pow(3) / 3, lambda x: x * x.abs()),
    "sqrt": (lambda x: x.abs().pow(1.5) * (2 / 3), lambda x: torch.sign(x) * x.abs().sqrt()),
    "cbrt": (lambda x: x.abs().pow(4 / 3) * 0.75, lambda x: torch.sign(x) * x.abs().pow(1 / 3)),
    "log": (_log_h, lambda x: torch.log(torch.relu(x) + LOG_EPS)),
    "exp": (_exp_h, lambda x: torch.exp(torch.clamp(x, max=EXP_CAP))),
}
GROUP_NAMES: tuple[str, ...] = tuple(GROUPS)


def phi_size(units_per_group: int) -> int:
    """Length of the flat φ vector for ``units_per_group`` units in each of the six groups."""
    return 3 * len(GROUPS) * units_per_group + 2


def inverse_softplus(x: np.ndarray | float) -> np.ndarray:
    """softplus⁻¹(x) = x + log(−expm1(−x)) for x > 0 (the raw value that softplus maps to x)."""
    x = np.asarray(x, dtype=np.float64)
    if np.any(x <= 0):
        raise ValueError("inverse_softplus needs x > 0")
    return x + np.log(-np.expm1(-x))


class MirrorMap:
    """The mirror map h_φ. Holds φ (raw, float64); evaluates in float32, or float64 for float64 inputs.

    φ is a fixed parameter during NM-GRPO training (Meta-ES searches it), so this is not an ``nn.Module``;
    inputs may require grad and every output is differentiable w.r.t. them.
    """

    def __init__(self, phi: np.ndarray | torch.Tensor | Sequence[float], units_per_group: int):
        vec = torch.as_tensor(np.asarray(phi, dtype=np.float64)).reshape(-1)
        if units_per_group <= 0:
            raise ValueError(f"units_per_group must be > 0, got {units_per_group}")
        if vec.numel() != phi_size(units_per_group):
            raise ValueError(f"φ has {vec.numel()} values; {units_per_group} units per group need "
                             f"{phi_size(units_per_group)}")
        if not torch.isfinite(vec).all():
            raise ValueError("φ has non-finite values")
        self.units_per_group = units_per_group
        self._phi = vec
        self._cache: dict[tuple[torch.dtype, torch.device], tuple[torch.Tensor, ...]] = {}

    # -- construction -----------------------------------------------------------------------------------
    @classmethod
    def from_vector(cls, phi: np.ndarray | torch.Tensor | Sequence[float], units_per_group: int) -> MirrorMap:
        """The map of a flat raw φ (as produced by ``to_vector`` or Meta-ES)."""
        return cls(phi, units_per_group)

    @classmethod
    def random(cls, units_per_group: int, init_scale: float, seed: int) -> MirrorMap:
        """Raw φ drawn i.i.d. from N(0, init_scale²) with ``numpy.random.default_rng(seed)``."""
        rng = np.random.default_rng(seed)
        return cls(rng.normal(0.0, init_scale, size=phi_size(units_per_group)), units_per_group)

    @classmethod
    def from_config(cls, config: NeuralMirrorConfig) -> MirrorMap:
        """φ from ``config.phi_path`` when set, else random (``init_scale``, ``mirror_seed``)."""
        if config.phi_path:
            mirror = cls.load(config.phi_path)
            if mirror.units_per_group != config.units_per_group:
                raise ValueError(f"{config.phi_path} has {mirror.units_per_group} units per group, the config "
                                 f"says {config.units_per_group}")
            return mirror
        return cls.random(config.units_per_group, config.init_scale, config.mirror_seed)

    @classmethod
    def from_constrained(cls, v: np.ndarray | float, w: np.ndarray | float, b: np.ndarray | float,
                         a: float, c: float, units_per_group: int) -> MirrorMap:
        """The map with the given constrained values (v, a, c ≥ 0; a zero becomes softplus(−80) ≈ 2e-35).
        Scalars broadcast to every unit."""
        n = len(GROUPS) * units_per_group
        floor = float(np.log1p(np.exp(-80.0)))

        def raw(x: np.ndarray | float) -> np.ndarray:
            x = np.broadcast_to(np.asarray(x, dtype=np.float64), (n,))
            if np.any(x < 0):
                raise ValueError("v, a and c must be >= 0")
            return inverse_softplus(np.maximum(x, floor))

        parts = [raw(v), np.broadcast_to(np.asarray(w, dtype=np.float64), (n,)),
                 np.broadcast_to(np.asarray(b, dtype=np.float64), (n,)), raw(a)[:1], raw(c)[:1]]
        return cls(np.concatenate(parts), units_per_group)

    def to_vector(self) -> np.ndarray:
        """The raw φ as a float64 numpy vector (a copy)."""
        return self._phi.numpy().copy()

    # -- JSON -------------------------------------------------------------------------------------------
    def save(self, path: str | os.PathLike) -> None:
        """Write φ as JSON (atomically)."""
        payload = {"format": PHI_FORMAT, "units_per_group": self.units_per_group, "groups": list(GROUP_NAMES),
                   "phi": self.to_vector().tolist()}
        atomic_write_text(path, json.dumps(payload))

    @classmethod
    def load(cls, path: str | os.PathLike) -> MirrorMap:
        """Read φ written by ``save`` (or a Meta-ES state file, whose ``best_phi`` is used)."""
        payload = json.loads(Path(path).read_text(encoding="utf-8"))
        if payload.get("format") == PHI_FORMAT:
            if list(payload.get("groups", GROUP_NAMES)) != list(GROUP_NAMES):
                raise ValueError(f"{path}: groups {payload['groups']} differ from {list(GROUP_NAMES)}")
            return cls(payload["phi"], int(payload["units_per_group"]))
        if "best_phi" in payload and "units_per_group" in payload:
            return cls(payload["best_phi"], int(payload["units_per_group"]))
        raise ValueError(f"{path} is not a mirror-map φ file (format {PHI_FORMAT!r})")

    # -- parameters -------------------------------------------------------------------------------------
    def constrained(self) -> dict[str, np.ndarray | float]:
        """v, w, b (shape ``[6, U]``), a and c, after the softplus constraints."""
        v, w, b, a, c = self._params(torch.float64, torch.device("cpu"))
        return {"v": v.numpy().copy(), "w": w.numpy().copy(), "b": b.numpy().copy(), "a": float(a), "c": float(c)}

    def _params(self, dtype: torch.dtype, device: torch.device) -> tuple[torch.Tensor, ...]:
        key = (dtype, device)
        if key not in self._cache:
            n = len(GROUPS) * self.units_per_group
            phi = self._phi.to(device=device)
            shape = (len(GROUPS), self.units_per_group)
            v = F.softplus(phi[:n]).view(shape)
            w = phi[n:2 * n].view(shape)
            b = phi[2 * n:3 * n].view(shape)
            a, c = F.softplus(phi[3 * n]), F.softplus(phi[3 * n + 1])
            self._cache[key] = tuple(t.to(dtype) for t in (v, w, b, a, c))
        return self._cache[key]

    @staticmethod
    def _dtype(y: torch.Tensor) -> torch.dtype:
        return torch.float64 if y.dtype == torch.float64 else torch.float32

    def _units(self, y: torch.Tensor) -> tuple[torch.Tensor, tuple[torch.Tensor, ...]]:
        """x = w·y + b for every unit: shape ``[..., 6, U]``."""
        params = self._params(self._dtype(y), y.device)
        y = y.to(self._dtype(y))
        return y[..., None, None] * params[1] + params[2], params

    # -- the map ----------------------------------------------------------------------------------------
    def h(self, y: torch.Tensor) -> torch.Tensor:
        """h_φ(y), elementwise."""
        x, (v, _, _, a, c) = self._units(y)
        hx = torch.stack([fns[0](x[..., g, :]) for g, fns in enumerate(GROUPS.values())], dim=-2)
        y = y.to(x.dtype)
        return (v * hx).sum(dim=(-2, -1)) + 0.5 * a * y * y + c * (torch.xlogy(y, y) - y)

    def h_prime(self, y: torch.Tensor) -> torch.Tensor:
        """h_φ'(y) = Σ v_j w_j σ_j(w_j y + b_j) + a·y + c·log y, elementwise."""
        x, (v, w, _, a, c) = self._units(y)
        sx = torch.stack([fns[1](x[..., g, :]) for g, fns in enumerate(GROUPS.values())], dim=-2)
        y = y.to(x.dtype)
        return (v * w * sx).sum(dim=(-2, -1)) + a * y + c * torch.log(y)

    def bregman(self, y: torch.Tensor, y0: torch.Tensor) -> torch.Tensor:
        """D_h(y‖y₀) = h(y) − h(y₀) − h'(y₀)(y − y₀), elementwise, differentiable w.r.t. y.

        Computed term by term, each a Bregman divergence of a convex function and so ≥ 0; each unit's term
        is clamped at 0 to remove rounding error; the entropy term is c·y·(e^δ − 1 − δ), δ = log y₀ − log y.
        """
        tiny = torch.finfo(self._dtype(y)).tiny
        y, y0 = torch.broadcast_tensors(y.to(self._dtype(y)), y0.to(self._dtype(y)))
        y, y0 = y.clamp_min(tiny), y0.clamp_min(tiny)
        return self._bregman(y, y0, torch.log(y0) - torch.log(y))

    def bregman_from_logps(self, logps: torch.Tensor, ref_logps: torch.Tensor) -> torch.Tensor:
        """D_h(π_θ‖π_ref) per token from log-probabilities (y = exp(logps), y₀ = exp(ref_logps))."""
        dtype = self._dtype(logps)
        logps, ref_logps = logps.to(dtype), ref_logps.to(dtype)
        return self._bregman(torch.exp(logps), torch.exp(ref_logps), ref_logps - logps)

    def _bregman(self, y: torch.Tensor, y0: torch.Tensor, delta: torch.Tensor) -> torch.Tensor:
        x, (v, _, _, a, c) = self._units(y)
        x0, _ = self._units(y0)
        terms = []
        for g, (big_h, sigma) in enumerate(GROUPS.values()):
            xg, x0g = x[..., g, :], x0[..., g, :]
            terms.append(big_h(xg) - big_h(x0g) - sigma(x0g) * (xg - x0g))
        units = torch.stack(terms, dim=-2).clamp_min(0.0)
        # c·(y·log(y/y₀) − y + y₀) = c·y·(e^δ − 1 − δ): the expm1 form near δ = 0 (no cancellation), the
        # equivalent y₀ − y − y·δ elsewhere (no overflow of e^δ); both branches finite, so where() is safe.
        small = delta.clamp(-1.0, 1.0)
        entropy = torch.where(delta.abs() <= 1.0, y * (torch.expm1(small) - small), y0 - y - y * delta)
        return (v * units).sum(dim=(-2, -1)) + 0.5 * a * (y - y0) ** 2 + c * entropy.clamp_min(0.0)

    def __repr__(self) -> str:
        return f"MirrorMap(units_per_group={self.units_per_group}, |φ|={self._phi.numel()})"


def nm_grpo_per_token_loss(ratio: torch.Tensor, advantages: torch.Tensor, logps: torch.Tensor,
                           ref_logps: torch.Tensor, mirror: MirrorMap, mirror_coefficient: float,
                           eps_low: float = 0.2, eps_high: float = 0.2) -> torch.Tensor:
    """NM-GRPO per-token loss: GRPO's clipped surrogate + λ·D_h(π_θ, π_ref) (reduce with
    ``grpo_math.aggregate``)."""
    loss = grpo_math.clipped_objective(ratio, advantages, eps_low, eps_high)
    if mirror_coefficient:
        loss = loss + mirror_coefficient * mirror.bregman_from_logps(logps, ref_logps).to(loss.dtype)
    return loss


def mirror_penalty(logps: torch.Tensor, ref_logps: torch.Tensor, mirror: MirrorMap,
                   mirror_coefficient: float) -> tuple[torch.Tensor, torch.Tensor]:
    """(λ·D_h per token, D_h per token detached): the term NM-GRPO adds to GRPO's per-token loss.

    Every aggregation of the GRPO family is linear in the per-token loss, so an engine that already has
    GRPO's reduced loss adds the same reduction of this term (it equals reducing
    ``nm_grpo_per_token_loss``)."""
    divergence = mirror.bregman_from_logps(logps, ref_logps)
    return mirror_coefficient * divergence, divergence.detach()


__all__ = ["GROUPS", "GROUP_NAMES", "MirrorMap", "aggregate", "clipped_objective", "group_advantages",
           "informative_groups", "inverse_softplus", "k3_kl", "mirror_penalty", "nm_grpo_per_token_loss", "phi_size",
           "sequence_ratio", "soft_overlong_penalty", "token_ratio"]
