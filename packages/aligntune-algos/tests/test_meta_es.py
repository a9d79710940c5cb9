"""Meta-ES: convergence on a toy quadratic, exact resume, failing candidates, parallel == serial."""

import json
import logging
import math

import numpy as np
import pytest
from aligntune_algos import meta_es as E
from aligntune_algos.mirror import MirrorMap
from aligntune_config.errors import ConfigValidationError
from aligntune_config.meta_es import MetaESConfig

TARGET = np.random.default_rng(1).normal(size=10)


def _config(**kw):
    base = {"meta_iterations": 30, "patience": 30, "N": 20, "sigma": 0.1, "sigma_decay": 0.99, "alpha": 0.05,
            "min_delta": 0.0}
    return MetaESConfig(**{**base, **kw})


def test_centered_ranks():
    assert E.centered_ranks([3.0, 1.0, 2.0]).tolist() == [0.5, -0.5, 0.0]
    shaped = E.centered_ranks([5.0, -math.inf, 5.0, 0.0])
    assert shaped[1] == pytest.approx(-0.5) and shaped[0] == shaped[2] and abs(shaped.sum()) < 1e-12
    assert E.centered_ranks([1.0, 1.0]).tolist() == [0.0, 0.0]


def test_converges_on_a_quadratic(tmp_path):
    phi0 = np.zeros_like(TARGET)
    result = E.MetaES(_config(), phi0, E.QuadraticFitness(TARGET), tmp_path / "state.json", seed=0).run()
    start, end = np.linalg.norm(phi0 - TARGET), np.linalg.norm(result.phi - TARGET)
    assert end < start / 5
    assert result.best_fitness == pytest.approx(E.QuadraticFitness(TARGET)(result.best_phi, 0))
    assert result.iterations == len(result.history) == 30
    assert result.history[-1]["sigma"] == pytest.approx(0.1 * 0.99 ** 29)


def test_antithetic_gradient_by_hand(tmp_path):
    """g = 1/(Nσ) Σ s_k ε̃_k with the same ε the Generator gives."""
    cfg = _config(N=4, sigma=0.5, alpha=0.3)
    phi0 = np.arange(3.0)
    es = E.MetaES(cfg, phi0, E.QuadraticFitness(np.ones(3)), tmp_path / "s.json", seed=7)
    es.run(max_iterations=1)
    eps = np.random.default_rng(7).standard_normal((2, 3))
    cands = [phi0 + 0.5 * eps[0], phi0 - 0.5 * eps[0], phi0 + 0.5 * eps[1], phi0 - 0.5 * eps[1]]
    shaped = E.centered_ranks([E.QuadraticFitness(np.ones(3))(c, 0) for c in cands])
    grad = (shaped[0] - shaped[1]) * eps[0] + (shaped[2] - shaped[3]) * eps[1]
    assert np.allclose(es.phi, phi0 + 0.3 * grad / (4 * 0.5))


def test_resume_continues_exactly(tmp_path):
    phi0 = np.zeros_like(TARGET)
    full = E.MetaES(_config(meta_iterations=5, N=6), phi0, E.QuadraticFitness(TARGET), tmp_path / "a.json",
                    seed=3).run()
    state = tmp_path / "b.json"
    part = E.MetaES(_config(meta_iterations=2, N=6), phi0, E.QuadraticFitness(TARGET), state, seed=3).run()
    assert part.iterations == 2
    saved = json.loads(state.read_text())
    assert saved["iteration"] == 2 and saved["sigma"] == pytest.approx(0.1 * 0.99 ** 2)
    resumed = E.MetaES(_config(meta_iterations=5, N=6, resume=str(state)), phi0, E.QuadraticFitness(TARGET),
                       state, seed=999).run()
    assert np.array_equal(resumed.phi, full.phi)
    assert np.array_equal(resumed.best_phi, full.best_phi)
    assert resumed.best_fitness == full.best_fitness
    assert resumed.history == json.loads(json.dumps(full.history))
    # the interruption can also come from run(max_iterations=...)
    es = E.MetaES(_config(meta_iterations=5, N=6), phi0, E.QuadraticFitness(TARGET), tmp_path / "c.json", seed=3)
    es.run(max_iterations=2)
    again = E.MetaES(_config(meta_iterations=5, N=6, resume=str(tmp_path / "c.json")), phi0,
                     E.QuadraticFitness(TARGET), tmp_path / "c.json").run()
    assert np.array_equal(again.phi, full.phi)
    assert not list(tmp_path.glob(".*.tmp"))


