"""The models around a PPO policy: the reference (adapter-disabled policy for PEFT, a frozen copy
otherwise), the value model (a scalar head on a separate critic backbone) and the log-probabilities /
values of response tokens.

Sequences are ``query + response`` with the queries left-padded; ``context_length`` is the padded query
length, so response token ``t`` sits at position ``context_length + t`` and is predicted at position
``context_length + t - 1``."""

from __future__ import annotations

import contextlib
import copy
import logging
from collections.abc import Iterator
from typing import Any

import torch
from torch import nn

logger = logging.getLogger("aligntune.backends.ppo")


def is_peft_model(model: Any) -> bool:
    """Whether ``model`` is a PEFT model whose adapters can be switched off."""
    try:
        from peft import PeftModel
    except ImportError:
        return False
    return isinstance(model, PeftModel) and hasattr(model, "disable_adapter")


class Reference:
    """The reference policy π_ref.

    For a PEFT policy it is the policy itself with its adapters disabled (``model.disable_adapter()``):
    no second copy of the weights. Otherwise it is a frozen deep copy of the policy taken before training.
    ``separate`` (a model loaded apart, e.g. for ``model.force_use_ref_model``) replaces both; ``frozen``
    is the reference's own weights, None when it shares the policy's."""

    def __init__(self, policy: Any, separate: Any = None):
        self.policy = policy
        self.shares_policy = separate is None and is_peft_model(policy)
        self.frozen: Any = None
        if separate is not None:
            self.frozen = separate.eval()
            logger.info("reference model: a separately loaded copy (model.force_use_ref_model)")
        elif not self.shares_policy:
            self.frozen = copy.deepcopy(policy).eval()
            logger.info("reference model: frozen copy of the (non-PEFT) policy")
        else:
            logger.info("reference model: the policy with its LoRA adapters disabled (no copy)")
        if self.frozen is not None:
            for param in self.frozen.parameters():
                param.requires_grad_(False)

    @contextlib.contextmanager
    def model(self) -> Iterator[Any]:
        """The module to run as π_ref, valid inside the ``with`` block."""
        if self.shares_policy:
            with self.policy.disable_adapter():
                yield self.policy
        else:
            yield self.frozen


def load_separate_reference(model_config: Any, device: torch.device) -> Any:
    """A reference model loaded apart from a PEFT policy (``model.force_use_ref_model``): ``model`` without
    adapters, ``model.ref_model_init_kwargs`` added to its ``from_pretrained`` arguments."""
    from ..models import load_model_and_tokenizer

    init_kwargs = {**model_config.model_init_kwargs, **model_config.ref_model_init_kwargs}
    ref_config = model_config.model_copy(update={"use_peft": False, "model_init_kwargs": init_kwargs})
    ref, _ = load_model_and_tokenizer(ref_config, for_training=False)
    return ref.to(device)


def disable_dropout(model: nn.Module) -> None:
    """Zero every dropout of ``model`` (``nn.Dropout`` modules, LoRA's included, and the attention dropout
    that attention modules apply functionally), as TRL's PPO does: the model stays in train mode (gradient
    checkpointing keeps working) while old and new log-probabilities agree before an update."""
    for module in model.modules():
        if isinstance(module, nn.Dropout):
            module.p = 0.0
        if isinstance(getattr(module, "attention_dropout", None), float):
            module.attention_dropout = 0.0


def position_ids(attention_mask: torch.Tensor) -> torch.Tensor:
    """Positions that skip left padding, as ``generate`` computes them."""
    return (attention_mask.long().cumsum(-1) - 1).clamp(min=0)


def forward_logits(model: Any, input_ids: torch.Tensor, attention_mask: torch.Tensor, context_length: int,
                   temperature: float) -> torch.Tensor:
    """Logits (divided by the sampling temperature) that predict each response token: ``[B, T, V]``."""
    out = model(input_ids=input_ids, attention_mask=attention_mask, position_ids=position_ids(attention_mask),
                use_cache=False)
    logits = out.logits[:, context_length - 1:-1].float()
    return logits / (temperature + 1e-7)


