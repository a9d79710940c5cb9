"""Where a model runs, in which precision, and whether it may be quantized there.

The decisions are pure functions of the config and of what the device offers (``DeviceInfo``), so they
are checked before any model is loaded and can be tested without a GPU.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aligntune_config.enums import PrecisionType

from .errors import ModelLoadError

if TYPE_CHECKING:
    from aligntune_config.model import QuantizationConfig

logger = logging.getLogger("aligntune.models.precision")

DTYPE_NAMES = {PrecisionType.BF16: "bfloat16", PrecisionType.FP16: "float16", PrecisionType.FP32: "float32"}


@dataclass(frozen=True)
class DeviceInfo:
    """What the target device offers: CUDA or not, and bf16 support there."""

    cuda: bool
    bf16: bool

    @property
    def kind(self) -> str:
        return "cuda" if self.cuda else "cpu"


def probe_device(device: Any = None, device_map: Any = None) -> DeviceInfo:
    """The device the model will run on: ``device`` when given ("cpu", "cuda:0", a torch.device), else
    CUDA when available (or named by a string ``device_map``), else CPU."""
    import torch

    cuda_available = torch.cuda.is_available()
    if device is not None:
        wants_cuda = str(device).startswith("cuda")
    elif isinstance(device_map, str) and device_map not in ("auto", "balanced", "balanced_low_0", "sequential"):
        wants_cuda = device_map.startswith("cuda")
    else:
        wants_cuda = cuda_available
    if wants_cuda and not cuda_available:
        raise ModelLoadError("device", f"{device or device_map!r} asks for CUDA, but no CUDA device is available")
    cuda = wants_cuda and cuda_available
    return DeviceInfo(cuda=cuda, bf16=bool(cuda and torch.cuda.is_bf16_supported()))


def resolve_precision(precision: PrecisionType | str | None, device: DeviceInfo, *, for_training: bool) -> str:
    """The torch dtype name (``bfloat16``, ``float16``, ``float32``) for ``precision`` on ``device``.

    ``auto`` (and unset) is bf16 where the CUDA device supports it, else fp32. bf16 is allowed on CPU
    (PyTorch implements it there); fp16 training on CPU is refused (no fp16 mixed precision on CPU);
    bf16 on a CUDA device without bf16 is refused.
    """
    value = PrecisionType(precision) if precision is not None else PrecisionType.AUTO
    if value is PrecisionType.AUTO:
        chosen = PrecisionType.BF16 if device.cuda and device.bf16 else PrecisionType.FP32
        logger.info("model.precision auto -> %s on %s", chosen.value, device.kind)
        return DTYPE_NAMES[chosen]
    if value is PrecisionType.FP16 and not device.cuda and for_training:
        raise ModelLoadError(
            "model.precision",
            "fp16 training needs a CUDA device (fp16 mixed precision is not supported on CPU); "
            "use bf16 or fp32 on CPU, or auto",
        )
    if value is PrecisionType.BF16 and device.cuda and not device.bf16:
        raise ModelLoadError("model.precision", "bf16 is not supported by this CUDA device; use fp16, fp32 or auto")
    return DTYPE_NAMES[value]


def check_quantization(quant: QuantizationConfig, device: DeviceInfo, field: str = "model.quantization") -> None:
    """Refuse bitsandbytes quantization where it cannot run (no CUDA, or bitsandbytes missing)."""
    if not quant.enabled:
        return
    mode = "load_in_4bit" if quant.load_in_4bit else "load_in_8bit"
    if not device.cuda:
        raise ModelLoadError(
            field,
            f"{mode} (bitsandbytes) needs a CUDA device and this run is on CPU; remove {field}.{mode} "
            "or run on a GPU",
        )
    import importlib.util

    if importlib.util.find_spec("bitsandbytes") is None:
        raise ModelLoadError(field, f"{mode} needs the bitsandbytes package, which is not installed")


def bitsandbytes_config(quant: QuantizationConfig, dtype_name: str) -> Any:
    """A ``transformers.BitsAndBytesConfig`` for ``quant`` (call :func:`check_quantization` first)."""
    import torch
    from transformers import BitsAndBytesConfig

    if quant.load_in_8bit:
        return BitsAndBytesConfig(load_in_8bit=True, llm_int8_threshold=quant.llm_int8_threshold)
    compute = dtype_name if quant.bnb_4bit_compute_dtype == "auto" else DTYPE_NAMES[
        PrecisionType(quant.bnb_4bit_compute_dtype)]
    return BitsAndBytesConfig(
        load_in_4bit=True,
        bnb_4bit_quant_type=quant.bnb_4bit_quant_type,
        bnb_4bit_compute_dtype=getattr(torch, compute),
        bnb_4bit_use_double_quant=quant.bnb_4bit_use_double_quant,
    )
