"""load_model_and_tokenizer: sources, precision, quantization, checkpointing, LoRA and clear errors."""

from __future__ import annotations

import shutil

import pytest
from aligntune_backends.models import (
    DeviceInfo,
    ModelLoadError,
    default_target_modules,
    linear_module_names,
    load_model_and_tokenizer,
    locate_model,
    resolve_precision,
)

CPU = DeviceInfo(cuda=False, bf16=False)
CUDA_BF16 = DeviceInfo(cuda=True, bf16=True)
CUDA_NO_BF16 = DeviceInfo(cuda=True, bf16=False)


def _checkpointing(model) -> bool:
    """Whether activation checkpointing is on (transformers 5 renamed the flag)."""
    flag = getattr(type(model), "is_activation_checkpointing", None)
    return model.is_activation_checkpointing if flag is not None else model.is_gradient_checkpointing


def _cuda() -> bool:
    import torch

    return torch.cuda.is_available()


# -- precision ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("precision", "device", "for_training", "expected"),
    [
        ("auto", CPU, True, "float32"),
        (None, CPU, True, "float32"),
        ("auto", CUDA_BF16, True, "bfloat16"),
        ("auto", CUDA_NO_BF16, True, "float32"),
        ("bf16", CPU, True, "bfloat16"),
        ("bfloat16", CUDA_BF16, True, "bfloat16"),
        ("fp16", CUDA_NO_BF16, True, "float16"),
        ("fp16", CPU, False, "float16"),
        ("fp32", CUDA_BF16, True, "float32"),
    ],
)
def test_precision_resolution(precision, device, for_training, expected):
    assert resolve_precision(precision, device, for_training=for_training) == expected


def test_fp16_training_on_cpu_is_refused():
    with pytest.raises(ModelLoadError, match=r"^model\.precision: fp16 training needs a CUDA device.*bf16 or fp32"):
        resolve_precision("fp16", CPU, for_training=True)


def test_bf16_on_a_cuda_device_without_bf16_is_refused():
    with pytest.raises(ModelLoadError, match=r"model\.precision: bf16 is not supported"):
        resolve_precision("bf16", CUDA_NO_BF16, for_training=True)


def test_bf16_on_cpu_loads_bf16_weights(tiny_config):
    model, _ = load_model_and_tokenizer(tiny_config(precision="bf16"), device="cpu")
    import torch

    assert model.dtype == torch.bfloat16 and model.training


# -- sources -----------------------------------------------------------------------------------------
def test_embedded_model_loads_in_train_mode(tiny_config, tiny_random_path):
    model, tokenizer = load_model_and_tokenizer(tiny_config())
    import torch

    assert type(model).__name__ == "LlamaForCausalLM" and model.training and model.dtype == torch.float32
    assert tokenizer.pad_token == "<|endoftext|>" and model.config.pad_token_id == tokenizer.pad_token_id
    model_eval, _ = load_model_and_tokenizer(tiny_config(use_peft=True), for_training=False)
    assert not model_eval.training and type(model_eval).__name__ == "LlamaForCausalLM"  # no adapters


def test_local_folder_and_pad_token_from_eos(tiny_config, tiny_random_path, tmp_path, caplog):
    import json

    folder = tmp_path / "my-model"
    shutil.copytree(tiny_random_path, folder)
    config_file = folder / "tokenizer_config.json"
    tok_config = json.loads(config_file.read_text())
    tok_config["pad_token"] = None
    config_file.write_text(json.dumps(tok_config))
    with caplog.at_level("INFO", logger="aligntune.models.loader"):
        _, tokenizer = load_model_and_tokenizer(tiny_config(name_or_path=str(folder)))
    assert locate_model(str(folder)).kind == "local"
    assert tokenizer.pad_token == tokenizer.eos_token == "<|im_end|>"
    assert "no pad token" in caplog.text


def test_missing_local_path_is_a_clear_error(tiny_config, tmp_path):
    missing = tmp_path / "nowhere" / "model"
    with pytest.raises(ModelLoadError, match=r"^model\.name_or_path: local path .*nowhere/model.* does not exist; "
                                             r"expected a folder written by save_pretrained"):
        load_model_and_tokenizer(tiny_config(name_or_path=str(missing)))
    with pytest.raises(ModelLoadError, match=r"model\.name_or_path: GGUF file .* does not exist"):
        load_model_and_tokenizer(tiny_config(name_or_path=str(tmp_path / "m.gguf")))
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelLoadError, match=r"model\.name_or_path: .*empty.* is a folder without config\.json"):
        load_model_and_tokenizer(tiny_config(name_or_path=str(tmp_path / "empty")))


