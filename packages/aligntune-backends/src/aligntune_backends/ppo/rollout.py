"""PPO rollouts: encode prompts, sample responses with ``generate``, cut them at the stop token and
score them (reward function and/or reward model, minus the missing-EOS penalty)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import torch

from .models import reward_model_scores

logger = logging.getLogger("aligntune.backends.ppo")


def prompt_text(prompt: Any, tokenizer: Any) -> str:
    """A prompt as the text the policy sees: strings as they are, conversations through the chat template."""
    if isinstance(prompt, str):
        return prompt
    if isinstance(prompt, list):
        return tokenizer.apply_chat_template(prompt, tokenize=False, add_generation_prompt=True)
    raise TypeError(f"a prompt must be a string or a list of chat messages, got {type(prompt).__name__}")


def stop_token_id(tokenizer: Any, stop_token: str | None) -> int | None:
    """The id generation stops at: the tokenizer's EOS for ``"eos"``, the given token's id otherwise."""
    if stop_token is None:
        return None
    if stop_token == "eos":
        if tokenizer.eos_token_id is None:
            raise ValueError('train.stop_token is "eos" but the tokenizer has no eos token; set train.stop_token')
        return int(tokenizer.eos_token_id)
    ids = tokenizer.convert_tokens_to_ids(stop_token)
    if ids is None or ids == tokenizer.unk_token_id:
        raise ValueError(f"train.stop_token {stop_token!r} is not a token of the tokenizer; use 'eos' or a single token")
    return int(ids)


def combine_rewards(reward_functions: Sequence[Callable[..., Sequence[float]]],
                    weights: Sequence[float] | None = None) -> Callable[..., list[float]]:
    """One ``reward_fn`` from several AlignTune reward functions: the weighted sum of their scores."""
    functions = list(reward_functions)
    if not functions:
        raise ValueError("combine_rewards needs at least one reward function")
    weights = list(weights) if weights is not None else [1.0] * len(functions)
    if len(weights) != len(functions):
        raise ValueError(f"{len(weights)} reward weights for {len(functions)} reward functions")

    def reward_fn(completions: Sequence[str], **kwargs: Any) -> list[float]:
        total = [0.0] * len(completions)
        for fn, weight in zip(functions, weights):
            for i, value in enumerate(fn(completions, **kwargs)):
                total[i] += weight * float(value)
        return total

    return reward_fn


@dataclass
class Rollout:
    """One batch of sampled responses. Tensors are on the policy's device."""

    query_response: torch.Tensor  # [B, P + T] left-padded query, then the response (pad after the stop)
    attention_mask: torch.Tensor  # [B, P + T]
    context_length: int  # P
    responses: torch.Tensor  # [B, T]
    response_mask: torch.Tensor  # [B, T] 1 up to and including the stop token
    ended: torch.Tensor  # [B] bool: the response contains the stop token
    scores: torch.Tensor  # [B] task score (rewards, reward model, missing-EOS penalty)
    completions: list[str]
    prompts: list[str]


