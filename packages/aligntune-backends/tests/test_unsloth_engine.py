"""The Unsloth engine without a GPU: its FastLanguageModel calls are checked against a fake
``unsloth`` module (the import boundary), the trainers it builds are the TRL engine's, and what it
cannot run is refused before any model is loaded. The real thing is exercised by the gpu-marked test
at the end (CUDA + unsloth installed)."""

from __future__ import annotations

import importlib.machinery
import math
import sys
import types
from typing import ClassVar

import pytest

datasets = pytest.importorskip("datasets")

from aligntune_backends.models import ModelLoadError, linear_module_names
from aligntune_backends.trl.engine import EngineError
from aligntune_backends.unsloth import engine as unsloth_engine
from aligntune_backends.unsloth import probe
from aligntune_backends.unsloth.engine import backend, trainer_config
from aligntune_backends.unsloth.loading import load_kwargs, peft_kwargs
from aligntune_config import UnifiedConfig
from aligntune_config.errors import ConfigValidationError as ConfigError

ROWS = [{"prompt": f"What is {i} plus {i}?", "completion": f" {2 * i}", "chosen": f" {2 * i}",
         "rejected": f" {2 * i + 1}", "answer": str(2 * i)} for i in range(8)]
COLUMNS = {"sft": ["prompt", "completion"], "dpo": ["prompt", "chosen", "rejected"]}


def digits(completions, **columns):
    return [float(any(ch.isdigit() for ch in c)) for c in completions]


def config(algo="sft", backend_name="unsloth", model=None, **train):
    online = algo not in COLUMNS
    return UnifiedConfig(
        algo=algo, backend=backend_name, datasets=["rows"], rewards=["length"] if online else [],
        model={"name_or_path": "embedded:tiny-random", "precision": "fp32", **(model or {})},
        train={"per_device_batch_size": 4, "max_steps": 1, "learning_rate": 1e-3, "save_strategy": "no",
               "eval_strategy": "no", **({"max_completion_length": 8} if online or algo == "dpo" else {}), **train},
        logging={"output_dir": "out", "loggers": []},
    )


class FakeFastLanguageModel:
    """Records the calls and returns real (tiny) transformers/peft objects, as Unsloth would."""

    calls: ClassVar[list[tuple[str, dict]]] = []

    @staticmethod
    def from_pretrained(**kwargs):
        from aligntune_backends.models import load_model_and_tokenizer
        from aligntune_config import ModelConfig

        FakeFastLanguageModel.calls.append(("from_pretrained", kwargs))
        return load_model_and_tokenizer(ModelConfig(name_or_path=kwargs["model_name"], precision="fp32",
                                                    use_peft=False), for_training=True)

    @staticmethod
    def get_peft_model(model, **kwargs):
        from peft import LoraConfig, get_peft_model

        FakeFastLanguageModel.calls.append(("get_peft_model", kwargs))
        return get_peft_model(model, LoraConfig(r=kwargs["r"], lora_alpha=kwargs["lora_alpha"],
                                                lora_dropout=kwargs["lora_dropout"], bias=kwargs["bias"],
                                                target_modules=kwargs["target_modules"], task_type="CAUSAL_LM"))


@pytest.fixture
def fake_unsloth(monkeypatch):
    """An importable ``unsloth`` with FastLanguageModel, and a CUDA device as far as the probe knows."""
    module = types.ModuleType("unsloth")
    module.__spec__ = importlib.machinery.ModuleSpec("unsloth", None)
    module.FastLanguageModel = FakeFastLanguageModel
    monkeypatch.setitem(sys.modules, "unsloth", module)
    monkeypatch.setattr(probe, "cuda_available", lambda: True)
    FakeFastLanguageModel.calls = []
    return FakeFastLanguageModel