def test_unknown_embedded_model_names_the_field(tiny_config):
    with pytest.raises(ModelLoadError, match=r"^model\.name_or_path: unknown embedded model 'embedded:smollm3'"):
        load_model_and_tokenizer(tiny_config(name_or_path="embedded:smollm3"))


def test_hub_id_offline_gives_a_clear_error(tiny_config):
    assert locate_model("HuggingFaceTB/SmolLM2-135M").kind == "hub"
    with pytest.raises(ModelLoadError, match=r"^model\.name_or_path: could not load .* Hub model "
                                             r"'aligntune-test/no-such-model'.*HF_HUB_OFFLINE.*embedded:tiny-random"):
        load_model_and_tokenizer(tiny_config(name_or_path="aligntune-test/no-such-model", revision="main"))


def test_local_gguf_file_is_converted_once_and_cached(tiny_config, tiny_random_path, tmp_path, monkeypatch):
    from aligntune_backends.models import gguf

    calls = []

    def fake_convert(path, out_dir, **kwargs):  # the real conversion is covered by test_models_smollm2
        calls.append(path)
        shutil.copytree(tiny_random_path, out_dir, dirs_exist_ok=True)

    monkeypatch.setattr(gguf, "convert_gguf", fake_convert)
    file = tmp_path / "model.Q4_0.gguf"
    file.write_bytes(b"GGUF")
    first = locate_model(str(file))
    second = locate_model(str(tmp_path), gguf_file="model.Q4_0.gguf")
    assert first.kind == second.kind == "gguf" and first.path == second.path and len(calls) == 1
    model, _ = load_model_and_tokenizer(tiny_config(name_or_path=str(file)))
    assert type(model).__name__ == "LlamaForCausalLM" and len(calls) == 1
    with pytest.raises(ModelLoadError, match=r"model\.gguf_file: 'other\.gguf' is not a file .*model\.Q4_0\.gguf"):
        locate_model(str(tmp_path), gguf_file="other.gguf")


# -- quantization, attention, checkpointing, kwargs -------------------------------------------------
@pytest.mark.skipif("_cuda()", reason="checks the CPU refusal")
def test_quantization_without_cuda_is_a_clear_error(tiny_config):
    for mode in ("load_in_4bit", "load_in_8bit"):
        with pytest.raises(ModelLoadError, match=rf"^model\.quantization: {mode} \(bitsandbytes\) needs a CUDA device"):
            load_model_and_tokenizer(tiny_config(quantization={mode: True}))


def test_attention_checkpointing_and_init_kwargs(tiny_config):
    model, _ = load_model_and_tokenizer(tiny_config(attn_implementation="eager", gradient_checkpointing=True,
                                                    model_init_kwargs={"max_position_embeddings": 128}))
    assert model.config._attn_implementation == "eager"
    assert _checkpointing(model) and model.config.use_cache is False
    assert model.config.max_position_embeddings == 128  # model_init_kwargs reach from_pretrained
    plain, _ = load_model_and_tokenizer(tiny_config(gradient_checkpointing=True), for_training=False)
    assert not _checkpointing(plain)


def test_num_labels_loads_a_sequence_classifier(tiny_config):
    model, tokenizer = load_model_and_tokenizer(tiny_config(num_labels=3))
    out = model(**tokenizer(["good", "bad one"], return_tensors="pt", padding=True))
    assert type(model).__name__ == "LlamaForSequenceClassification" and out.logits.shape == (2, 3)


# -- LoRA ---------------------------------------------------------------------------------------------
def test_lora_wraps_the_attention_projections_and_trains_only_adapters(tiny_config):
    import torch

    model, tokenizer = load_model_and_tokenizer(tiny_config(use_peft=True, lora_r=4, lora_alpha=8,
                                                            gradient_checkpointing=True))
    assert type(model).__name__ == "PeftModelForCausalLM"
    config = model.peft_config["default"]
    assert sorted(config.target_modules) == ["k_proj", "o_proj", "q_proj", "v_proj"]
    assert (config.r, config.lora_alpha, config.lora_dropout, config.bias) == (4, 8, 0.05, "none")
    wrapped = {n.rsplit(".", 1)[-1] for n, m in model.named_modules() if hasattr(m, "lora_A")}
    assert wrapped == {"q_proj", "k_proj", "v_proj", "o_proj"}
    trainable = [n for n, p in model.named_parameters() if p.requires_grad]
    assert trainable and all("lora_A" in n or "lora_B" in n for n in trainable)
    assert len(trainable) == 2 * 4 * 2  # A and B x 4 projections x 2 layers
    batch = tokenizer(["Hello there"], return_tensors="pt")
    model(**batch, labels=batch["input_ids"]).loss.backward()
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for n, p in model.named_parameters()
               if p.requires_grad)
    assert all(p.grad is None for n, p in model.named_parameters() if not p.requires_grad)


