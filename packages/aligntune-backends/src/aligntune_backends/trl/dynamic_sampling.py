"""DAPO dynamic sampling for TRL's GRPOTrainer.

A group (the ``num_generations`` completions of one prompt) whose rewards are all equal has zero
advantage everywhere and carries no policy gradient. Dynamic sampling (Yu et al., 2025, DAPO) drops
such groups and keeps generating until the training batch is filled with informative groups.

How the refill works, per generation batch (``per_device_batch_size × steps_per_generation`` rows):

1. TRL generates and scores the batch it was given (``_generate_and_score_completions``); the
   rewards of that round are captured from ``_calculate_rewards``, weighted and summed as TRL does, and
   ``informative_groups`` from the algorithm's maths (aligntune_config's registry) marks the groups kept.
2. While fewer informative groups than the batch needs have been collected and fewer than
   ``max_resample_batches`` rounds have run, a further batch of prompts is drawn from the training
   dataset (a seeded shuffle of its own, seed ``args.seed + 1``, cycling over epochs; each prompt
   repeated ``num_generations`` times as TRL's sampler does) and generated and scored the same way.
3. The kept groups of all rounds are merged (prompts left-padded, completions and per-token tensors
   right-padded) into a batch of exactly the expected size.

If the batch is still short after ``max_resample_batches`` rounds, it is padded by repeating the
informative groups collected, cyclically (the shapes TRL splits into ``steps_per_generation`` slices stay
fixed); if no round gave a single informative group, the first round's batch is trained on unchanged
(its advantages are zero: only the KL term, if any, moves the policy). Both cases are logged.

Each group's advantages are those TRL computed in its own round: exact for ``scale_rewards`` "group" or
"none"; with "batch" the std is that of the round the group came from. Logged per generation batch (as
TRL metrics, averaged over the logging interval): ``dynamic_sampling/drop_fraction`` (dropped groups /
generated groups), ``dynamic_sampling/generation_rounds`` and ``dynamic_sampling/groups_short`` (groups
of the batch that no informative group filled: repeats, or the whole batch when none was found).
Single-process only (the groups of one prompt would be spread over processes); multimodal batches and
iterable datasets are refused.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

logger = logging.getLogger("aligntune.backends.trl.dynamic_sampling")

_LEFT_PADDED = {"prompt_ids": "pad", "prompt_mask": 0}
_RIGHT_PADDED = {"completion_ids": "pad", "completion_mask": 0, "tool_mask": 0, "old_per_token_logps": 0.0,
                 "ref_per_token_logps": 0.0, "sampling_per_token_logps": 0.0, "importance_sampling_ratio": 1.0}
_PER_ROW = ("advantages",)


def _pad_to(tensor: Any, width: int, value: float, left: bool) -> Any:
    """``tensor`` (rows × length) padded with ``value`` to ``width`` columns on the left or right."""
    import torch

    missing = width - tensor.size(1)
    if missing <= 0:
        return tensor
    fill = torch.full((tensor.size(0), missing), value, dtype=tensor.dtype, device=tensor.device)
    return torch.cat([fill, tensor] if left else [tensor, fill], dim=1)


def merge_groups(rounds: list[dict[str, Any]], picked: list[tuple[int, int]], group_size: int,
                 pad_token_id: int) -> dict[str, Any]:
    """One scored batch made of the groups ``picked`` as (round, group) pairs from the scored batches
    ``rounds``, in that order; ``num_items_in_batch`` is recounted over the merged loss mask."""
    import torch

    known = set(_LEFT_PADDED) | set(_RIGHT_PADDED) | set(_PER_ROW) | {"num_items_in_batch"}
    unknown = sorted(set().union(*rounds) - known)
    if unknown:
        raise ValueError(f"dynamic sampling cannot merge batches with {', '.join(unknown)} (multimodal or tool "
                         "inputs); set train.dynamic_sampling to false")
    out: dict[str, Any] = {}
    for key in rounds[0]:
        if key == "num_items_in_batch" or rounds[0][key] is None:
            continue
        pieces = []
        for r, g in picked:
            rows = torch.arange(g * group_size, (g + 1) * group_size, device=rounds[r][key].device)
            pieces.append(rounds[r][key].index_select(0, rows))
        if key in _PER_ROW:
            out[key] = torch.cat(pieces, dim=0)
            continue
        left = key in _LEFT_PADDED
        value = (_LEFT_PADDED if left else _RIGHT_PADDED)[key]
        value = pad_token_id if value == "pad" else value
        width = max(p.size(1) for p in pieces)
        out[key] = torch.cat([_pad_to(p, width, value, left) for p in pieces], dim=0)
    loss_mask = out["completion_mask"] if "tool_mask" not in out else out["completion_mask"] * out["tool_mask"]
    out["num_items_in_batch"] = loss_mask.sum()
    return out


def dynamic_sampling_grpo(base: type, math: Any, max_resample_batches: int) -> type:
    """A subclass of TRL's GRPOTrainer ``base`` with DAPO dynamic sampling (see the module docstring);
    ``math`` is the algorithm's maths module (it gives ``informative_groups``)."""
    import torch

    class DynamicSamplingGRPOTrainer(base):  # type: ignore[misc, valid-type]
        """GRPOTrainer that trains only on groups whose rewards differ, refilling the batch."""

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            if self.accelerator.num_processes > 1:
                raise ValueError("train.dynamic_sampling runs on one process only in the TRL engine; set it to false "
                                 "for multi-process runs")
            if not hasattr(self.train_dataset, "__len__"):
                raise ValueError("train.dynamic_sampling needs a map-style (sized) training dataset")
            self._ds_rewards: Any = None
            self._ds_prompts: Iterator[int] = self._prompt_indices()
            self.last_dynamic_sampling: dict[str, Any] = {}

        def _prompt_indices(self) -> Iterator[int]:
            """Dataset indices in a seeded shuffle, epoch after epoch."""
            generator = torch.Generator().manual_seed(int(self.args.seed) + 1)
            while True:
                yield from torch.randperm(len(self.train_dataset), generator=generator).tolist()

        def _refill_batch(self, size: int) -> list[dict[str, Any]]:
            """``size // num_generations`` new prompts, each repeated ``num_generations`` times."""
            n = self.num_generations
            rows = [self.train_dataset[next(self._ds_prompts)] for _ in range(size // n)]
            return [row for row in rows for _ in range(n)]

        def _calculate_rewards(self, inputs: Any, prompts: Any, completions: Any, completion_ids_list: Any) -> Any:
            rewards_per_func = super()._calculate_rewards(inputs, prompts, completions, completion_ids_list)
            self._ds_rewards = rewards_per_func
            return rewards_per_func

        def _round_rewards(self) -> Any:
            """The weighted reward of each completion of the last scored round (as TRL sums them)."""
            per_func = self._ds_rewards
            return (per_func * self.reward_weights.to(per_func.device).unsqueeze(0)).nansum(dim=1)

        def _generate_and_score_completions(self, inputs: list[dict[str, Any]]) -> dict[str, Any]:
            if not self.model.training:
                return super()._generate_and_score_completions(inputs)
            n = self.num_generations
            needed = len(inputs) // n
            rounds: list[dict[str, Any]] = []
            round_rewards: list[Any] = []
            picked: list[tuple[int, int]] = []
            seen = dropped = 0
            batch = inputs
            while True:
                rounds.append(super()._generate_and_score_completions(batch))
                rewards = self._round_rewards()
                round_rewards.append(rewards)
                keep = math.informative_groups(rewards, n).tolist()
                seen += len(keep)
                dropped += keep.count(False)
                picked += [(len(rounds) - 1, g) for g, kept in enumerate(keep) if kept]
                if len(picked) >= needed or len(rounds) >= max_resample_batches:
                    break
                batch = self._refill_batch(len(inputs))
            short = max(0, needed - len(picked))
            if not picked:
                logger.warning("dynamic sampling: no group with differing rewards in %d generation round(s); "
                               "training on the first round's %d groups (zero advantage)", len(rounds), needed)
                out, kept = rounds[0], [(0, g) for g in range(needed)]
            else:
                if short:
                    logger.warning("dynamic sampling: %d of %d groups short after %d generation round(s); padded by "
                                   "repeating informative groups", short, needed, len(rounds))
                kept = [picked[i % len(picked)] for i in range(needed)]
                out = merge_groups(rounds, kept, n, self._tokenizer.pad_token_id)
            metrics = self._metrics["train"]
            metrics["dynamic_sampling/drop_fraction"].append(dropped / seen)
            metrics["dynamic_sampling/generation_rounds"].append(float(len(rounds)))
            metrics["dynamic_sampling/groups_short"].append(float(short))
            kept_rewards = torch.cat([round_rewards[r].view(-1, n)[g : g + 1] for r, g in kept], dim=0)
            self.last_dynamic_sampling = {"rounds": len(rounds), "groups_seen": seen, "groups_dropped": dropped,
                                          "groups_short": short, "kept_rewards": kept_rewards.detach().cpu()}
            logger.debug("dynamic sampling: %d rounds, dropped %d of %d groups, %d short", len(rounds), dropped,
                         seen, short)
            return out

    return DynamicSamplingGRPOTrainer