class _FailsOnZero:
    def __call__(self, phi, index):
        if index == 0:
            raise RuntimeError("candidate blew up")
        if index == 1:
            return float("nan")
        return -float(np.sum(phi ** 2))


def test_failing_candidates_are_ranked_last_and_logged(tmp_path, caplog):
    caplog.set_level(logging.ERROR, logger="aligntune_algos.meta_es")
    es = E.MetaES(_config(N=6), np.ones(4), _FailsOnZero(), tmp_path / "s.json")
    result = es.run(max_iterations=1)
    record = result.history[0]
    assert record["fitness"][:2] == [None, None] and record["failed"] == 2
    assert record["shaped"][0] == record["shaped"][1] == min(record["shaped"])
    assert len(record["fitness"]) == 6
    assert "candidate 0" in caplog.text and "candidate blew up" in caplog.text and "candidate 1" in caplog.text
    assert math.isfinite(result.best_fitness)


def test_all_failing_keeps_phi_and_stops_on_patience(tmp_path):
    def boom(phi, index):
        raise ValueError("no")
    result = E.MetaES(_config(N=4, patience=2), np.ones(3), boom, tmp_path / "s.json").run()
    assert np.array_equal(result.phi, np.ones(3)) and result.best_fitness == -math.inf
    assert result.stopped_early and result.iterations == 2
    assert json.loads((tmp_path / "s.json").read_text())["best_fitness"] is None


def test_patience_and_min_delta(tmp_path):
    result = E.MetaES(_config(meta_iterations=50, patience=3, min_delta=1e9), np.zeros(3),
                      E.QuadraticFitness(np.ones(3)), tmp_path / "s.json").run()
    # the first iteration improves on -inf, then nothing beats best + 1e9
    assert result.stopped_early and result.iterations == 4


def test_odd_population_is_refused(tmp_path):
    with pytest.raises(ConfigValidationError, match="even"):
        MetaESConfig(N=3)
    with pytest.raises(ValueError, match="even"):
        E.MetaES(MetaESConfig.model_construct(**{**_config().__dict__, "N": 5}), np.zeros(2),
                 E.QuadraticFitness(np.zeros(2)), tmp_path / "s.json")


def test_parallel_workers_match_serial(tmp_path):
    phi0 = np.zeros_like(TARGET)
    serial = E.MetaES(_config(meta_iterations=3, N=6), phi0, E.QuadraticFitness(TARGET), tmp_path / "a.json",
                      seed=5).run()
    parallel = E.MetaES(_config(meta_iterations=3, N=6, num_workers=2), phi0, E.QuadraticFitness(TARGET),
                        tmp_path / "b.json", seed=5).run()
    assert np.array_equal(serial.phi, parallel.phi)
    assert serial.history == parallel.history


def test_ray_address_without_ray_is_a_clear_error(tmp_path):
    try:
        import ray  # noqa: F401
        pytest.skip("ray is installed")
    except ImportError:
        pass
    es = E.MetaES(_config(ray_address="auto"), np.zeros(2), E.QuadraticFitness(np.zeros(2)), tmp_path / "s.json")
    with pytest.raises(RuntimeError, match="ray is not installed"):
        es.run()


def test_state_best_phi_loads_as_a_mirror_map(tmp_path):
    units = 2
    phi0 = MirrorMap.random(units, 0.01, seed=0).to_vector()
    es = E.MetaES(_config(meta_iterations=1, N=4), phi0, E.QuadraticFitness(np.zeros_like(phi0)),
                  tmp_path / "s.json", metadata={"units_per_group": units})
    result = es.run()
    assert np.array_equal(MirrorMap.load(tmp_path / "s.json").to_vector(), result.best_phi)


def test_resume_with_changed_settings_warns(tmp_path, caplog):
    state = tmp_path / "s.json"
    E.MetaES(_config(meta_iterations=1, N=4), np.zeros(2), E.QuadraticFitness(np.ones(2)), state).run()
    caplog.set_level(logging.WARNING, logger="aligntune_algos.meta_es")
    E.MetaES(_config(meta_iterations=2, N=6, resume=str(state)), np.zeros(2), E.QuadraticFitness(np.ones(2)), state)
    assert "changed settings" in caplog.text and "'N': (4, 6)" in caplog.text
