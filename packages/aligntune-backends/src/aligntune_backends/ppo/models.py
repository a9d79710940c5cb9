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
    no second copy of the weights. Otherwise it is a frozen deep copy of the policy taken before training
    (``frozen`` is None for PEFT)."""

    def __init__(self, policy: Any):
        self.policy = policy
        self.shares_policy = is_peft_model(policy)
        self.frozen: Any = None
        if not self.shares_policy:
            self.frozen = copy.deepcopy(policy).eval()
            for param in self.frozen.parameters():
                param.requires_grad_(False)
            logger.info("reference model: frozen copy of the (non-PEFT) policy")
        else:
            logger.info("reference model: the policy with its LoRA adapters disabled (no copy)")

    @contextlib.contextmanager
    def model(self) -> Iterator[Any]:
        """The module to run as π_ref, valid inside the ``with`` block."""
        if self.shares_policy:
            with self.policy.disable_adapter():
                yield self.policy
        else:
            yield self.frozen


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


def load_value_model(model_config: Any, device: torch.device) -> ValueModel:
    """A critic from the policy's family: ``model_config`` loaded for training (LoRA when ``use_peft``)
    with a fresh value head."""
    from ..models import load_model_and_tokenizer

    backbone, _ = load_model_and_tokenizer(model_config, for_training=True)
    backbone.to(device)
    logger.info("value model: %s with a value head", model_config.name_or_path)
    return ValueModel(backbone, hidden_size_of(backbone))


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