def test_lora_explicit_targets_and_bias(tiny_config):
    model, _ = load_model_and_tokenizer(tiny_config(use_peft=True, lora_target_modules=["gate_proj", "down_proj"],
                                                    bias="all", lora_dropout=0.1))
    wrapped = {n.rsplit(".", 1)[-1] for n, m in model.named_modules() if hasattr(m, "lora_A")}
    assert wrapped == {"gate_proj", "down_proj"}
    assert model.peft_config["default"].lora_dropout == 0.1
    all_linear, _ = load_model_and_tokenizer(tiny_config(use_peft=True, lora_target_modules="all-linear"))
    assert {n.rsplit(".", 1)[-1] for n, m in all_linear.named_modules() if hasattr(m, "lora_A")} == {
        "q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"}


def test_bad_lora_target_lists_the_model_linear_modules(tiny_config):
    with pytest.raises(ModelLoadError) as info:
        load_model_and_tokenizer(tiny_config(use_peft=True, lora_target_modules=["q_proj", "query_key_value"]))
    message = str(info.value)
    assert message.startswith("model.lora_target_modules: 'query_key_value' is not a linear module of LlamaForCausalLM")
    assert "down_proj, gate_proj, k_proj, o_proj, q_proj, up_proj, v_proj" in message
    with pytest.raises(ModelLoadError, match=r"model\.lora_target_modules: the pattern '\.\*attn_q' matches no module"):
        load_model_and_tokenizer(tiny_config(use_peft=True, lora_target_modules=".*attn_q"))


def test_default_targets_per_architecture():
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel

    gpt2 = GPT2LMHeadModel(GPT2Config(n_embd=8, n_layer=1, n_head=2, vocab_size=16, n_positions=8))
    assert linear_module_names(gpt2) == ["c_attn", "c_fc", "c_proj"]
    assert default_target_modules(gpt2) == ["c_attn", "c_proj"]
    mlp = torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.ReLU(), torch.nn.Linear(2, 2))
    assert default_target_modules(mlp) == "all-linear"


# -- Hub arguments (no network: only the from_pretrained arguments are checked) ---------------------
def test_hub_from_pretrained_arguments(tiny_config):
    import torch
    from aligntune_backends.models.loader import _model_kwargs
    from aligntune_backends.models.resolve import ModelLocation

    config = tiny_config(name_or_path="owner/model-GGUF", gguf_file="m.Q4_0.gguf", revision="v1.0",
                         trust_remote_code=False, device_map={"": "cpu"}, max_memory={"0": "20GB", "cpu": "8GB"},
                         model_init_kwargs={"low_cpu_mem_usage": True})
    kwargs = _model_kwargs(config, ModelLocation("hub", "owner/model-GGUF", gguf_file="m.Q4_0.gguf"), "bfloat16",
                           None)
    assert kwargs["revision"] == "v1.0" and kwargs["gguf_file"] == "m.Q4_0.gguf"
    assert kwargs["trust_remote_code"] is False and kwargs["dtype"] is torch.bfloat16
    assert kwargs["quantization_config"].dequantize is True
    assert kwargs["device_map"] == {"": "cpu"} and kwargs["max_memory"] == {0: "20GB", "cpu": "8GB"}
    assert kwargs["low_cpu_mem_usage"] is True and "attn_implementation" not in kwargs
    local = _model_kwargs(tiny_config(revision="v1.0"), ModelLocation("local", "/m"), "float32", None)
    assert "revision" not in local and "gguf_file" not in local and "device_map" not in local


def test_tokenizer_name_or_path(tiny_config, tiny_random_path, tmp_path):
    _, tokenizer = load_model_and_tokenizer(tiny_config(tokenizer_name_or_path=str(tiny_random_path)),
                                            for_training=False)
    assert len(tokenizer) == 2330
    with pytest.raises(ModelLoadError, match=r"^model\.tokenizer_name_or_path: local path .*no-tok.* does not exist"):
        load_model_and_tokenizer(tiny_config(tokenizer_name_or_path=str(tmp_path / "no-tok")))


@pytest.mark.skipif("_cuda()", reason="checks the CPU refusal")
def test_asking_for_cuda_without_cuda_is_a_clear_error(tiny_config):
    with pytest.raises(ModelLoadError, match=r"^device: 'cuda:0' asks for CUDA, but no CUDA device is available"):
        load_model_and_tokenizer(tiny_config(), device="cuda:0")
    with pytest.raises(ModelLoadError, match=r"'cuda' asks for CUDA"):
        load_model_and_tokenizer(tiny_config(device_map="cuda"))
