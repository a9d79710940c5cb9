"""Cost of NM-GRPO's Bregman penalty over plain GRPO's per-token loss (maths only: no model).

    uv run --frozen python bench/nmgrpo_overhead.py [--tokens 16384] [--units 4 16 64] [--device cpu|cuda]

Times forward + backward of the per-token loss on ``tokens`` random log-probabilities for GRPO (clipped
surrogate + k3 KL) and NM-GRPO (clipped surrogate + λ·D_h) with 6 x ``units`` mirror units, and one Meta-ES
iteration's update on a φ of that size (fitness excluded). Prints one JSON line per setting.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import torch
from aligntune_algos import grpo_math as G
from aligntune_algos import mirror as M
from aligntune_algos.meta_es import centered_ranks


def _time(fn, device: str, repeats: int) -> float:
    fn()
    if device == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(repeats):
        fn()
    if device == "cuda":
        torch.cuda.synchronize()
    return (time.perf_counter() - start) / repeats


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=16384)
    parser.add_argument("--units", type=int, nargs="+", default=[4, 16, 64])
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()
    gen = torch.Generator().manual_seed(0)
    shape = (args.tokens // 512 or 1, min(512, args.tokens))
    logps = (-torch.rand(shape, generator=gen) * 5).to(args.device).requires_grad_(True)
    ref = (logps.detach() + 0.1 * torch.randn(shape, generator=gen).to(args.device))
    old = logps.detach()
    adv = torch.randn(shape[0], generator=gen).to(args.device)
    mask = torch.ones(shape, device=args.device)

    def grpo() -> None:
        ratio = G.token_ratio(logps, old)
        loss = G.clipped_objective(ratio, adv, 0.2, 0.2) + 0.04 * G.k3_kl(logps, ref)
        G.aggregate(loss, mask, "grpo").backward()

    base = _time(grpo, args.device, args.repeats)
    print(json.dumps({"setting": "grpo", "device": args.device, "tokens": logps.numel(), "ms": round(base * 1e3, 3)}))
    for units in args.units:
        mirror = M.MirrorMap.random(units, 0.01, seed=0)

        def nmgrpo(mirror: M.MirrorMap = mirror) -> None:
            ratio = G.token_ratio(logps, old)
            loss = M.nm_grpo_per_token_loss(ratio, adv, logps, ref, mirror, 1e-4)
            G.aggregate(loss, mask, "grpo").backward()

        t = _time(nmgrpo, args.device, args.repeats)
        dim = M.phi_size(units)
        rng = np.random.default_rng(0)
        phi = rng.normal(size=dim)

        def es_update(phi: np.ndarray = phi, rng: np.random.Generator = rng, dim: int = dim) -> None:
            eps = rng.standard_normal((5, dim))
            signed = np.repeat(eps, 2, axis=0) * np.tile([1.0, -1.0], 5)[:, None]
            _ = phi + 0.01 * centered_ranks(rng.normal(size=10)) @ signed / (10 * 0.01)

        es = _time(es_update, "cpu", args.repeats)
        print(json.dumps({"setting": f"nmgrpo units={units}", "device": args.device, "tokens": logps.numel(),
                          "phi_dim": dim, "ms": round(t * 1e3, 3), "overhead_x": round(t / base, 2),
                          "es_update_ms": round(es * 1e3, 4)}))


if __name__ == "__main__":
    main()
