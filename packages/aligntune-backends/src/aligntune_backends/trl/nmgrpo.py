"""Neural-Mirror GRPO on TRL's GRPOTrainer: the engine glue only (the maths is the algorithm's
``math_module``, aligntune_algos.mirror, found through aligntune_config's registry).

NM-GRPO's per-token loss is GRPO's plus λ·D_h(π_θ(o_t), π_ref(o_t)), the Bregman divergence of the mirror
map h_φ between the probabilities of the sampled token under the policy and the reference (λ =
``mirror.mirror_coefficient``; φ from ``mirror.phi_path`` or drawn from ``init_scale``/``mirror_seed``, fixed
for the run). How it hooks into TRL:

- **Reference log-probabilities.** TRL computes them in ``_generate_and_score_completions`` only when its
  KL coefficient β (``train.kl_coef``) is not 0. With β = 0 and λ > 0 this trainer computes them there
  itself, without gradient, from a frozen copy of the initial policy (full fine-tuning) or from the
  policy with its adapters disabled (LoRA: the base model is the reference, as in TRL).
- **The loss.** TRL's ``_compute_loss`` gives GRPO's loss (clipped surrogate, + β·KL when β ≠ 0,
  reduced by ``loss_type``). Every reduction of the GRPO family is linear in the per-token loss, so adding
  the same reduction of λ·D_h (with TRL's normaliser for that loss type, gradient accumulation included)
  gives exactly the reduction of GRPO's per-token loss + λ·D_h. The policy's per-token log-probabilities
  are the ones TRL computed for its loss (captured, with their graph): no second forward pass. Like TRL's
  KL term, the penalty is not masked by the entropy / off-policy masks or scaled by vLLM's importance
  ratios.
- **Metrics.** ``mirror/bregman`` (mean D_h over completion tokens) and ``mirror/penalty`` (its reduced,
  λ-weighted value added to the loss) are logged with TRL's metrics.
"""

from __future__ import annotations

import copy
import logging
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from aligntune_config.meta_es import NeuralMirrorConfig

logger = logging.getLogger("aligntune.backends.trl.nmgrpo")

LINEAR_LOSS_TYPES = ("grpo", "bnpo", "dr_grpo", "dapo")


