"""RolloutEngine: batched sampling of completions from a policy with given sampling settings, and
optional scoring with rewards.

Prompts are strings or chat conversations (rendered with the tokenizer's chat template, as PPO does:
``aligntune_backends.ppo.rollout.prompt_text``), left-padded, generated in batches of ``batch_size``
prompts with ``num_generations`` samples each, and cut at the stop token (``"eos"``: the tokenizer's EOS).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

logger = logging.getLogger("aligntune.rollout")


@dataclass
class RolloutBatch:
    """Samples: ``completions[i]`` answers ``prompts[i]`` (prompt ``prompt_index[i]`` of the input)."""

    prompts: list[str]
    completions: list[str]
    prompt_index: list[int]
    completion_ids: list[list[int]]
    ended: list[bool]  # the completion reached the stop token (else it hit max_new_tokens)
    scores: list[float] | None = None
    columns: dict[str, list[Any]] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.completions)


class RolloutEngine:
    """Samples completions from ``policy`` (a :class:`aligntune.PolicyModel` or a transformers model with
    ``tokenizer=``).

    ``temperature`` 0 means greedy decoding (then ``num_generations`` must be 1). ``reward``: a reward
    name or spec string (``RewardRegistry.build``), a RewardConfig, or a callable
    ``fn(completions, prompts=..., references=..., **columns) -> scores``; when given, batches are scored.
    """

    def __init__(self, policy: Any, tokenizer: Any = None, *, max_new_tokens: int = 64, temperature: float = 1.0,
                 top_p: float = 1.0, top_k: int | None = None, num_generations: int = 1, batch_size: int = 8,
                 max_prompt_length: int | None = None, stop_token: str | None = "eos", seed: int | None = None,
                 reward: Any = None, generation_kwargs: Mapping[str, Any] | None = None):
        self.model = getattr(policy, "model", policy)
        self.tokenizer = tokenizer if tokenizer is not None else getattr(policy, "tokenizer", None)
        if self.tokenizer is None:
            raise ValueError("RolloutEngine needs a tokenizer: pass a PolicyModel or tokenizer=")
        checks = {"max_new_tokens": max_new_tokens, "num_generations": num_generations, "batch_size": batch_size}
        for name, value in checks.items():
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"RolloutEngine {name} must be a positive integer, got {value!r}")
        if temperature < 0:
            raise ValueError(f"RolloutEngine temperature must be >= 0 (0 = greedy), got {temperature}")
        if temperature == 0 and num_generations > 1:
            raise ValueError("RolloutEngine: greedy decoding (temperature 0) gives identical samples; "
                             f"num_generations must be 1, got {num_generations}")
        self.max_new_tokens, self.temperature, self.top_p, self.top_k = max_new_tokens, temperature, top_p, top_k
        self.num_generations, self.batch_size, self.seed = num_generations, batch_size, seed
        self.max_prompt_length = max_prompt_length
        self.generation_kwargs = dict(generation_kwargs or {})
        from aligntune_backends.ppo.rollout import stop_token_id

        self.stop_id = stop_token_id(self.tokenizer, stop_token)
        self.pad_id = self.tokenizer.pad_token_id if self.tokenizer.pad_token_id is not None else self.tokenizer.eos_token_id
        self.reward = self._reward(reward)

    @classmethod
    def from_config(cls, policy: Any, train: Any, tokenizer: Any = None, **overrides: Any) -> RolloutEngine:
        """Sampling settings of a TrainingConfig (response_length, temperature, top_p, top_k,
        num_generations, max_prompt_length, stop_token, generation_kwargs, seed)."""
        settings = {"max_new_tokens": train.response_length, "temperature": train.temperature, "top_p": train.top_p,
                    "top_k": train.top_k, "num_generations": train.num_generations or 1,
                    "max_prompt_length": train.max_prompt_length, "stop_token": train.stop_token,
                    "generation_kwargs": train.generation_kwargs, "seed": train.seed}
        return cls(policy, tokenizer, **{**settings, **overrides})

    @staticmethod
    def _reward(reward: Any) -> Callable[..., Sequence[float]] | None:
        if reward is None:
            return None
        if callable(reward) and not isinstance(reward, str):
            return reward
        from .registries import RewardRegistry

        return RewardRegistry.build(reward)

    def _generation_config(self) -> dict[str, Any]:
        kwargs: dict[str, Any] = {"max_new_tokens": self.max_new_tokens, "pad_token_id": self.pad_id,
                                  "eos_token_id": self.stop_id, "num_return_sequences": self.num_generations}
        if self.temperature == 0:
            kwargs["do_sample"] = False
        else:
            kwargs.update(do_sample=True, temperature=self.temperature, top_p=self.top_p,
                          top_k=self.top_k if self.top_k is not None else 0)
        kwargs.update(self.generation_kwargs)
        return kwargs

    def _encode(self, texts: list[str]) -> dict[str, Any]:
        side = self.tokenizer.padding_side
        self.tokenizer.padding_side = "left"
        try:
            batch = self.tokenizer(texts, return_tensors="pt", padding=True, add_special_tokens=False,
                                   truncation=self.max_prompt_length is not None, max_length=self.max_prompt_length)
        finally:
            self.tokenizer.padding_side = side
        device = next(self.model.parameters()).device
        return {k: batch[k].to(device) for k in ("input_ids", "attention_mask")}

    def generate(self, prompts: Sequence[Any] | Mapping[str, Sequence[Any]]) -> RolloutBatch:
        """Sample ``num_generations`` completions per prompt. ``prompts``: a list of prompts, or a column
        dict with a ``prompt`` column (other columns, e.g. ``answer``, go to the reward and are repeated
        per sample in ``RolloutBatch.columns``)."""
        import torch
        from aligntune_backends.ppo.rollout import prompt_text

        columns = dict(prompts) if isinstance(prompts, Mapping) else {"prompt": list(prompts)}
        if "prompt" not in columns:
            raise KeyError(f"RolloutEngine.generate: rows need a 'prompt' column, got {sorted(columns)}")
        raw = list(columns.pop("prompt"))
        texts = [prompt_text(p, self.tokenizer) for p in raw]
        if self.seed is not None:
            torch.manual_seed(self.seed)
        out = RolloutBatch([], [], [], [], [], columns={k: [] for k in columns})
        was_training = self.model.training
        self.model.eval()
        try:
            for start in range(0, len(texts), self.batch_size):
                chunk = texts[start:start + self.batch_size]
                batch = self._encode(chunk)
                with torch.no_grad():
                    generated = self.model.generate(**batch, **self._generation_config())
                responses = generated[:, batch["input_ids"].size(1):]
                for row, ids in enumerate(responses.tolist()):
                    index = start + row // self.num_generations
                    ended = self.stop_id is not None and self.stop_id in ids
                    ids = ids[:ids.index(self.stop_id) + 1] if ended else [t for t in ids if t != self.pad_id]
                    out.prompts.append(texts[index])
                    out.prompt_index.append(index)
                    out.completion_ids.append(ids)
                    out.ended.append(ended)
                    out.completions.append(self.tokenizer.decode(ids, skip_special_tokens=True))
                    for key, values in columns.items():
                        out.columns[key].append(values[index])
        finally:
            self.model.train(was_training)
        if self.reward is not None:
            out.scores = self.score(out)
        return out

    def score(self, batch: RolloutBatch) -> list[float]:
        """The reward of every sample (``reference`` column, else ``answer``, as references)."""
        if self.reward is None:
            raise ValueError("RolloutEngine.score: no reward was given (reward=)")
        columns = dict(batch.columns)
        references = columns.pop("reference", None)
        if references is None:
            references = columns.get("answer")
        scores = self.reward(batch.completions, prompts=batch.prompts, references=references, **columns)
        if len(scores) != len(batch):
            raise ValueError(f"reward returned {len(scores)} scores for {len(batch)} completions")
        return [float(s) for s in scores]


__all__ = ["RolloutBatch", "RolloutEngine"]
