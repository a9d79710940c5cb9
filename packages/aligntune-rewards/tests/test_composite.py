"""CompositeReward: weights, clip, running normalisation (Welford), shields, component logging."""

from __future__ import annotations

import math
import random
import statistics

import pytest
from aligntune_config.rewards import RewardConfig
from aligntune_rewards import CompositeReward, RunningStats


def test_weighted_sum_and_components():
    comp = CompositeReward([
        RewardConfig(type="length", weight=0.5, params={"min_length": 1, "max_length": 2}),
        {"type": "accuracy", "weight": 2.0},
    ])
    out = comp(["a b", "a b c d"], references=["a b", "x"])
    assert out == pytest.approx([0.5 * 1.0 + 2.0 * 1.0, 0.5 * 0.0 + 2.0 * 0.0])
    assert comp.last_components == {"length": [1.0, 0.0], "accuracy": [1.0, 0.0]}
    assert comp.weights == [0.5, 2.0]


def test_clip_limits_each_component():
    comp = CompositeReward([{"type": "custom", "clip": 1.0, "params": {"reward_function": lambda t, **k: float(t)}}])
    assert comp(["5", "-7", "0.5"]) == [1.0, -1.0, 0.5]
    assert comp.last_components["<lambda>"] == [5.0, -7.0, 0.5]


def test_running_stats_match_statistics_module():
    rng = random.Random(0)
    values = [rng.gauss(3, 2) for _ in range(500)]
    stats = RunningStats()
    for i in range(0, 500, 37):
        stats.update(values[i:i + 37])
    assert stats.mean == pytest.approx(statistics.fmean(values))
    assert stats.std == pytest.approx(statistics.pstdev(values))
    stats.update([math.nan])
    assert stats.count == 500


def test_normalize_then_clip_uses_running_mean_and_std():
    comp = CompositeReward([{"type": "custom", "normalize": True, "clip": 1.5,
                             "params": {"reward_function": lambda t, **k: float(t)}}])
    first = comp(["0", "10"])  # mean 5, std 5
    assert first == pytest.approx([-1.0, 1.0])
    second = comp(["20"])  # now mean 10, std 8.165 -> 1.2247
    assert second == pytest.approx([min(1.5, 10 / statistics.pstdev([0, 10, 20]))])
    assert comp(["1000"]) == [1.5]


def test_shield_floors_total_when_shield_fails():
    comp = CompositeReward([
        RewardConfig(type="custom", weight=1.0, params={"reward_function": lambda t, **k: 3.0}),
        RewardConfig(type="safety", weight=0.0, shield=True),
    ])
    clean = "Here is a kind and helpful answer about gardening."
    toxic = "You stupid fucking idiot, I will hurt you, piece of shit."
    out = comp([clean, toxic])
    assert out[0] == 3.0
    assert out[1] == -1.0
    assert comp.last_shielded == [False, True]
    assert comp.last_components["safety"][1] < 0.5 <= comp.last_components["safety"][0]


def test_shield_threshold_and_floor_params_and_composite_floor():
    shield = {"type": "custom", "weight": 0.0, "shield": True,
              "params": {"reward_function": lambda t, **k: float(t), "shield_threshold": 0.9, "shield_floor": -5.0}}
    comp = CompositeReward([shield, {"type": "length", "params": {"min_length": 1}}])
    assert comp(["0.95", "0.8"]) == [1.0, -5.0]
    low = CompositeReward([{"type": "custom", "weight": 1.0, "shield": True,
                            "params": {"reward_function": lambda t, **k: -9.0}}], shield_floor=-2.0)
    assert low(["x"]) == [-9.0]  # the floor never raises a total that is already lower


def test_nan_scores_count_as_zero_and_duplicate_names_are_suffixed():
    def maybe(text, **kwargs):
        return None if text == "skip" else 1.0

    comp = CompositeReward([maybe, maybe])
    assert comp(["skip", "go"]) == [0.0, 2.0]
    assert set(comp.last_components) == {"maybe", "maybe_2"}
    assert math.isnan(comp.last_components["maybe"][0])


def test_spec_strings_and_trl_functions():
    comp = CompositeReward(["length:weight=0.5:min_length=1:max_length=3", "sentiment:0.5"])
    assert len(comp.components) == 2 and comp.weights == [0.5, 0.5]
    fns = comp.as_trl_functions()
    assert [f.__name__ for f in fns] == ["length", "sentiment"]
    assert fns[0](["a b"], prompts=["q"]) == [1.0]
    with pytest.raises(ValueError, match="at least one"):
        CompositeReward([])
