"""One AlgorithmSpec per algorithm: the data it needs, the defaults and checks that make it that
algorithm (following its paper), and the ``train`` fields it uses.

These specs import no torch; they are registered under the ``aligntune.algorithms`` entry-point group
and applied by aligntune-config when a config is resolved.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aligntune_config import AlgorithmSpec, AlgorithmType, ConfigIssue

from . import fields as F

if TYPE_CHECKING:
    from aligntune_config import UnifiedConfig

DPO_LOSS_TYPES = (
    "sigmoid", "hinge", "ipo", "exo_pair", "nca_pair", "robust", "bco_pair", "sppo_hard", "aot", "aot_unpaired",
    "apo_zero", "apo_down", "discopop", "sft", "sigmoid_norm",
)
SFT_LOSS_TYPES = ("nll", "dft")
GRPO_LOSS_TYPES = ("grpo", "bnpo", "dr_grpo", "dapo")


GRPO_MATH = "aligntune_algos.grpo_math"
MIRROR_MATH = "aligntune_algos.mirror"  # GRPO's maths re-exported, plus the mirror map and its Bregman divergence
PPO_MATH = "aligntune_algos.ppo_math"


@dataclass
class Spec(AlgorithmSpec):
    """AlgorithmSpec with the fields the algorithm uses and extra checks."""

    uses: frozenset[str] = frozenset()
    math_module: str | None = None
    checks: tuple[Callable[["UnifiedConfig"], list[ConfigIssue]], ...] = ()
    paper: str = ""
    defaults: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.uses = frozenset(self.uses | F.COMMON)  # what every algorithm uses

    def validate(self, config: "UnifiedConfig") -> list[ConfigIssue]:
        from aligntune_config import TrainingConfig

        from aligntune_config.resolve import TYPE_DEFAULTS

        issues: list[ConfigIssue] = []
        train = config.train
        rl = self.algorithm.training_type.value == "rl"
        for name in sorted(train.model_fields_set - self.uses):
            defaults = [TrainingConfig.model_fields[name].get_default(call_default_factory=True)]
            if ("train", name) in TYPE_DEFAULTS:  # the spec's per-training-type default is not a user choice
                defaults.append(TYPE_DEFAULTS[("train", name)][1 if rl else 0])
            if getattr(train, name) not in defaults:
                hint = HINTS.get((self.algorithm, name)) or f"it is used by: {', '.join(_users(name)) or 'no algorithm'}"
                issues.append(ConfigIssue(
                    f"train.{name}", f"does not apply to {self.algorithm.value} and would be ignored; remove it ({hint})"))
        for check in self.checks:
            issues.extend(check(config))
        return issues


def _users(name: str) -> list[str]:
    return [a.value for a, s in SPECS.items() if name in s.uses]


def _loss_types(valid: tuple[str, ...]) -> Callable[["UnifiedConfig"], list[ConfigIssue]]:
    def check(config: "UnifiedConfig") -> list[ConfigIssue]:
        value = config.train.loss_type
        given = value if isinstance(value, list) else [value] if value is not None else []
        bad = [v for v in given if v not in valid]
        if bad:
            return [ConfigIssue("train.loss_type", f"{', '.join(map(repr, bad))} is not a {config.algo.value} loss; "
                                f"valid: {', '.join(valid)}")]
        if isinstance(value, list) and isinstance(config.train.loss_weights, list) and len(value) != len(config.train.loss_weights):
            return [ConfigIssue("train.loss_weights", f"has {len(config.train.loss_weights)} weights for {len(value)} losses")]
        return []
    return check


def _dpo_label_smoothing(config: "UnifiedConfig") -> list[ConfigIssue]:
    """EXO's pairwise loss divides by the smoothing (arXiv:2402.00856 recommends 1e-3); robust DPO's noise
    rate must stay below one half."""
    value = config.train.loss_type
    losses = value if isinstance(value, list) else [value]
    smoothing = config.train.label_smoothing
    if "exo_pair" in losses and smoothing == 0:
        return [ConfigIssue("train.label_smoothing", "the exo_pair loss needs label_smoothing > 0 (the EXO paper "
                            "uses 1e-3), got 0")]
    if "robust" in losses and smoothing >= 0.5:
        return [ConfigIssue("train.label_smoothing", f"the robust loss needs label_smoothing in [0, 0.5), got {smoothing}")]
    return []


def _sft_single_loss(config: "UnifiedConfig") -> list[ConfigIssue]:
    if isinstance(config.train.loss_type, list):
        return [ConfigIssue("train.loss_type", "SFT takes one loss: nll or dft")]
    return []


def _ppo_kl(config: "UnifiedConfig") -> list[ConfigIssue]:
    t = config.train
    if t.adap_kl_ctrl and "kl_coef" in t.model_fields_set and t.kl_coef != 0.1:
        return [ConfigIssue("train.kl_coef", "is the fixed KL coefficient, but the adaptive controller is on "
                            "(adap_kl_ctrl: true starts at init_kl_coef); set adap_kl_ctrl: false to use kl_coef, "
                            "or set init_kl_coef")]
    return []


def _grpo_family(config: "UnifiedConfig") -> list[ConfigIssue]:
    t = config.train
    issues = []
    if t.kl_estimator != "k3" and t.kl_coef > 0:
        issues.append(ConfigIssue("train.kl_estimator", f"the GRPO family uses the k3 estimator of its paper, got "
                                  f"{t.kl_estimator!r} (k1/k2 apply to PPO)"))
    if t.overlong_buffer_length is not None and t.overlong_buffer_length >= t.max_completion_length:
        issues.append(ConfigIssue("train.overlong_buffer_length",
                                  f"must be < max_completion_length ({t.max_completion_length}), got {t.overlong_buffer_length}"))
    if t.dynamic_sampling and t.num_generations and t.num_generations < 2:
        issues.append(ConfigIssue("train.dynamic_sampling", "needs groups of at least 2 completions"))
    return issues


HINTS = {
    (AlgorithmType.GSPO, "cliprange"): "GSPO clips the sequence-level ratio with gspo_clip_low/gspo_clip_high "
                                       "(paper: 3e-4/4e-4); cliprange is the token-level clip of GRPO",
    (AlgorithmType.GSPO, "epsilon_high"): "GSPO clips the sequence-level ratio with gspo_clip_high",
}
GRPO_USES = F.ROLLOUT | F.GRPO_FAMILY
SPECS: dict[AlgorithmType, Spec] = {
    AlgorithmType.SFT: Spec(
        AlgorithmType.SFT, "sft", "Supervised fine-tuning: next-token cross-entropy on the target text.",
        uses=F.SFT, checks=(_loss_types(SFT_LOSS_TYPES), _sft_single_loss)),
    AlgorithmType.DPO: Spec(
        AlgorithmType.DPO, "preference", "Direct Preference Optimization (Rafailov et al., 2023) and its loss "
        "variants.", uses=F.DPO, checks=(_loss_types(DPO_LOSS_TYPES), _dpo_label_smoothing), paper="arXiv:2305.18290"),
    AlgorithmType.REWARD_MODEL: Spec(
        AlgorithmType.REWARD_MODEL, "preference", "Pairwise Bradley-Terry reward model: -log σ(r(chosen) - "
        "r(rejected)).", uses=F.REWARD_MODEL),
    AlgorithmType.PPO: Spec(
        AlgorithmType.PPO, "prompt", "Proximal Policy Optimization with a value model, GAE and a per-token KL "
        "penalty (Ouyang et al., 2022).", uses=F.ROLLOUT | F.PPO, checks=(_ppo_kl,), math_module=PPO_MATH,
        paper="arXiv:1707.06347"),
    AlgorithmType.GRPO: Spec(
        AlgorithmType.GRPO, "prompt", "Group Relative Policy Optimization: advantages normalised within each "
        "group of completions of a prompt; per-sequence mean of token losses (Shao et al., 2024).",
        uses=GRPO_USES, checks=(_grpo_family,), paper="arXiv:2402.03300", math_module=GRPO_MATH,
        defaults={"loss_type": "grpo", "kl_estimator": "k3"}),
    AlgorithmType.DRGRPO: Spec(
        AlgorithmType.DRGRPO, "prompt", "Dr. GRPO (GRPO Done Right): no std scaling of advantages and no length "
        "normalisation (token losses summed and divided by a constant).", uses=GRPO_USES, checks=(_grpo_family,),
        paper="arXiv:2503.20783", math_module=GRPO_MATH, defaults={"loss_type": "dr_grpo", "scale_rewards": "none", "kl_estimator": "k3"}),
    AlgorithmType.DAPO: Spec(
        AlgorithmType.DAPO, "prompt", "DAPO: decoupled clip (ε_low=0.2, ε_high=0.28), dynamic sampling, token-level "
        "loss, overlong filtering and soft overlong punishment; no KL penalty (Yu et al., 2025).",
        uses=GRPO_USES, checks=(_grpo_family,), paper="arXiv:2503.14476", math_module=GRPO_MATH,
        defaults={"loss_type": "dapo", "epsilon_high": 0.28, "dynamic_sampling": True, "kl_coef": 0.0,
                  "kl_estimator": "k3", "mask_truncated_completions": True,
                  "overlong_buffer_length": lambda c: max(1, c.train.max_completion_length // 4)}),
    AlgorithmType.GSPO: Spec(
        AlgorithmType.GSPO, "prompt", "Group Sequence Policy Optimization: sequence-level, length-normalised "
        "importance ratio clipped to [1-3e-4, 1+4e-4] (Zheng et al., 2025).", uses=(GRPO_USES - {"cliprange", "epsilon_high"}) | F.GSPO,
        checks=(_grpo_family,), paper="arXiv:2507.18071", math_module=GRPO_MATH, defaults={"loss_type": "grpo", "kl_estimator": "k3"}),
    AlgorithmType.NMGRPO: Spec(
        AlgorithmType.NMGRPO, "prompt", "Neural-Mirror GRPO: GRPO plus λ·D_h(π_θ, π_ref), the Bregman divergence "
        "of a learned convex mirror map.", uses=GRPO_USES, checks=(_grpo_family,), math_module=MIRROR_MATH,
        defaults={"loss_type": "grpo", "kl_estimator": "k3"}),
    AlgorithmType.META_ES: Spec(
        AlgorithmType.META_ES, "prompt", "Meta-ES: antithetic evolution strategies over the mirror map of NM-GRPO.",
        uses=GRPO_USES, checks=(_grpo_family,), math_module=MIRROR_MATH,
        defaults={"loss_type": "grpo", "kl_estimator": "k3"}),
}


def get_spec(algorithm: str | AlgorithmType) -> Spec:
    return SPECS[AlgorithmType(algorithm)]


# entry points (aligntune.algorithms) point at these names
sft, dpo, reward_model, ppo = (SPECS[a] for a in (AlgorithmType.SFT, AlgorithmType.DPO, AlgorithmType.REWARD_MODEL,
                                                   AlgorithmType.PPO))
grpo, drgrpo, dapo, gspo = (SPECS[a] for a in (AlgorithmType.GRPO, AlgorithmType.DRGRPO, AlgorithmType.DAPO,
                                                AlgorithmType.GSPO))
nmgrpo, meta_es = SPECS[AlgorithmType.NMGRPO], SPECS[AlgorithmType.META_ES]