def token_logprobs(logits: torch.Tensor, tokens: torch.Tensor) -> torch.Tensor:
    """log π(token) of each response token from its logits: ``[B, T]``."""
    return torch.gather(torch.log_softmax(logits, dim=-1), 2, tokens.unsqueeze(-1)).squeeze(-1)


class ValueModel(nn.Module):
    """V(s_t): a scalar head ``nn.Linear(hidden, 1)`` on the last hidden state of a critic backbone.

    The backbone is a separate model of the policy's family (loaded from the same ``name_or_path``,
    with LoRA when the policy uses it), so value gradients never disturb the policy and the critic can
    be trained at the same learning rate without a shared-trunk trade-off. The head starts at zero, so
    a random critic adds no noise to the first advantages."""

    def __init__(self, backbone: Any, hidden_size: int):
        super().__init__()
        self.backbone = backbone
        self.head = nn.Linear(hidden_size, 1)
        nn.init.zeros_(self.head.weight)  # V = 0 at first: the first advantages are the (whitened) returns
        nn.init.zeros_(self.head.bias)
        param = next(backbone.parameters())
        self.head.to(device=param.device, dtype=torch.float32)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, context_length: int) -> torch.Tensor:
        """Values at the positions that predict each response token: ``[B, T]``."""
        out = self.backbone(input_ids=input_ids, attention_mask=attention_mask,
                            position_ids=position_ids(attention_mask), output_hidden_states=True, use_cache=False)
        hidden = out.hidden_states[-1][:, context_length - 1:-1].float()
        return self.head(hidden).squeeze(-1)


def hidden_size_of(model: Any) -> int:
    """The hidden size of a transformers model (its config's ``hidden_size``, ``n_embd`` or ``d_model``)."""
    config = model.config
    for name in ("hidden_size", "n_embd", "d_model"):
        value = getattr(config, name, None)
        if value is None and hasattr(config, "get_text_config"):
            value = getattr(config.get_text_config(), name, None)
        if value is not None:
            return int(value)
    raise ValueError(f"cannot find the hidden size of {type(model).__name__} (config has no hidden_size, n_embd "
                     "or d_model)")


def value_model_source(model_config: Any) -> str | None:
    """``model.reward_value_model`` when the user set it; None means the critic is the policy's own model.

    The field's spec default (a Hub model) is not loaded unasked: a critic must read the policy's token
    ids, so a default of another family would rarely fit."""
    if "reward_value_model" in model_config.model_fields_set and model_config.reward_value_model:
        return str(model_config.reward_value_model)
    return None


def is_sequence_classifier(location: Any) -> bool:
    """Whether the checkpoint at ``location`` (a ModelLocation) is a ``*ForSequenceClassification``."""
    from transformers import AutoConfig

    kwargs = {"gguf_file": location.gguf_file} if location.gguf_file else {}
    try:
        config = AutoConfig.from_pretrained(location.path, **kwargs)
    except OSError:  # unreachable Hub id: the loader raises the explained error
        return False
    return any(str(a).endswith("ForSequenceClassification") for a in (config.architectures or []))


def classifier_head(model: Any) -> nn.Linear | None:
    """The single-output classification head (``score`` / ``classifier``) of a sequence classifier (its
    original weights when PEFT wraps it), or None."""
    for name, module in model.named_modules():
        parts = name.split(".")
        if isinstance(module, nn.Linear) and ("score" in parts or "classifier" in parts) and module.out_features == 1:
            return module
    return None


def check_same_vocabulary(policy_tokenizer: Any, other_tokenizer: Any, field: str, name: str) -> None:
    """A critic reads the policy's token ids: its tokenizer must be the policy's."""
    if policy_tokenizer.get_vocab() != other_tokenizer.get_vocab():
        raise ValueError(f"{field}={name!r} has another vocabulary than the policy's tokenizer (sizes "
                         f"{len(other_tokenizer)} vs {len(policy_tokenizer)}); the value model reads the policy's "
                         "token ids, so it must be of the policy's family (same tokenizer)")


