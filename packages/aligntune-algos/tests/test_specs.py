"""Each algorithm's spec: its paper's defaults, the fields it uses, its checks -- applied when a config is
resolved, because aligntune-algos registers the specs under the aligntune.algorithms entry points."""

import pytest

from aligntune_config import AlgorithmType, ConfigLoader, ConfigValidationError, UnifiedConfig
from aligntune_config.registry import ALGORITHMS

from aligntune_algos.specs import SPECS


def make(algo, **train):
    return UnifiedConfig(algo=algo, model={"name_or_path": "m"}, datasets=["d"], train={"per_device_batch_size": 4, **train})


def test_every_algorithm_has_a_registered_spec():
    assert set(SPECS) == set(AlgorithmType)
    for algo in AlgorithmType:
        assert ALGORITHMS.get(algo.value) is SPECS[algo]


@pytest.mark.parametrize("algo,expected", [
    ("grpo", {"loss_type": "grpo", "scale_rewards": "group", "kl_estimator": "k3", "epsilon_high": None}),
    ("drgrpo", {"loss_type": "dr_grpo", "scale_rewards": "none"}),
    ("dapo", {"loss_type": "dapo", "epsilon_high": 0.28, "dynamic_sampling": True, "kl_coef": 0.0,
              "mask_truncated_completions": True, "overlong_buffer_length": 64}),
    ("gspo", {"loss_type": "grpo", "gspo_clip_low": 3e-4, "gspo_clip_high": 4e-4}),
    ("dpo", {"loss_type": "sigmoid"}),
    ("ppo", {"num_ppo_epochs": 4}),
    ("sft", {"loss_type": "nll"}),
])
def test_paper_defaults(algo, expected):
    config = make(algo) if algo != "sft" else make(algo)
    for field, value in expected.items():
        assert getattr(config.train, field) == value, field


def test_explicit_values_win_over_algorithm_defaults():
    config = make("dapo", kl_coef=0.05, epsilon_high=0.3, overlong_buffer_length=10)
    assert (config.train.kl_coef, config.train.epsilon_high, config.train.overlong_buffer_length) == (0.05, 0.3, 10)


@pytest.mark.parametrize("algo,field,value,used_by", [
    ("sft", "beta", 0.3, "dpo"),
    ("dpo", "num_generations", 4, "grpo"),
    ("grpo", "packing", True, "sft"),
    ("ppo", "gspo_clip_low", 0.01, "gspo"),
    ("dpo", "vf_coef", 0.5, "ppo"),
])
def test_fields_an_algorithm_does_not_use_are_rejected(algo, field, value, used_by):
    with pytest.raises(ConfigValidationError, match=rf"train.{field}: does not apply to {algo} .*used by: .*{used_by}"):
        make(algo, **{field: value})


def test_defaults_written_back_are_not_rejected(tmp_path):
    for algo in ("sft", "dpo", "ppo", "grpo", "dapo", "gspo"):
        config = make(algo)
        assert ConfigLoader.load(ConfigLoader.save_resolved_config(config, tmp_path / algo)) == config


@pytest.mark.parametrize("algo,train,path,fragment", [
    ("dpo", {"loss_type": "kto_pair"}, "train.loss_type", "is not a dpo loss"),
    ("sft", {"loss_type": ["nll", "dft"]}, "train.loss_type", "SFT takes one loss"),
    ("dpo", {"loss_type": ["sigmoid", "sft"], "loss_weights": [1.0]}, "train.loss_weights", "1 weights for 2 losses"),
    ("grpo", {"kl_estimator": "k1"}, "train.kl_estimator", "k3 estimator of its paper"),
    ("dapo", {"overlong_buffer_length": 300}, "train.overlong_buffer_length", "must be < max_completion_length"),
    ("gspo", {"cliprange": 0.3}, "train.cliprange", "does not apply to gspo and would be ignored; remove it (GSPO clips"),
    ("ppo", {"kl_coef": 0.05}, "train.kl_coef", "adaptive controller is on"),
    ("dpo", {"loss_type": "exo_pair"}, "train.label_smoothing", "exo_pair loss needs label_smoothing > 0"),
    ("dpo", {"loss_type": ["sigmoid", "robust"], "loss_weights": [1.0, 1.0], "label_smoothing": 0.5},
     "train.label_smoothing", "robust loss needs label_smoothing in [0, 0.5)"),
])
def test_algorithm_checks(algo, train, path, fragment):
    with pytest.raises(ConfigValidationError) as info:
        make(algo, **train)
    assert any(str(i).startswith(path) and fragment in str(i) for i in info.value.issues), info.value.issues


def test_ppo_fixed_kl_is_accepted():
    assert make("ppo", kl_coef=0.05, adap_kl_ctrl=False).train.kl_coef == 0.05


def test_multi_loss_dpo():
    config = make("dpo", loss_type=["sigmoid", "sft"], loss_weights=[1.0, 0.2])
    assert config.train.loss_type == ["sigmoid", "sft"]


def test_specs_import_no_torch():
    import subprocess
    import sys

    code = "import sys, aligntune_algos.specs; print('torch' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip() == "False"
