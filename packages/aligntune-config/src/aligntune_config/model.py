"""ModelConfig: which model to train and how to load it."""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import Field, model_validator

from ._base import StrictModel
from .enums import PrecisionType
from .rewards import RewardModelSourceConfig

AttnImplementation = Literal["auto", "eager", "sdpa", "flash_attention_2", "flash_attention_3", "flex_attention"]


class QuantizationConfig(StrictModel):
    """bitsandbytes quantization (CUDA only). Written as a mapping, e.g. ``{"load_in_4bit": true}``."""

    load_in_4bit: bool = Field(False, description="Load weights in 4 bit (QLoRA when combined with use_peft).")
    load_in_8bit: bool = Field(False, description="Load weights in 8 bit (LLM.int8).")
    bnb_4bit_quant_type: Literal["nf4", "fp4"] = Field("nf4", description="4-bit data type.")
    bnb_4bit_compute_dtype: Literal["bf16", "fp16", "fp32", "auto"] = Field(
        "auto", description="Compute dtype of 4-bit layers; auto follows the model precision."
    )
    bnb_4bit_use_double_quant: bool = Field(True, description="Quantize the quantization constants too.")
    llm_int8_threshold: float = Field(6.0, gt=0, description="Outlier threshold of LLM.int8.")

    @model_validator(mode="after")
    def _one_mode(self) -> "QuantizationConfig":
        if self.load_in_4bit and self.load_in_8bit:
            raise ValueError("load_in_4bit and load_in_8bit are exclusive; choose one")
        return self

    @property
    def enabled(self) -> bool:
        return self.load_in_4bit or self.load_in_8bit


class ModelConfig(StrictModel):
    """The policy model (and, for RL, where its reward, value and reference models come from).

    Fields left unset whose default differs between SFT and RL in the spec are filled when the model
    config is placed in a :class:`UnifiedConfig` (see ``resolve.TYPE_DEFAULTS``).
    """

    _aliases: ClassVar[dict[str, str]] = {
        "model_name": "name_or_path",
        "model_name_or_path": "name_or_path",
        "peft_enabled": "use_peft",
        "lora_rank": "lora_r",
        "target_modules": "lora_target_modules",
        "lora_bias": "bias",
        "use_gradient_checkpointing": "gradient_checkpointing",
    }

    name_or_path: str = Field(
        ...,
        min_length=1,
        description="Hugging Face model id, local folder, GGUF file, or embedded model "
        "(`embedded:smollm2-135m-instruct`, `embedded:tiny-random`).",
    )
    revision: str | None = Field(None, description="Hub revision (branch, tag or commit) of the model.")
    gguf_file: str | None = Field(None, description="GGUF file inside name_or_path to load (converted by transformers).")
    tokenizer_name_or_path: str | None = Field(None, description="Tokenizer to use when it differs from the model's.")
    sft_path: str | None = Field(None, description="SFT checkpoint to start RL from (replaces name_or_path weights).")
    reward_path: str | None = Field(None, description="Local path of a reward model (sequence classification).")
    reward_model_name: str | None = Field(None, description="Hub id of a reward model (sequence classification).")
    reward_model_source: RewardModelSourceConfig | None = Field(
        None, description="Where the reward model comes from: pretrained_hf, pretrained_local or custom_trained."
    )
    precision: PrecisionType | None = Field(
        None, description="Weights/training precision. Default: bf16 for SFT, auto for RL (bf16 where the "
        "device supports it, else fp32)."
    )
    quantization: QuantizationConfig = Field(
        default_factory=QuantizationConfig, description="bitsandbytes quantization, e.g. {load_in_4bit: true}."
    )
    attn_implementation: AttnImplementation = Field("auto", description="Attention kernel.")
    gradient_checkpointing: bool | None = Field(
        None, description="Recompute activations to save memory. Default: true for SFT, false for RL. "
        "Alias: use_gradient_checkpointing; train.gradient_checkpointing sets the same thing."
    )
    max_memory: dict[str, str] | None = Field(None, description='Max memory per device, e.g. {"0": "20GB"}.')
    device_map: str | dict[str, Any] | None = Field(
        None, description='Device placement ("auto", "cpu", "cuda:0" or a module->device map). Default: auto '
        "for SFT, none (accelerate places the model) for RL."
    )
    use_unsloth: bool = Field(False, description="Run on the Unsloth backend (implies backend: unsloth).")
    max_seq_length: int = Field(2048, gt=0, description="Longest sequence the model is loaded for.")
    use_peft: bool | None = Field(
        None, description="Train LoRA adapters instead of all weights. Alias: peft_enabled. Default: false "
        "for SFT, true for RL."
    )
    lora_r: int = Field(16, gt=0, description="LoRA rank. Alias: lora_rank.")
    lora_alpha: int = Field(32, gt=0, description="LoRA alpha (scaling = alpha / r).")
    lora_dropout: float | None = Field(
        None, ge=0, lt=1, description="LoRA dropout. Default: 0.1 for SFT, 0.05 for RL."
    )
    lora_target_modules: list[str] | str | None = Field(
        None, description='Modules that get adapters (e.g. ["q_proj", "v_proj"] or "all-linear"). Alias: '
        'target_modules. Default: the model\'s attention projections for SFT; ["q_proj", "k_proj", '
        '"v_proj", "o_proj"] for RL.'
    )
    bias: Literal["none", "all", "lora_only"] = Field("none", description="Which biases are trained with LoRA.")
    num_labels: int | None = Field(None, gt=0, description="Number of labels (classification tasks).")
    model_init_kwargs: dict[str, Any] = Field(default_factory=dict, description="Extra from_pretrained arguments.")
    reward_value_model: str | None = Field(
        "meta-llama/Llama-3.2-1B-Instruct",
        description="Model the PPO value model (and, when no other reward source is given, the reward model) "
        "is initialised from.",
    )
    reward_value_loading_type: Literal["unsloth", "standard"] | None = Field(
        None, description="How the reward/value model is loaded; default follows the backend."
    )
    reward_model_quantization: QuantizationConfig = Field(
        default_factory=QuantizationConfig, description="Quantization of the reward model."
    )
    value_model_quantization: QuantizationConfig = Field(
        default_factory=QuantizationConfig, description="Quantization of the value model."
    )
    trust_remote_code: bool = Field(True, description="Allow model code from the Hub repository.")
    ref_model_init_kwargs: dict[str, Any] = Field(default_factory=dict, description="from_pretrained arguments of the reference model.")
    model_adapter_name: str | None = Field(None, description="Name of the trained adapter (PEFT).")
    ref_adapter_name: str | None = Field(None, description="Adapter used as reference (PEFT).")
    force_use_ref_model: bool = Field(
        False, description="Load a separate reference model even for a PEFT policy (instead of disabling adapters)."
    )
    disable_dropout: bool = Field(True, description="Turn dropout off in the policy and reference models (RL).")
    use_logits_to_keep: bool = Field(False, description="Compute logits only for completion tokens.")
    reward_device: Literal["auto", "cpu", "cuda"] | str = Field("auto", description="Device of the reward model.")

    @property
    def reward_source_given(self) -> bool:
        return bool(self.reward_model_name or self.reward_path or self.reward_model_source)