def nmgrpo_trainer(base: type, math: Any, mirror_config: NeuralMirrorConfig) -> type:
    """A subclass of TRL's GRPOTrainer ``base`` (or of a subclass of it) whose loss adds λ·D_h (see the
    module docstring). ``math`` is NM-GRPO's maths module (it gives ``MirrorMap`` and ``mirror_penalty``)."""
    import torch

    mirror = math.MirrorMap.from_config(mirror_config)
    coefficient = float(mirror_config.mirror_coefficient)

    class NMGRPOTrainer(base):  # type: ignore[misc, valid-type]
        """GRPOTrainer with NM-GRPO's Bregman penalty λ·D_h(π_θ, π_ref)."""

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            if self.loss_type not in LINEAR_LOSS_TYPES:
                raise ValueError(f"NM-GRPO adds its penalty to the GRPO-family losses {', '.join(LINEAR_LOSS_TYPES)}; "
                                 f"train.loss_type is {self.loss_type!r}")
            self.mirror = mirror
            self.mirror_coefficient = coefficient
            self._nm_ref_model: Any = None
            self._nm_capture = False
            self._nm_logps: Any = None
            if self.beta == 0.0 and coefficient != 0.0 and not self._nm_is_peft():
                # TRL built no reference (β = 0): a frozen copy of the initial policy
                reference = copy.deepcopy(self.accelerator.unwrap_model(self.model))
                reference.requires_grad_(False)
                reference.eval()
                self._nm_ref_model = self.accelerator.prepare_model(reference, evaluation_mode=True)
            logger.info("NM-GRPO: λ=%g, %d units per group (|φ|=%d), reference %s", coefficient,
                        mirror.units_per_group, mirror.to_vector().size, self._nm_reference_kind())

        # -- the reference ------------------------------------------------------------------------------
        def _nm_is_peft(self) -> bool:
            from accelerate.utils import is_peft_model

            return bool(is_peft_model(self.accelerator.unwrap_model(self.model)))

        def _nm_reference_kind(self) -> str:
            if self.mirror_coefficient == 0.0 and self.beta == 0.0:
                return "unused (λ = 0)"
            if self.beta != 0.0:
                return "from TRL (kl_coef ≠ 0)"
            return "the base model (adapters disabled)" if self._nm_ref_model is None else "a frozen copy of the initial policy"

        def _nm_ref_logps(self, output: dict[str, Any]) -> Any:
            from trl.models.utils import disable_gradient_checkpointing
            from trl.trainer.utils import use_adapter

            unknown = sorted(k for k in ("pixel_values", "image_grid_thw", "token_type_ids", "mm_token_type_ids")
                             if k in output)
            if unknown:
                raise ValueError(f"NM-GRPO with kl_coef = 0 does not handle multimodal inputs ({', '.join(unknown)}); "
                                 "set train.kl_coef > 0 so TRL computes the reference")
            ids = torch.cat([output["prompt_ids"], output["completion_ids"]], dim=1)
            attention = torch.cat([output["prompt_mask"], output["completion_mask"]], dim=1)
            keep = output["completion_ids"].size(1)
            mode = "train" if self.model.training else "eval"
            batch = self.args.per_device_train_batch_size if mode == "train" else self.args.per_device_eval_batch_size
            with torch.no_grad(), disable_gradient_checkpointing(self.model, self.args.gradient_checkpointing_kwargs):
                if self._nm_ref_model is not None:
                    logps, _, _ = self._get_per_token_logps_and_entropies(self._nm_ref_model, ids, attention, keep,
                                                                          batch_size=batch)
                else:
                    unwrapped = self.accelerator.unwrap_model(self.model)
                    with use_adapter(unwrapped, adapter_name="ref" if "ref" in unwrapped.peft_config else None):
                        logps, _, _ = self._get_per_token_logps_and_entropies(self.model, ids, attention, keep,
                                                                              batch_size=batch)
            return logps

        def _generate_and_score_completions(self, inputs: Any) -> dict[str, Any]:
            output = super()._generate_and_score_completions(inputs)
            if self.mirror_coefficient != 0.0 and output.get("ref_per_token_logps") is None:
                output["ref_per_token_logps"] = self._nm_ref_logps(output)
            return output

        # -- the loss -----------------------------------------------------------------------------------
        def _get_per_token_logps_and_entropies(self, *args: Any, **kwargs: Any) -> Any:
            result = super()._get_per_token_logps_and_entropies(*args, **kwargs)
            if self._nm_capture:
                self._nm_logps = result[0]
            return result

        def _nm_reduce(self, per_token: Any, mask: Any, inputs: dict[str, Any], mode: str) -> Any:
            """``per_token`` reduced exactly as TRL reduces the loss for this loss type."""
            if self.loss_type == "dapo":
                normalizer = inputs["num_items_in_batch"].clamp(min=1.0) / self.accelerator.num_processes
                if mode == "train":
                    normalizer = normalizer * self.current_gradient_accumulation_steps / self.args.steps_per_generation
                return (per_token * mask).sum() / normalizer
            reduced = math.aggregate(per_token, mask, self.loss_type, self.max_completion_length)
            return reduced / (self.current_gradient_accumulation_steps if mode == "train" else 1.0)

        def _compute_loss(self, model: Any, inputs: dict[str, Any]) -> Any:
            self._nm_capture = True
            try:
                loss = super()._compute_loss(model, inputs)
            finally:
                self._nm_capture = False
            logps, self._nm_logps = self._nm_logps, None
            ref = inputs.get("ref_per_token_logps")
            if ref is None or logps is None:
                return loss
            mask = inputs["completion_mask"]
            if "tool_mask" in inputs:
                mask = mask * inputs["tool_mask"]
            mask = mask.to(logps.dtype)
            weighted, divergence = math.mirror_penalty(logps, ref, self.mirror, self.mirror_coefficient)
            mode = "train" if self.model.training else "eval"
            totals = self.accelerator.reduce(torch.stack([(divergence.to(mask.dtype) * mask).sum(), mask.sum()]),
                                             reduction="sum")
            self._metrics[mode]["mirror/bregman"].append((totals[0] / totals[1].clamp(min=1.0)).item())
            if self.mirror_coefficient == 0.0:
                return loss
            penalty = self._nm_reduce(weighted.to(loss.dtype), mask.to(loss.dtype), inputs, mode)
            self._metrics[mode]["mirror/penalty"].append(self.accelerator.gather(penalty.detach()).mean().item())
            return loss + penalty

    return NMGRPOTrainer
