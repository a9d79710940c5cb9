"""Every train field an algorithm uses reaches the TRL engine: changing it changes the TRL config
arguments or AlignTune's own settings around TRL. And the arguments are accepted by TRL's classes."""

import dataclasses

import pytest

from aligntune_backends.trl.args import build_args
from aligntune_config import TrainingConfig, UnifiedConfig
from aligntune_config.registry import ALGORITHMS

ALGOS = ["sft", "dpo", "reward_model", "grpo", "gspo", "dapo", "drgrpo"]
NOT_IN_ENGINE_ARGS = {
    "grpo_alpha": "reserved spec field (only its default is accepted)",
    "grpo_beta": "reserved spec field", "gspo_gamma": "reserved spec field", "gspo_delta": "reserved spec field",
    "use_trl": "selects the backend (UnifiedConfig.backend)",
    "use_flash_attention_2": "sets model.attn_implementation (model loading)",
}
# a valid non-default value per field, where the generic rule below does not fit
OVERRIDES = {
    "optimizer": "sgd", "lr_scheduler": "linear", "eval_strategy": "epoch", "save_strategy": "epoch",
    "logging_strategy": "epoch", "metric_for_best_model": "eval_reward", "resume_from_checkpoint": "out/checkpoint-2",
    "loss_type": {"sft": "dft", "dpo": "ipo", "grpo": "bnpo", "gspo": "bnpo", "dapo": "grpo", "drgrpo": "dapo"},
    "loss_weights": [0.7], "generation_kwargs": {"repetition_penalty": 1.1}, "dataset_kwargs": {"skip_prepare_dataset": True},
    "gradient_checkpointing_kwargs": {"use_reentrant": True}, "num_generations": 2, "max_prompt_length": 100,
    "max_length": 900, "scale_rewards": "batch", "truncation_mode": "keep_start", "packing_strategy": "wrapped",
    "f_divergence_type": "js_divergence", "vllm_mode": "server", "vllm_server_base_url": "http://127.0.0.1:8000",
    "early_stopping_threshold": 0.5, "kl_estimator": "k3", "epsilon_high": 0.3, "overlong_buffer_length": 16,
    "ld_alpha": 0.5, "rpo_alpha": 0.5, "fp16": True, "eval_interval": 50, "save_interval": 200,
    "reward_weights": [0.5], "per_device_batch_size": 4,
}
CONTEXT = {"reward_weights": {"rewards": ["length"]}, "num_generations": {"per_device_batch_size": 4},
           "overlong_penalty_factor": {"overlong_buffer_length": 16}, "early_stopping_threshold": {"early_stopping_patience": 2}, "loss_weights": {"loss_type": ["sigmoid"]},
           "metric_for_best_model": {"eval_strategy": "steps"}, "greater_is_better": {"eval_strategy": "steps"}}
PER_ALGO = {  # values relative to each algorithm's own defaults
    ("sft", "bf16"): False, ("sft", "gradient_checkpointing"): False, ("sft", "load_best_model_at_end"): False,
    ("sft", "eval_strategy"): "no", ("sft", "fp16"): True,
}


def _changed_value(name: str, algo: str):
    baseline = getattr(_config(algo).train, name)
    if isinstance(baseline, bool) and name not in OVERRIDES and (algo, name) not in PER_ALGO:
        return not baseline
    if (algo, name) in PER_ALGO:
        return PER_ALGO[(algo, name)]
    if name == "load_best_model_at_end":
        return True
    if name in OVERRIDES:
        value = OVERRIDES[name]
        return value[algo] if isinstance(value, dict) and name == "loss_type" else value
    field = TrainingConfig.model_fields[name]
    default = field.get_default(call_default_factory=True)
    annotation = str(field.annotation)
    if isinstance(default, bool) or (default is None and "bool" in annotation and "int" not in annotation):
        return not bool(default)
    if isinstance(default, int) or (default is None and "int" in annotation):
        return (default or 1) + 1
    if isinstance(default, float) or (default is None and "float" in annotation):
        return round((default or 0.1) * 0.5 + 0.01, 4)
    raise AssertionError(f"no test value for {name} ({annotation})")