def test_from_pretrained_arguments_follow_the_config():
    cfg = config("grpo", model={"name_or_path": "org/some-model", "max_seq_length": 512, "revision": "v2",
                                "quantization": {"load_in_4bit": True}, "use_peft": True, "lora_r": 8,
                                "gradient_checkpointing": True, "trust_remote_code": False,
                                "attn_implementation": "sdpa", "model_init_kwargs": {"low_cpu_mem_usage": True}},
                 fast_inference=True, vllm_gpu_memory_utilization=0.35, seed=7, max_length=256, max_prompt_length=64)
    kwargs = load_kwargs(cfg, dtype="DTYPE", quantization_config="BNB")
    assert kwargs == {
        "model_name": "org/some-model", "max_seq_length": 512, "dtype": "DTYPE", "load_in_4bit": True,
        "load_in_8bit": False, "full_finetuning": False, "trust_remote_code": False,
        "use_gradient_checkpointing": "unsloth", "revision": "v2", "fast_inference": True,
        "gpu_memory_utilization": 0.35, "random_state": 7, "max_lora_rank": 8, "quantization_config": "BNB",
        "attn_implementation": "sdpa", "low_cpu_mem_usage": True,
    }
    plain = load_kwargs(config("sft", model={"name_or_path": "org/some-model", "use_peft": False,
                                             "gradient_checkpointing": False}), dtype=None)
    # Unsloth loads in 4 bit unless told otherwise: the engine always says
    assert plain["load_in_4bit"] is False and plain["full_finetuning"] is True
    assert plain["fast_inference"] is False and "max_lora_rank" not in plain and "quantization_config" not in plain
    assert plain["use_gradient_checkpointing"] is False


def test_use_vllm_colocate_on_unsloth_means_its_own_vllm_engine():
    cfg = config("grpo", model={"use_peft": True}, use_vllm=True)
    assert load_kwargs(cfg, dtype=None)["fast_inference"] is True
    given = trainer_config(config("dapo", model={"use_peft": True}, fast_inference=True))
    assert (given.train.use_vllm, given.train.vllm_mode, given.train.fast_inference) == (True, "colocate", False)
    untouched = config("grpo", model={"use_peft": True})
    assert trainer_config(untouched) is untouched


def test_lora_arguments_and_targets(tiny_random_path):
    from aligntune_backends.models import load_model_and_tokenizer
    from aligntune_config import ModelConfig

    model, _ = load_model_and_tokenizer(ModelConfig(name_or_path="embedded:tiny-random", precision="fp32",
                                                    use_peft=False))
    cfg = config("dpo", model={"use_peft": True, "lora_r": 4, "lora_alpha": 8, "lora_dropout": 0.0,
                               "lora_target_modules": "all-linear", "bias": "lora_only"}, seed=11)
    lora = peft_kwargs(cfg, model)
    assert lora["target_modules"] == linear_module_names(model)  # all-linear written out
    assert (lora["r"], lora["lora_alpha"], lora["lora_dropout"], lora["bias"], lora["random_state"]) == (4, 8, 0.0, "lora_only", 11)
    assert lora["max_seq_length"] == cfg.model.max_seq_length
    bad = config("dpo", model={"use_peft": True, "lora_target_modules": ["nope_proj"]})
    with pytest.raises(ModelLoadError, match="model.lora_target_modules"):
        peft_kwargs(bad, model)


@pytest.mark.parametrize("algo", ["sft", "dpo", "grpo", "ppo"])
def test_builds_the_trl_engines_trainers(algo, tmp_path, fake_unsloth):
    peft = algo != "sft"
    cfg = config(algo, model={"use_peft": peft, "lora_r": 4, "lora_alpha": 8, "max_seq_length": 256},
                 **({"response_length": 8, "rollout_batch_size": 4} if algo == "ppo" else {}))
    cfg = cfg.model_copy(update={"logging": cfg.logging.model_copy(update={"output_dir": str(tmp_path)})})
    data = datasets.Dataset.from_list(ROWS).select_columns(COLUMNS.get(algo, ["prompt", "answer"]))
    trainer = backend.create_trainer(cfg, train_dataset=data, reward_functions=[] if algo in COLUMNS else [digits],
                                     reward_names=["digits"])
    if algo == "sft":  # one step through the whole lifecycle (the algorithms themselves are tested on TRL)
        assert math.isfinite(trainer.train()["train_loss"])
        assert (tmp_path / "resolved_config.yaml").read_text().count("unsloth") >= 1
    names = [name for name, _ in fake_unsloth.calls]
    assert names == (["from_pretrained", "get_peft_model"] if peft else ["from_pretrained"])
    loaded = fake_unsloth.calls[0][1]
    assert loaded["max_seq_length"] == 256 and loaded["full_finetuning"] is (not peft)
    assert loaded["model_name"].endswith("tiny-random") or "tiny" in loaded["model_name"]
    if algo != "ppo":
        expected = {"sft": "SFTTrainer", "dpo": "DPOTrainer", "grpo": "GRPOTrainer"}[algo]
        assert type(trainer.trainer).__name__ == expected  # the TRL engine's construction, not a copy
    assert trainer.config.backend.value == "unsloth"  # the run's own config is kept (and saved)