class RolloutGenerator:
    """Samples and scores responses for a batch of dataset rows."""

    def __init__(self, tokenizer: Any, train: Any, reward_fn: Callable[..., Sequence[float]] | None = None,
                 reward_model: Any = None, reward_tokenizer: Any = None,
                 reward_weights: tuple[float, float] = (1.0, 1.0)):
        if reward_fn is None and reward_model is None:
            raise ValueError("PPO needs a reward: pass reward_fn, reward_model (with reward_tokenizer), or both")
        if reward_model is not None and reward_tokenizer is None:
            raise ValueError("reward_model needs its reward_tokenizer")
        self.tokenizer = tokenizer
        self.train = train
        self.reward_fn = reward_fn
        self.reward_model = reward_model
        self.reward_tokenizer = reward_tokenizer
        self.reward_weights = reward_weights
        self.stop_id = stop_token_id(tokenizer, train.stop_token)
        self.pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id

    def generation_config(self) -> dict[str, Any]:
        """The ``generate`` arguments of rollouts."""
        t = self.train
        kwargs: dict[str, Any] = {"do_sample": True, "temperature": t.temperature, "top_p": t.top_p,
                                  "top_k": t.top_k if t.top_k is not None else 0,
                                  "max_new_tokens": t.response_length, "pad_token_id": self.pad_id,
                                  "eos_token_id": self.stop_id}
        if self.stop_id is None:
            kwargs["min_new_tokens"] = t.response_length
        kwargs.update(t.generation_kwargs or {})
        return kwargs

    def encode(self, prompts: list[str], device: torch.device) -> dict[str, torch.Tensor]:
        """Left-padded prompt ids, cut to ``max_prompt_length`` tokens from the left or right (truncation_mode)."""
        side = self.tokenizer.padding_side
        self.tokenizer.padding_side = "left"
        self.tokenizer.truncation_side = "left" if self.train.truncation_mode == "keep_end" else "right"
        try:
            batch = self.tokenizer(prompts, return_tensors="pt", padding=True, truncation=True,
                                   max_length=self.train.max_prompt_length, add_special_tokens=False)
        finally:
            self.tokenizer.padding_side = side
        return {k: v.to(device) for k, v in batch.items() if k in ("input_ids", "attention_mask")}

    @torch.no_grad()
    def sample(self, policy: Any, rows: dict[str, list[Any]]) -> Rollout:
        """Generate one response per row of ``rows`` (a column dict with a ``prompt`` column) and score it."""
        device = next(policy.parameters()).device
        prompts = [prompt_text(p, self.tokenizer) for p in rows["prompt"]]
        batch = self.encode(prompts, device)
        context_length = batch["input_ids"].size(1)
        was_training = policy.training
        policy.eval()
        out = policy.generate(**batch, **self.generation_config())
        policy.train(was_training)
        responses = out[:, context_length:]
        if responses.size(1) == 0:  # nothing generated at all: one pad token so shapes stay valid
            responses = torch.full((out.size(0), 1), self.pad_id, dtype=out.dtype, device=device)
        responses, mask, ended = self.cut_at_stop(responses)
        query_response = torch.cat([batch["input_ids"], responses], dim=1)
        attention_mask = torch.cat([batch["attention_mask"], mask.to(batch["attention_mask"].dtype)], dim=1)
        completions = self.tokenizer.batch_decode([r[m.bool()] for r, m in zip(responses, mask)],
                                                  skip_special_tokens=True)
        completion_ids = [r[m.bool()].tolist() for r, m in zip(responses, mask)]
        scores = self.score(completions, prompts, rows, ended, completion_ids)
        return Rollout(query_response, attention_mask, context_length, responses, mask.float(), ended,
                       scores.to(device), completions, prompts)

    def cut_at_stop(self, responses: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Pad everything after the first stop token; the mask keeps the stop token itself."""
        length = responses.size(1)
        if self.stop_id is None:
            ended = torch.zeros(responses.size(0), dtype=torch.bool, device=responses.device)
            return responses, torch.ones_like(responses), ended
        is_stop = responses == self.stop_id
        ended = is_stop.any(dim=1)
        first = torch.where(ended, is_stop.float().argmax(dim=1), torch.full_like(ended, length, dtype=torch.long))
        positions = torch.arange(length, device=responses.device).unsqueeze(0)
        mask = (positions <= first.unsqueeze(1)).long()
        responses = torch.where(mask.bool(), responses, torch.full_like(responses, self.pad_id))
        return responses, mask, ended

    def score(self, completions: list[str], prompts: list[str], rows: dict[str, list[Any]],
              ended: torch.Tensor, completion_ids: list[list[int]] | None = None) -> torch.Tensor:
        """Weighted reward function + reward model scores, minus ``missing_eos_penalty`` where no stop token.

        ``reward_fn`` also receives ``completion_ids`` (the response token ids, stop token included) as a
        keyword column, as TRL passes it to GRPO rewards."""
        total = torch.zeros(len(completions), dtype=torch.float32)
        if self.reward_fn is not None:
            columns = {k: v for k, v in rows.items() if k != "prompt"}
            if completion_ids is not None:
                columns.setdefault("completion_ids", completion_ids)
            references = columns.pop("reference", None)
            if references is None:
                references = columns.get("answer")
            values = self.reward_fn(completions, prompts=prompts, references=references, **columns)
            if len(values) != len(completions):
                raise ValueError(f"reward_fn returned {len(values)} scores for {len(completions)} completions")
            total += self.reward_weights[0] * torch.tensor([float(v) for v in values], dtype=torch.float32)
        if self.reward_model is not None:
            texts = [p + c for p, c in zip(prompts, completions)]
            values = reward_model_scores(self.reward_model, self.reward_tokenizer, texts, self.train.max_length)
            total += self.reward_weights[1] * torch.tensor(values, dtype=torch.float32)
        penalty = self.train.missing_eos_penalty
        if penalty and self.stop_id is not None:
            total -= penalty * (~ended.cpu()).float()
        return total
