"""Model wrappers of the spec: PolicyModel, ReferenceModel, ValueModel.

They wrap loaded transformers models with the operations RL needs, using the same code PPO trains with
(``aligntune_backends.ppo.models``): sequences are a left-padded prompt followed by the completion, so
completion token ``t`` is predicted at position ``context_length + t - 1``.

- :class:`PolicyModel`: generation (through :class:`aligntune.rollout.RolloutEngine`) and per-token
  log-probabilities of completions.
- :class:`ReferenceModel`: the reference policy: the policy with its LoRA adapters disabled when it is a
  PEFT model (no copy), else a frozen deep copy taken at construction; log-probabilities without gradients.
- :class:`ValueModel`: a scalar value head on a critic backbone (PPO's critic); per-token values.

torch and transformers are imported when these are used, not when ``aligntune`` is imported.
"""

from __future__ import annotations

from typing import Any

from aligntune_config import ModelConfig


def _model_config(model: str | ModelConfig | dict, **fields: Any) -> ModelConfig:
    if isinstance(model, ModelConfig):
        return model.model_copy(update=fields) if fields else model
    if isinstance(model, dict):
        return ModelConfig.model_validate({**model, **fields})
    return ModelConfig.model_validate({"name_or_path": model, **fields})


def encode_pairs(tokenizer: Any, prompts: list[Any], completions: list[str], device: Any) -> dict[str, Any]:
    """``input_ids``/``attention_mask`` of left-padded prompts followed by right-padded completions, the
    ``context_length`` (padded prompt length), the completion ids ``responses`` and their ``response_mask``."""
    import torch
    from aligntune_backends.ppo.rollout import prompt_text

    if len(prompts) != len(completions):
        raise ValueError(f"{len(prompts)} prompts for {len(completions)} completions; give one prompt per completion")
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    p_ids = [tokenizer(prompt_text(p, tokenizer), add_special_tokens=False)["input_ids"] for p in prompts]
    c_ids = [tokenizer(c, add_special_tokens=False)["input_ids"] for c in completions]
    if any(not ids for ids in p_ids):
        raise ValueError("an empty prompt: every completion needs a prompt of at least one token")
    P = max(len(x) for x in p_ids)
    T = max(1, max(len(x) for x in c_ids))
    ids = torch.full((len(prompts), P + T), pad, dtype=torch.long)
    attention = torch.zeros((len(prompts), P + T), dtype=torch.long)
    for i, (p, c) in enumerate(zip(p_ids, c_ids)):
        ids[i, P - len(p):P] = torch.tensor(p)
        attention[i, P - len(p):P] = 1
        if c:
            ids[i, P:P + len(c)] = torch.tensor(c)
            attention[i, P:P + len(c)] = 1
    return {"input_ids": ids.to(device), "attention_mask": attention.to(device), "context_length": P,
            "responses": ids[:, P:].to(device), "response_mask": attention[:, P:].to(device)}


def _device(model: Any) -> Any:
    return next(model.parameters()).device


def completion_logprobs(model: Any, tokenizer: Any, prompts: list[Any], completions: list[str],
                        temperature: float = 1.0) -> tuple[Any, Any]:
    """(log π(token) of each completion token ``[B, T]``, the mask of real tokens ``[B, T]``); padded
    positions are 0."""
    from aligntune_backends.ppo.models import forward_logits, token_logprobs

    batch = encode_pairs(tokenizer, prompts, completions, _device(model))
    logits = forward_logits(model, batch["input_ids"], batch["attention_mask"], batch["context_length"], temperature)
    mask = batch["response_mask"]
    return token_logprobs(logits, batch["responses"]) * mask, mask


