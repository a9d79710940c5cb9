"""The NM-GRPO mirror map: convexity, Bregman divergence properties, the KL special case, vectorisation."""

import json
import time

import numpy as np
import pytest
import torch
from aligntune_algos import grpo_math as G
from aligntune_algos import mirror as M
from aligntune_config.meta_es import NeuralMirrorConfig


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    """Small tensors: intra-op threading only adds wake-up latency (≈15 ms a kernel on small VMs)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _random_maps(count=40):
    rng = np.random.default_rng(123)
    for k in range(count):
        units = int(rng.integers(1, 9))
        scale = float(10 ** rng.uniform(-3, 0.5))
        yield M.MirrorMap.random(units, scale, seed=k)


def _probs(n, seed):
    gen = torch.Generator().manual_seed(seed)
    # probabilities spread over many orders of magnitude, in (0, 1]
    return torch.exp(-torch.rand(n, generator=gen, dtype=torch.float64) * 12)


def test_bregman_is_nonnegative_and_zero_on_the_diagonal():
    for k, m in enumerate(_random_maps()):
        y, y0 = _probs(500, k), _probs(500, 1000 + k)
        for dtype in (torch.float64, torch.float32):
            d = m.bregman(y.to(dtype), y0.to(dtype))
            assert torch.isfinite(d).all()
            assert (d >= 0).all()
            assert (m.bregman(y.to(dtype), y.to(dtype)) == 0).all()


def test_bregman_matches_its_definition():
    for k, m in enumerate(_random_maps(10)):
        y, y0 = _probs(200, k), _probs(200, 77 + k)
        direct = m.h(y) - m.h(y0) - m.h_prime(y0) * (y - y0)
        assert torch.allclose(m.bregman(y, y0), direct, rtol=1e-6, atol=1e-9)


def test_h_prime_is_the_derivative_of_h():
    m = M.MirrorMap.random(4, 0.7, seed=3)
    y = _probs(100, 5).requires_grad_(True)
    (grad,) = torch.autograd.grad(m.h(y).sum(), y)
    assert torch.allclose(grad, m.h_prime(y.detach()), rtol=1e-6, atol=1e-8)


def test_kl_special_case():
    units = 4
    m = M.MirrorMap.from_constrained(v=0.0, w=1.0, b=0.0, a=0.0, c=1.0, units_per_group=units)
    assert m.constrained()["c"] == pytest.approx(1.0, rel=1e-12)
    y, y0 = _probs(1000, 1), _probs(1000, 2)
    kl = y * torch.log(y / y0) - y + y0
    assert torch.allclose(m.bregman(y, y0), kl, rtol=1e-9, atol=1e-12)
    logps, ref = torch.log(y), torch.log(y0)
    assert torch.allclose(m.bregman_from_logps(logps, ref), kl, rtol=1e-9, atol=1e-12)
    # the same with raw parameters: softplus(-80) ≈ 0 and softplus(log(e - 1)) = 1
    n = 6 * units
    phi = np.concatenate([np.full(n, -80.0), np.ones(n), np.zeros(n), [-80.0], [np.log(np.e - 1)]])
    assert torch.allclose(M.MirrorMap.from_vector(phi, units).bregman(y, y0), kl, rtol=1e-9, atol=1e-12)


def test_h_is_convex():
    y = torch.linspace(1e-4, 1.0, 4001, dtype=torch.float64)
    for m in _random_maps(20):
        hy = m.h(y)
        second = hy[2:] - 2 * hy[1:-1] + hy[:-2]
        assert (second >= -1e-12 * hy.abs().max().clamp(min=1)).all()


def test_gradient_wrt_y_is_finite_and_equals_h_prime_difference():
    for k, m in enumerate(_random_maps(10)):
        for dtype in (torch.float32, torch.float64):
            y = _probs(300, k).to(dtype).requires_grad_(True)
            y0 = _probs(300, 50 + k).to(dtype)
            (grad,) = torch.autograd.grad(m.bregman(y, y0).sum(), y)
            assert torch.isfinite(grad).all()
        expected = m.h_prime(y.detach()) - m.h_prime(y0)
        assert torch.allclose(grad, expected, rtol=1e-5, atol=1e-6)
    # extreme log-probabilities through the logp form: finite loss and gradient
    m = M.MirrorMap.random(4, 0.5, seed=0)
    logps = torch.tensor([-300.0, -1e-3, -2.0, 0.0], requires_grad=True)
    ref = torch.tensor([-1.0, -1e-3, -300.0, -0.5])
    d = m.bregman_from_logps(logps, ref)
    (grad,) = torch.autograd.grad(d.sum(), logps)
    assert torch.isfinite(d).all() and torch.isfinite(grad).all() and (d >= 0).all()


def test_vector_round_trip_layout_and_json(tmp_path):
    m = M.MirrorMap.random(5, 0.1, seed=9)
    vec = m.to_vector()
    assert vec.shape == (M.phi_size(5),) == (3 * 6 * 5 + 2,)
    assert np.array_equal(M.MirrorMap.from_vector(vec, 5).to_vector(), vec)
    path = tmp_path / "phi.json"
    m.save(path)
    assert json.loads(path.read_text())["groups"] == list(M.GROUP_NAMES)
    assert np.array_equal(M.MirrorMap.load(path).to_vector(), vec)
    with pytest.raises(ValueError):
        M.MirrorMap.from_vector(vec[:-1], 5)
    with pytest.raises(ValueError):
        M.MirrorMap.from_vector(np.full_like(vec, np.nan), 5)


def test_from_config(tmp_path):
    cfg = NeuralMirrorConfig(init_scale=0.05, units_per_group=3, mirror_seed=4)
    m = M.MirrorMap.from_config(cfg)
    assert np.array_equal(m.to_vector(), M.MirrorMap.from_config(cfg).to_vector())
    assert np.std(m.to_vector()) == pytest.approx(0.05, rel=0.3)
    assert not np.array_equal(m.to_vector(), M.MirrorMap.from_config(cfg.model_copy(update={"mirror_seed": 5})).to_vector())
    path = tmp_path / "best.json"
    other = M.MirrorMap.random(3, 1.0, seed=1)
    other.save(path)
    loaded = M.MirrorMap.from_config(cfg.model_copy(update={"phi_path": str(path)}))
    assert np.array_equal(loaded.to_vector(), other.to_vector())
    with pytest.raises(ValueError, match="units per group"):
        M.MirrorMap.from_config(cfg.model_copy(update={"phi_path": str(path), "units_per_group": 4}))


def test_one_activation_call_per_group_not_per_unit(monkeypatch):
    calls = {"H": 0, "sigma": 0}

    def counted(fn, key):
        def wrapper(x):
            calls[key] += 1
            return fn(x)
        return wrapper

    wrapped = {name: (counted(h, "H"), counted(s, "sigma")) for name, (h, s) in M.GROUPS.items()}
    monkeypatch.setattr(M, "GROUPS", wrapped)
    m = M.MirrorMap.random(64, 0.1, seed=0)
    y = _probs(10, 0)
    m.h(y)
    assert calls == {"H": 6, "sigma": 0}
    m.h_prime(y)
    assert calls == {"H": 6, "sigma": 6}
    m.bregman(y, y)
    assert calls == {"H": 18, "sigma": 12}


def test_vectorised_speed():
    m = M.MirrorMap.random(64, 0.1, seed=0)
    y = torch.rand(20_000)
    m.h(y[:10])
    start = time.perf_counter()
    out = m.h(y)
    elapsed = time.perf_counter() - start
    assert out.shape == y.shape and torch.isfinite(out).all()
    assert elapsed < 5.0  # 6 groups x 64 units x 2e4 values = 7.7e6 unit evaluations (≈0.3 s on one core)


def test_shapes_and_dtypes():
    m = M.MirrorMap.random(2, 0.1, seed=0)
    y = torch.rand(3, 7, dtype=torch.bfloat16).clamp_min(1e-3)
    assert m.bregman(y, y.flip(0)).shape == (3, 7)
    assert m.bregman(y, y).dtype == torch.float32
    assert m.h(torch.rand(4, dtype=torch.float64)).dtype == torch.float64


def test_nm_grpo_per_token_loss_adds_lambda_bregman():
    m = M.MirrorMap.random(4, 0.3, seed=2)
    gen = torch.Generator().manual_seed(0)
    logps = -torch.rand(2, 5, generator=gen) * 3
    ref = -torch.rand(2, 5, generator=gen) * 3
    old = logps + 0.05 * torch.randn(2, 5, generator=gen)
    ratio = G.token_ratio(logps, old)
    adv = torch.tensor([1.0, -0.5])
    base = G.clipped_objective(ratio, adv, 0.2, 0.28)
    loss = M.nm_grpo_per_token_loss(ratio, adv, logps, ref, m, 0.1, 0.2, 0.28)
    assert torch.allclose(loss - base, 0.1 * m.bregman(torch.exp(logps), torch.exp(ref)), atol=1e-6)
    assert torch.equal(M.nm_grpo_per_token_loss(ratio, adv, logps, ref, m, 0.0, 0.2, 0.28), base)
