"""Speed options reach the engine where it supports them: Liger kernels (all TRL trainers, through
use_liger_kernel; use_liger_loss turns on the same switch), packing (SFT) and padding-free batches (SFT,
DPO). Where an algorithm has no such option the config refuses the field instead of ignoring it."""

from __future__ import annotations

import pytest
from aligntune_backends.trl.args import build_args
from aligntune_config import UnifiedConfig
from aligntune_config.errors import ConfigValidationError


def cfg(algo, **train):
    online = algo not in ("sft", "dpo", "reward_model")
    return UnifiedConfig(algo=algo, backend="trl", model={"name_or_path": "m"}, datasets=["d"],
                         rewards=["length"] if online else [], train={"per_device_batch_size": 2, **train})


def args(config):
    return build_args(config, cuda_available=True, bf16_supported=True).trl


@pytest.mark.parametrize("algo", ["sft", "dpo", "reward_model", "grpo", "dapo", "drgrpo"])
def test_liger_kernel_reaches_every_trl_trainer(algo):
    assert args(cfg(algo))["use_liger_kernel"] is False
    assert args(cfg(algo, use_liger_kernel=True))["use_liger_kernel"] is True


@pytest.mark.parametrize("algo", ["sft", "dpo", "grpo"])
def test_liger_loss_turns_on_liger(algo):
    assert args(cfg(algo, use_liger_loss=True))["use_liger_kernel"] is True


def test_packing_reaches_sft():
    on = args(cfg("sft", packing=True, packing_strategy="wrapped", eval_packing=False))
    assert (on["packing"], on["packing_strategy"], on["eval_packing"]) == (True, "wrapped", False)
    assert args(cfg("sft"))["packing"] is False


@pytest.mark.parametrize("algo", ["sft", "dpo"])
def test_padding_free_reaches_sft_and_dpo(algo):
    assert args(cfg(algo, padding_free=True))["padding_free"] is True
    assert args(cfg(algo))["padding_free"] is False


@pytest.mark.parametrize("field,algo", [("packing", "dpo"), ("packing", "grpo"), ("padding_free", "grpo"),
                                        ("padding_free", "reward_model")])
def test_not_applicable_options_are_refused(field, algo):
    with pytest.raises(ConfigValidationError, match=field):
        cfg(algo, **{field: True})


@pytest.mark.parametrize("algo,cls", [("sft", "SFTConfig"), ("dpo", "DPOConfig"), ("grpo", "GRPOConfig")])
def test_trl_accepts_the_options(algo, cls, tmp_path):
    import trl

    options = {"use_liger_kernel": True, **({"padding_free": True} if algo in ("sft", "dpo") else {}),
               **({"packing": True} if algo == "sft" else {})}
    built = getattr(trl, cls)(**{**args(cfg(algo, **options)), "output_dir": str(tmp_path), "bf16": False,
                                 "use_cpu": True})
    assert built.use_liger_kernel is True
    if algo in ("sft", "dpo"):
        assert built.padding_free is True
    if algo == "sft":
        assert built.packing is True


def test_packed_sft_dataset_is_packed(tmp_path):
    datasets = pytest.importorskip("datasets")
    from aligntune_backends.trl.engine import backend

    rows = [{"prompt": f"Say {i}.", "completion": f" {i}"} for i in range(32)]
    config = UnifiedConfig(algo="sft", backend="trl", datasets=["rows"],
                           model={"name_or_path": "embedded:tiny-random", "precision": "fp32", "use_peft": False},
                           train={"per_device_batch_size": 2, "max_steps": 1, "packing": True, "max_length": 64,
                                  "save_strategy": "no", "eval_strategy": "no"},
                           logging={"output_dir": str(tmp_path), "loggers": []})
    trainer = backend.create_trainer(config, train_dataset=datasets.Dataset.from_list(rows))
    packed = trainer.trainer.train_dataset
    assert trainer.trainer.args.packing is True
    assert len(packed) < len(rows)  # several short examples per 64-token sequence
    assert "seq_lengths" in packed.column_names or "position_ids" in packed.column_names