class PolicyModel:
    """The policy π: a causal LM and its tokenizer. ``from_pretrained(name_or_config)`` loads one the way
    training does (embedded models, local folders, GGUF, Hub ids; LoRA when ``use_peft``)."""

    def __init__(self, model: Any, tokenizer: Any):
        self.model, self.tokenizer = model, tokenizer

    @classmethod
    def from_pretrained(cls, model: str | ModelConfig | dict, *, for_training: bool = True, device: Any = None,
                        **fields: Any) -> PolicyModel:
        """Load ``model`` (a name, a ModelConfig or its fields; ``fields`` override ModelConfig fields)."""
        from aligntune_backends.models import load_model_and_tokenizer

        loaded, tokenizer = load_model_and_tokenizer(_model_config(model, **fields), for_training=for_training,
                                                     device=device)
        return cls(loaded, tokenizer)

    @property
    def device(self) -> Any:
        return _device(self.model)

    @property
    def is_peft(self) -> bool:
        from aligntune_backends.ppo.models import is_peft_model

        return is_peft_model(self.model)

    def generate(self, prompts: list[Any], **sampling: Any) -> list[str]:
        """One completion per prompt (``sampling``: RolloutEngine settings such as max_new_tokens,
        temperature (0 = greedy), top_p, top_k)."""
        from .rollout import RolloutEngine

        return RolloutEngine(self, **sampling).generate(prompts).completions

    def logprobs(self, prompts: list[Any], completions: list[str], temperature: float = 1.0) -> tuple[Any, Any]:
        """Per-token log-probabilities of ``completions`` after ``prompts`` (with gradients): ``[B, T]`` and the mask."""
        return completion_logprobs(self.model, self.tokenizer, prompts, completions, temperature)

    def sequence_logprobs(self, prompts: list[Any], completions: list[str]) -> Any:
        """log π(completion | prompt) summed over tokens: ``[B]``."""
        logps, _ = self.logprobs(prompts, completions)
        return logps.sum(-1)

    def train(self, mode: bool = True) -> PolicyModel:
        self.model.train(mode)
        return self

    def eval(self) -> PolicyModel:
        return self.train(False)

    def parameters(self) -> Any:
        return self.model.parameters()

    def save(self, path: str) -> str:
        """Save the model (adapters only for PEFT) and tokenizer under ``path``."""
        self.model.save_pretrained(path)
        self.tokenizer.save_pretrained(path)
        return path


class ReferenceModel:
    """π_ref for a policy: its adapters disabled (PEFT; ``shares_policy`` is true, nothing is copied) or a
    frozen copy of the policy's weights at construction. Gradients never flow into it."""

    def __init__(self, policy: PolicyModel | Any, tokenizer: Any = None):
        from aligntune_backends.ppo.models import Reference

        model = policy.model if isinstance(policy, PolicyModel) else policy
        self.tokenizer = policy.tokenizer if isinstance(policy, PolicyModel) else tokenizer
        if self.tokenizer is None:
            raise ValueError("ReferenceModel needs a tokenizer: pass a PolicyModel or tokenizer=")
        self._reference = Reference(model)

    @property
    def shares_policy(self) -> bool:
        return self._reference.shares_policy

    def module(self) -> Any:
        """A context manager yielding the module to run as π_ref."""
        return self._reference.model()

    def logprobs(self, prompts: list[Any], completions: list[str], temperature: float = 1.0) -> tuple[Any, Any]:
        import torch

        with torch.no_grad(), self.module() as model:
            return completion_logprobs(model, self.tokenizer, prompts, completions, temperature)


def _value_model_class() -> type:
    from aligntune_backends.ppo.models import ValueModel as CriticModule

    return CriticModule


class ValueModel:
    """V(s_t): PPO's critic (a zero-initialised ``Linear(hidden, 1)`` head on a separate backbone).
    ``from_pretrained`` loads the backbone like the policy (LoRA when ``use_peft``); ``module`` is the
    ``torch.nn.Module`` to optimise."""

    def __init__(self, backbone: Any, tokenizer: Any):
        from aligntune_backends.ppo.models import hidden_size_of

        self.module = _value_model_class()(backbone, hidden_size_of(backbone))
        self.tokenizer = tokenizer

    @classmethod
    def from_pretrained(cls, model: str | ModelConfig | dict, **fields: Any) -> ValueModel:
        from aligntune_backends.models import load_model_and_tokenizer

        backbone, tokenizer = load_model_and_tokenizer(_model_config(model, **fields), for_training=True)
        return cls(backbone, tokenizer)

    @property
    def head(self) -> Any:
        return self.module.head

    def parameters(self) -> Any:
        return self.module.parameters()

    def values(self, prompts: list[Any], completions: list[str]) -> tuple[Any, Any]:
        """Values at the positions predicting each completion token ``[B, T]`` (0 at padding) and the mask."""
        batch = encode_pairs(self.tokenizer, prompts, completions, _device(self.module.backbone))
        values = self.module(batch["input_ids"], batch["attention_mask"], batch["context_length"])
        return values * batch["response_mask"], batch["response_mask"]


__all__ = ["PolicyModel", "ReferenceModel", "ValueModel", "completion_logprobs", "encode_pairs"]
