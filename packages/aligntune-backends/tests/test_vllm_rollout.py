"""vLLM rollouts: the ``train`` fields reach vLLM (TRL's GRPOConfig for the GRPO family; TRL's
VLLMGeneration for PPO through aligntune_backends.vllm_rollout), and asking for vLLM where it cannot run
is refused with the reason. Real generation needs CUDA and the vllm extra (gpu-marked test)."""

from __future__ import annotations

import importlib.util

import pytest
from aligntune_backends import vllm_rollout
from aligntune_backends.trl.args import build_args
from aligntune_backends.vllm_rollout import (
    VLLMRollout,
    VLLMUnavailable,
    check_vllm,
    pad_responses,
    vllm_generation_kwargs,
)
from aligntune_config import UnifiedConfig


def cfg(algo="grpo", **train):
    return UnifiedConfig(algo=algo, backend="trl", model={"name_or_path": "m"}, datasets=["d"], rewards=["length"],
                         train={"per_device_batch_size": 2, **train})


@pytest.mark.parametrize("algo", ["grpo", "gspo", "dapo", "drgrpo"])
def test_grpo_family_vllm_fields_reach_trl(algo):
    colocate = build_args(cfg(algo, use_vllm=True, vllm_gpu_memory_utilization=0.3), cuda_available=True,
                          bf16_supported=True).trl
    assert (colocate["use_vllm"], colocate["vllm_mode"], colocate["vllm_gpu_memory_utilization"]) == (True, "colocate", 0.3)
    assert colocate["vllm_max_model_length"] == cfg(algo).train.max_length  # prompt + completion, not the model's max
    server = build_args(cfg(algo, use_vllm=True, vllm_mode="server", vllm_server_base_url="http://10.0.0.2:8000"),
                        cuda_available=True, bf16_supported=True).trl
    assert (server["vllm_mode"], server["vllm_server_base_url"]) == ("server", "http://10.0.0.2:8000")
    off = build_args(cfg(algo), cuda_available=False, bf16_supported=False).trl
    assert off["use_vllm"] is False


def test_trl_accepts_the_vllm_arguments(tmp_path):
    import trl

    args = build_args(cfg("grpo", use_vllm=True, vllm_mode="server", vllm_server_base_url="http://h:8000"),
                      cuda_available=False, bf16_supported=False).trl
    built = trl.GRPOConfig(**{**args, "output_dir": str(tmp_path)})
    assert built.use_vllm and built.vllm_mode == "server" and built.vllm_server_base_url == "http://h:8000"
    assert built.vllm_max_model_length == args["vllm_max_model_length"]


def test_ppo_vllm_arguments_follow_the_config():
    train = cfg("ppo", use_vllm=True, vllm_gpu_memory_utilization=0.25, temperature=0.8, top_p=0.9, top_k=40,
                response_length=48, generation_kwargs={"repetition_penalty": 1.2, "min_p": 0.05}).train
    kwargs = vllm_generation_kwargs(train, stop_id=2, eos_id=2, trust_remote_code=False)
    assert kwargs == {
        "mode": "colocate", "server_base_url": None, "gpu_memory_utilization": 0.25, "max_model_length": train.max_length,
        "trust_remote_code": False, "temperature": 0.8, "top_p": 0.9, "top_k": 40, "repetition_penalty": 1.2,
        "max_completion_length": 48, "generation_kwargs": {"min_p": 0.05},
    }
    # PPO's stop_token: another token than EOS, or none at all (always response_length tokens)
    assert vllm_generation_kwargs(train, stop_id=7, eos_id=2, trust_remote_code=True)["generation_kwargs"]["stop_token_ids"] == [7]
    assert vllm_generation_kwargs(train, stop_id=None, eos_id=2, trust_remote_code=True)["generation_kwargs"]["ignore_eos"] is True


class FakeVLLMGeneration:
    """Stands in for TRL's VLLMGeneration: records its arguments and weight syncs, echoes a completion."""

    def __init__(self, **kwargs):
        self.kwargs = kwargs
        self.syncs = 0

    def generate(self, prompts, images, num_generations):
        assert images is None and num_generations == 1
        return prompts, [[len(p), 2] for p in prompts], None, None

    def sync_weights(self):
        self.syncs += 1


class Tok:
    eos_token_id = 2


def test_rollout_generates_after_syncing_and_pads():
    train = cfg("ppo", use_vllm=True).train
    rollout = VLLMRollout(object(), Tok(), train, stop_id=2, accelerator=object(), factory=FakeVLLMGeneration)
    assert rollout.engine.kwargs["processing_class"].__class__ is Tok
    out = rollout.generate([[5, 6, 7], [8]])
    assert out == [[3, 2], [1, 2]] and rollout.engine.syncs == 1  # weights pushed before the first generation
    rollout.generate([[1]])
    assert rollout.engine.syncs == 1
    rollout.sync_weights()
    assert rollout.engine.syncs == 2
    padded = pad_responses([[4, 5, 6], [7], []], pad_id=0)
    assert padded.tolist() == [[4, 5, 6], [7, 0, 0], [0, 0, 0]]
    assert pad_responses([], pad_id=0).shape == (0, 1)


def test_vllm_refused_where_it_cannot_run(monkeypatch):
    check_vllm(cfg("ppo").train)  # not asked for: nothing to check
    monkeypatch.setattr(vllm_rollout.importlib.util, "find_spec", lambda name, *a: None)
    with pytest.raises(VLLMUnavailable, match="train.use_vllm: vllm is not installed"):
        check_vllm(cfg("ppo", use_vllm=True).train)
    monkeypatch.setattr(vllm_rollout.importlib.util, "find_spec", lambda name, *a: object())
    with pytest.raises(VLLMUnavailable, match="colocate mode needs a CUDA device"):
        check_vllm(cfg("ppo", use_vllm=True).train, cuda=False)
    check_vllm(cfg("ppo", use_vllm=True, vllm_mode="server", vllm_server_base_url="http://h:8000").train, cuda=False)


@pytest.mark.gpu
def test_real_vllm_rollout_on_gpu():
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available() or importlib.util.find_spec("vllm") is None:
        pytest.skip("needs a CUDA device and the vllm extra")
    from aligntune_backends.models import load_model_and_tokenizer
    from aligntune_config import ModelConfig

    model, tokenizer = load_model_and_tokenizer(ModelConfig(name_or_path="embedded:smollm2-135m-instruct",
                                                            precision="bf16", use_peft=False), device="cuda")
    train = cfg("ppo", use_vllm=True, vllm_gpu_memory_utilization=0.3, response_length=16, max_length=256).train
    rollout = VLLMRollout(model, tokenizer, train, stop_id=tokenizer.eos_token_id)
    ids = tokenizer(["The capital of France is"], add_special_tokens=False)["input_ids"]
    out = rollout.generate(ids)
    assert len(out) == 1 and 1 <= len(out[0]) <= 16