def load_value_model(model_config: Any, device: torch.device, policy_tokenizer: Any = None) -> ValueModel:
    """The critic: ``model.reward_value_model`` when set (a causal LM, or a sequence classifier such as
    a reward model, whose single-output head then initialises the value head), else ``model`` itself;
    loaded for training (LoRA when ``use_peft``) with a value head."""
    from ..models import load_model_and_tokenizer, load_tokenizer, locate_model

    source = value_model_source(model_config)
    classifier = False
    critic_config = model_config
    if source is not None:
        classifier = is_sequence_classifier(locate_model(source, field="model.reward_value_model"))
        critic_config = model_config.model_copy(update={
            "name_or_path": source, "gguf_file": None, "sft_path": None, "revision": None,
            "tokenizer_name_or_path": None, "num_labels": 1 if classifier else None})
    if "value_model_quantization" in model_config.model_fields_set:
        critic_config = critic_config.model_copy(update={"quantization": model_config.value_model_quantization})
    if source is not None and policy_tokenizer is not None:  # before loading any weights
        check_same_vocabulary(policy_tokenizer, load_tokenizer(critic_config), "model.reward_value_model", source)
    backbone, _ = load_model_and_tokenizer(critic_config, for_training=True)
    backbone.to(device)
    value = ValueModel(backbone, hidden_size_of(backbone))
    head = classifier_head(backbone) if classifier else None
    if head is not None:
        with torch.no_grad():
            value.head.weight.copy_(head.weight.float())
            if head.bias is not None:
                value.head.bias.copy_(head.bias.float())
    logger.info("value model: %s with a value head%s", critic_config.name_or_path,
                " initialised from its classification head" if head is not None else " (zero)")
    return value


def reward_model_source(model_config: Any) -> tuple[str, str] | None:
    """(field, name) of the reward model the config names: ``reward_path``, ``reward_model_name`` or a
    pretrained ``reward_model_source`` (read by :func:`..trl.reward_models.reward_source`); None when it
    names none. Refuses what is not built here."""
    from ..trl.reward_models import reward_source

    found = reward_source(model_config)
    if found is None:
        return None
    kind, value = found
    if kind == "custom_trained":
        raise ValueError("model.reward_model_source: training a reward model inside a PPO run (custom_trained, "
                         "fine_tune_with_rewards) is not built; train it first (algo: reward_model) and give its "
                         "folder as model.reward_path")
    if model_config.reward_path:
        return "model.reward_path", str(value)
    if model_config.reward_model_name:
        return "model.reward_model_name", str(value)
    return f"model.reward_model_source.{'model_path' if kind == 'local' else 'model_name'}", str(value)


def load_reward_model(model_config: Any, field: str, name: str, device: torch.device) -> tuple[Any, Any]:
    """A sequence-classification reward model (one logit) and its tokenizer, frozen, on ``model.reward_device``
    (``auto``: the policy's device). The precision follows ``model.precision``."""
    from ..models import load_model_and_tokenizer, locate_model

    locate_model(name, field=field)
    rm_config = model_config.model_copy(update={
        "name_or_path": name, "gguf_file": None, "sft_path": None, "revision": None, "tokenizer_name_or_path": None,
        "num_labels": 1, "use_peft": False, "quantization": model_config.reward_model_quantization,
        "device_map": None, "max_memory": None})
    model, tokenizer = load_model_and_tokenizer(rm_config, for_training=False)
    target = device if model_config.reward_device in (None, "auto") else torch.device(model_config.reward_device)
    if not rm_config.quantization.enabled:
        model.to(target)
    for param in model.parameters():
        param.requires_grad_(False)
    logger.info("reward model: %s (%s) on %s", name, field, target)
    return model, tokenizer


@torch.no_grad()
def reward_model_scores(reward_model: Any, reward_tokenizer: Any, texts: list[str], max_length: int) -> list[float]:
    """Scores of a sequence-classification reward model (logit 0) for full ``prompt + completion`` texts."""
    device = next(reward_model.parameters()).device
    if reward_tokenizer.pad_token is None and reward_tokenizer.eos_token is not None:
        reward_tokenizer.pad_token = reward_tokenizer.eos_token
    batch = reward_tokenizer(texts, return_tensors="pt", padding=True, truncation=True, max_length=max_length)
    batch = {k: v.to(device) for k, v in batch.items()}
    was_training = reward_model.training
    reward_model.eval()
    logits = reward_model(**batch).logits
    reward_model.train(was_training)
    return logits[:, 0].float().tolist()
