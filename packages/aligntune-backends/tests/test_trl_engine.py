"""The TRL engine trains each algorithm a few steps on embedded:tiny-random and saves a model that loads
back. Datasets and rewards are given directly (the aligntune meta-package loads them in real runs)."""

import json
import os
import pathlib

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")

datasets = pytest.importorskip("datasets")

from aligntune_backends.trl.engine import EngineError, backend  # noqa: E402
from aligntune_config import UnifiedConfig  # noqa: E402

ROWS = [{"prompt": f"What is {i} plus {i}?", "completion": f" {2 * i}", "chosen": f" {2 * i}",
         "rejected": f" {2 * i + 1}", "answer": str(2 * i)} for i in range(12)]
COLUMNS = {"sft": ["prompt", "completion"], "dpo": ["prompt", "chosen", "rejected"],
           "reward_model": ["prompt", "chosen", "rejected"]}


def digits(completions, *, prompts=None, references=None, **columns):
    """1 for a completion that contains a digit."""
    return [float(any(ch.isdigit() for ch in c)) for c in completions]


def run(algo, tmp_path, **train):
    online = algo not in COLUMNS
    config = UnifiedConfig(
        algo=algo, backend="trl", datasets=["rows"],
        model={"name_or_path": "embedded:tiny-random", "use_peft": algo not in ("sft", "reward_model"), "precision": "fp32"},
        train={"per_device_batch_size": 4, "max_steps": 2, "learning_rate": 1e-3, "save_strategy": "no",
               "eval_strategy": "no", **({"max_completion_length": 8} if online or algo == "dpo" else {}), **train},
        logging={"output_dir": str(tmp_path / algo), "loggers": ["jsonl"]},
    )
    data = datasets.Dataset.from_list(ROWS).select_columns(COLUMNS.get(algo, ["prompt", "answer"]))
    trainer = backend.create_trainer(config, train_dataset=data, reward_functions=[digits] if online else [],
                                     reward_names=["digits"])
    metrics = trainer.train()
    return trainer, metrics, pathlib.Path(trainer.save_model())


@pytest.mark.parametrize("algo", ["sft", "dpo", "reward_model", "grpo", "gspo", "drgrpo"])
def test_trains_and_saves_a_loadable_model(algo, tmp_path):
    trainer, metrics, saved = run(algo, tmp_path)
    assert metrics["train_loss"] == metrics["train_loss"]  # not NaN
    assert (tmp_path / algo / "resolved_config.yaml").exists()
    lines = (tmp_path / algo / "metrics.jsonl").read_text().splitlines()
    assert lines and all("step" in json.loads(line) for line in lines)
    if algo in ("sft",):
        from transformers import AutoModelForCausalLM

        assert AutoModelForCausalLM.from_pretrained(saved) is not None
    elif algo == "reward_model":
        from transformers import AutoModelForSequenceClassification

        assert AutoModelForSequenceClassification.from_pretrained(saved).config.num_labels == 1
    else:
        from peft import AutoPeftModelForCausalLM

        assert (saved / "adapter_config.json").exists()
        assert AutoPeftModelForCausalLM.from_pretrained(saved) is not None


def test_dapo_without_dynamic_sampling_adds_overlong_punishment(tmp_path):
    trainer, metrics, _ = run("dapo", tmp_path, dynamic_sampling=False, overlong_buffer_length=4)
    names = [getattr(f, "__name__", "") for f in trainer.trainer.reward_funcs]
    assert names == ["digits", "overlong_punishment"]
    assert trainer.trainer.args.epsilon_high == 0.28 and trainer.trainer.args.loss_type == "dapo"


def test_reference_free_dpo_trains(tmp_path):
    trainer, metrics, _ = run("dpo", tmp_path, reference_free=True)
    assert type(trainer.trainer).__name__ == "ReferenceFreeDPOTrainer"


def test_refuses_what_it_cannot_run(tmp_path):
    meta_es = UnifiedConfig(algo="meta_es", model={"name_or_path": "m"}, datasets=["d"], rewards=["length"],
                            train={"per_device_batch_size": 2})
    with pytest.raises(EngineError, match="does not run meta_es"):
        backend.check(meta_es)


def test_unbuilt_model_fields_are_refused_not_ignored():
    config = UnifiedConfig(algo="grpo", model={"name_or_path": "m", "reward_model_quantization": {"load_in_8bit": True}},
                           datasets=["d"], train={"per_device_batch_size": 2})
    with pytest.raises(EngineError, match=r"grpo does not use model.reward_model_quantization \(used by: PPO only\)"):
        backend.check(config)
    # PPO uses it (its reward model is loaded by AlignTune's loop), and a separate reference copy
    backend.check(UnifiedConfig(algo="ppo", model={"name_or_path": "m", "force_use_ref_model": True,
                                                   "reward_model_quantization": {"load_in_8bit": True}},
                                datasets=["d"], rewards=["length"], train={"per_device_batch_size": 2}))
    mirror_adapter = UnifiedConfig(algo="ppo", model={"name_or_path": "m", "ref_adapter_name": "ref"}, datasets=["d"],
                                   rewards=["length"])
    with pytest.raises(EngineError, match=r"ppo does not use model.ref_adapter_name \(used by: no algorithm"):
        backend.check(mirror_adapter)
    unsloth_only = UnifiedConfig(algo="grpo", model={"name_or_path": "m"}, datasets=["d"], rewards=["length"],
                                 train={"fast_inference": True, "per_device_batch_size": 2})
    with pytest.raises(EngineError, match="train.fast_inference is Unsloth's vLLM generation"):
        backend.check(unsloth_only)
    # a reward model is the reward of online runs: an SFT or DPO run refuses one instead of ignoring it
    sft = UnifiedConfig(algo="sft", model={"name_or_path": "m", "reward_model_name": "OpenAssistant/rm"}, datasets=["d"])
    with pytest.raises(EngineError, match="model.reward_model_name: a reward model is the reward of online runs"):
        backend.check(sft)
    ppo = UnifiedConfig(algo="ppo", model={"name_or_path": "m"}, datasets=["d"], rewards=["length"],
                        logging={"sample_logging": {"enabled": True}})
    with pytest.raises(EngineError, match="sample logging is not built for PPO"):
        backend.check(ppo)


def test_sft_path_starts_from_the_sft_checkpoint(tmp_path):
    import torch

    from aligntune_backends.models import load_model_and_tokenizer
    from aligntune_config import ModelConfig

    _, _, saved = run("sft", tmp_path)
    tuned, _ = load_model_and_tokenizer(ModelConfig(name_or_path="embedded:tiny-random", sft_path=str(saved),
                                                    precision="fp32"), for_training=False)
    base, _ = load_model_and_tokenizer(ModelConfig(name_or_path="embedded:tiny-random", precision="fp32"),
                                       for_training=False)
    name, weight = next(iter(tuned.state_dict().items()))
    assert not torch.equal(weight, base.state_dict()[name])  # trained weights, not the base model's