def _config(algo: str, rewards=(), **train) -> UnifiedConfig:
    base = {"per_device_batch_size": 2} if algo not in ("sft", "dpo", "reward_model") else {}
    return UnifiedConfig(algo=algo, backend="trl", model={"name_or_path": "m"}, datasets=["d"], rewards=list(rewards),
                         evaluation={"holdout_fraction": 0.1}, train={**base, **train})


FIXED_BY_PAPER = {"kl_estimator"}  # the GRPO family uses k3 (its paper); other values are refused by the spec


def _fields(algo: str) -> list[str]:
    spec = ALGORITHMS.get(algo)  # the algorithm's spec (aligntune-algos), through the registry
    if spec is None or not hasattr(spec, "uses"):
        pytest.skip("aligntune-algos is not installed")
    fixed = FIXED_BY_PAPER if algo not in ("sft", "dpo", "reward_model", "ppo") else set()
    return sorted(spec.uses - set(NOT_IN_ENGINE_ARGS) - fixed)


@pytest.mark.parametrize("algo", ALGOS)
def test_every_used_field_reaches_the_engine(algo):
    unreached = []
    for name in _fields(algo):
        context = dict(CONTEXT.get(name, {}))
        if name == "load_best_model_at_end" and algo != "sft":
            context = {"eval_strategy": "steps"}
        base = build_args(_config(algo, **context), cuda_available=False, bf16_supported=False)
        changed = build_args(_config(algo, **context, **{name: _changed_value(name, algo)}),
                             cuda_available=False, bf16_supported=False)
        if (base.trl, base.extra) == (changed.trl, changed.extra):
            unreached.append(name)
    assert not unreached, f"{algo}: changing these fields changed nothing in the engine: {unreached}"


TRL_CLASSES = {"sft": "SFTConfig", "dpo": "DPOConfig", "reward_model": "RewardConfig", "grpo": "GRPOConfig",
               "gspo": "GRPOConfig", "dapo": "GRPOConfig", "drgrpo": "GRPOConfig"}


@pytest.mark.parametrize("algo", ALGOS)
def test_trl_accepts_the_arguments(algo, tmp_path):
    import trl

    cls = getattr(trl, TRL_CLASSES[algo])
    config = _config(algo)
    args = build_args(config, cuda_available=False, bf16_supported=False).trl
    accepted = {f.name for f in dataclasses.fields(cls)}
    assert not set(args) - accepted, f"{cls.__name__} does not take {sorted(set(args) - accepted)}"
    built = cls(**{**args, "output_dir": str(tmp_path)})
    assert built.learning_rate == config.train.learning_rate


def test_algorithm_specific_mappings():
    gspo = build_args(_config("gspo"), cuda_available=False, bf16_supported=False).trl
    assert (gspo["importance_sampling_level"], gspo["epsilon"], gspo["epsilon_high"]) == ("sequence", 3e-4, 4e-4)
    dapo = build_args(_config("dapo"), cuda_available=False, bf16_supported=False)
    assert (dapo.trl["loss_type"], dapo.trl["epsilon"], dapo.trl["epsilon_high"], dapo.trl["beta"]) == ("dapo", 0.2, 0.28, 0.0)
    assert dapo.extra["dynamic_sampling"] and dapo.extra["overlong"] == (64, 1.0)
    dr = build_args(_config("drgrpo"), cuda_available=False, bf16_supported=False).trl
    assert (dr["loss_type"], dr["scale_rewards"]) == ("dr_grpo", "none")
    rpo = build_args(_config("dpo", rpo_alpha=0.3), cuda_available=False, bf16_supported=False).trl
    assert rpo["loss_type"] == ["sigmoid", "sft"] and rpo["loss_weights"] == [1.0, 0.3]
    auto = build_args(_config("sft"), cuda_available=True, bf16_supported=True).trl
    assert auto["bf16"] and not build_args(_config("grpo"), cuda_available=False, bf16_supported=False).trl["bf16"]