def test_gspo_and_other_algorithms_refused():
    assert not backend.supports("gspo") and not backend.supports("nmgrpo") and not backend.supports("reward_model")
    assert all(backend.supports(a) for a in ("sft", "dpo", "ppo", "grpo", "dapo", "drgrpo"))
    with pytest.raises(EngineError, match="does not run gspo.*backend: trl"):
        backend.check(config("gspo", backend_name="auto", model={"use_peft": True}))
    with pytest.raises(ConfigError, match="unsloth backend does not run gspo"):
        config("gspo", model={"use_peft": True})


def test_what_unsloth_cannot_do_is_refused_before_loading(fake_unsloth):
    with pytest.raises(EngineError, match="vllm_mode"):
        backend.check(config("grpo", model={"use_peft": True}, use_vllm=True, vllm_mode="server",
                             vllm_server_base_url="http://127.0.0.1:8000"))
    with pytest.raises(EngineError, match="fast_inference"):
        backend.check(config("ppo", model={"use_peft": True}, fast_inference=True))
    with pytest.raises(EngineError, match="load_in_8bit"):
        backend.check(config("grpo", model={"use_peft": True, "quantization": {"load_in_8bit": True}},
                             fast_inference=True))
    assert fake_unsloth.calls == []


def test_unavailable_engine_says_why_and_loads_nothing(monkeypatch, fake_unsloth):
    monkeypatch.setattr(probe, "cuda_available", lambda: False)
    available = backend.availability()
    assert not available and "no CUDA device" in available.reason
    data = datasets.Dataset.from_list(ROWS).select_columns(["prompt", "completion"])
    with pytest.raises(EngineError, match="not available here: .*CUDA"):
        backend.create_trainer(config("sft"), train_dataset=data)
    assert fake_unsloth.calls == []
    monkeypatch.delitem(sys.modules, "unsloth")
    monkeypatch.setattr(probe.importlib.util, "find_spec", lambda name, *a: None)
    assert "not installed" in backend.availability().reason and "aligntune[unsloth]" in backend.availability().reason


def test_supported_set_is_the_spec_matrix():
    from aligntune_config.resolve import UNSLOTH_ALGORITHMS

    assert unsloth_engine.SUPPORTED == UNSLOTH_ALGORITHMS


@pytest.mark.gpu
def test_real_unsloth_sft_on_gpu(tmp_path):
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("needs a CUDA device")
    pytest.importorskip("unsloth")
    cfg = config("sft", model={"name_or_path": "embedded:smollm2-135m-instruct", "precision": "bf16",
                               "use_peft": True, "max_seq_length": 256})
    cfg = cfg.model_copy(update={"logging": cfg.logging.model_copy(update={"output_dir": str(tmp_path)})})
    data = datasets.Dataset.from_list(ROWS).select_columns(["prompt", "completion"])
    trainer = backend.create_trainer(cfg, train_dataset=data)
    assert "unsloth" in type(trainer.trainer).__module__.lower() or hasattr(trainer.trainer.model, "max_seq_length")
    metrics = trainer.train()
    assert math.isfinite(metrics["train_loss"])
