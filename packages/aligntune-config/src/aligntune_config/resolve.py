"""Turn a validated UnifiedConfig into the resolved one: fields given in two places are reconciled,
defaults that depend on the algorithm are filled, and cross-field rules are checked (all problems
reported together)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from .dataset import NON_PREFERENCE_FORMATS
from .enums import GRPO_FAMILY, AlgorithmType, ExecutionBackend, PrecisionType, TrainingType
from .errors import ConfigIssue, cross_field_error
from .training import RESERVED_SPEC_FIELDS

if TYPE_CHECKING:
    from ._base import StrictModel
    from .unified import UnifiedConfig

logger = logging.getLogger("aligntune.config")

RL_LORA_TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj"]

# (section, field): (SFT default, RL default) -- where spec/parameters.md gives different defaults
TYPE_DEFAULTS: dict[tuple[str, str], tuple[Any, Any]] = {
    ("model", "precision"): (PrecisionType.BF16, PrecisionType.AUTO),
    ("model", "gradient_checkpointing"): (True, False),
    ("model", "device_map"): ("auto", None),
    ("model", "use_peft"): (False, True),
    ("model", "lora_dropout"): (0.1, 0.05),
    ("model", "lora_target_modules"): (None, RL_LORA_TARGETS),
    ("train", "epochs"): (3, 1),
    ("train", "warmup_ratio"): (0.1, 0.0),
    ("train", "group_by_length"): (False, True),
    ("train", "eval_strategy"): ("steps", "no"),
    ("train", "gradient_checkpointing_kwargs"): ({}, {"use_reentrant": False}),
    ("dataset", "auto_detect_fields"): (False, True),
}

# Documented per-algorithm defaults of spec/parameters.md. Everything else an algorithm needs is
# applied by its AlgorithmSpec (aligntune-algos) through the algorithm registry.
ALGORITHM_DEFAULTS: dict[AlgorithmType, dict[str, Any]] = {
    AlgorithmType.SFT: {"loss_type": "nll"},
    AlgorithmType.DPO: {"loss_type": "sigmoid"},
    AlgorithmType.PPO: {"num_ppo_epochs": 4},
}

UNSLOTH_ALGORITHMS = frozenset(
    {AlgorithmType.SFT, AlgorithmType.DPO, AlgorithmType.PPO, AlgorithmType.GRPO, AlgorithmType.DAPO, AlgorithmType.DRGRPO}
)
"""The spec's backend support matrix: TRL runs every algorithm; Unsloth these (GSPO is TRL-only)."""


def algorithm_spec(algo: AlgorithmType) -> Any:
    """The AlgorithmSpec registered for ``algo`` (aligntune-algos), or None when none is installed."""
    from .registry import ALGORITHMS

    return ALGORITHMS.get(algo.value) if algo.value in ALGORITHMS else None


BENCHMARK_TASKS = {"gsm8k": "math", "mbpp": "code", "humaneval": "code", "human-eval": "code", "hh-rlhf": "conversation"}
"""Dataset names (Hub ids or file names containing them) whose task is known: an online run of the GRPO
family with no reward source takes that task's default rewards (docs/tasks.md)."""


def benchmark_task(name: str) -> str | None:
    base = name.lower().replace("\\", "/").rsplit("/", 1)[-1]
    return next((task for key, task in BENCHMARK_TASKS.items() if key in base), None)


def _set(obj: "StrictModel", name: str, value: Any) -> None:
    object.__setattr__(obj, name, value)
    obj.model_fields_set.add(name)


class _Resolver:
    def __init__(self, config: "UnifiedConfig"):
        self.c = config
        self.issues: list[ConfigIssue] = []

    def issue(self, path: str, message: str) -> None:
        self.issues.append(ConfigIssue(path, message))

    # -- one value given in two places ---------------------------------------------------------
    def lift(self, src: "StrictModel", src_field: str, src_path: str, dst: "StrictModel", dst_field: str,
             dst_path: str, value: Any = None) -> None:
        """Move an explicitly given ``src`` value to its canonical place ``dst`` (error on conflict)."""
        if src_field not in src.model_fields_set or getattr(src, src_field) is None:
            return
        value = getattr(src, src_field) if value is None else value
        if dst_field in dst.model_fields_set and getattr(dst, dst_field) is not None and getattr(dst, dst_field) != value:
            self.issue(
                src_path,
                f"sets the same thing as {dst_path} with a different value ({getattr(src, src_field)!r} vs "
                f"{getattr(dst, dst_field)!r}); give only one",
            )
            return
        _set(dst, dst_field, value)
        object.__setattr__(src, src_field, None)

    def reconcile(self) -> None:
        c, t, m, lg = self.c, self.c.train, self.c.model, self.c.logging
        self.lift(t, "gradient_checkpointing", "train.gradient_checkpointing", m, "gradient_checkpointing",
                  "model.gradient_checkpointing")
        self.lift(lg, "log_interval", "logging.log_interval", t, "logging_steps", "train.logging_steps")
        self.lift(lg, "save_strategy", "logging.save_strategy", t, "save_strategy", "train.save_strategy")
        self.lift(lg, "eval_strategy", "logging.eval_strategy", t, "eval_strategy", "train.eval_strategy")
        self.lift(lg, "save_steps", "logging.save_steps", t, "save_interval", "train.save_interval")
        self.lift(lg, "eval_steps", "logging.eval_steps", t, "eval_interval", "train.eval_interval")
        self.lift(c.distributed, "seed", "distributed.seed", t, "seed", "train.seed")
        for i, ds in enumerate(c.datasets):
            for name in ("padding_free", "precompute_ref_log_probs", "precompute_ref_batch_size"):
                self.lift(ds, name, f"datasets[{i}].{name}", t, name, f"train.{name}")
        # precision flags of the train section
        if t.fp16 and t.bf16:
            self.issue("train.fp16", "fp16 and bf16 are exclusive; choose one (or set model.precision)")
        for flag, precision in (("fp16", PrecisionType.FP16), ("bf16", PrecisionType.BF16)):
            if flag in t.model_fields_set and getattr(t, flag):
                if "precision" in m.model_fields_set and m.precision not in (None, precision):
                    self.issue(f"train.{flag}", f"conflicts with model.precision={m.precision}")
                else:
                    _set(m, "precision", precision)
        # an explicit "bf16: false" (without fp16) means full precision, not the SFT default bf16
        if "bf16" in t.model_fields_set and t.bf16 is False and not t.fp16:
            if "precision" in m.model_fields_set and m.precision is PrecisionType.BF16:
                self.issue("train.bf16", "is false but model.precision is bf16")
            elif "precision" not in m.model_fields_set:
                _set(m, "precision", PrecisionType.FP32)
        if t.use_flash_attention_2:
            if "attn_implementation" in m.model_fields_set and m.attn_implementation != "flash_attention_2":
                self.issue("train.use_flash_attention_2", f"conflicts with model.attn_implementation={m.attn_implementation}")
            else:
                _set(m, "attn_implementation", "flash_attention_2")
            object.__setattr__(t, "use_flash_attention_2", None)
        # execution backend given as flags
        if t.use_trl and m.use_unsloth:
            self.issue("train.use_trl", "use_trl and model.use_unsloth are exclusive")
        for flag_owner, flag, path, backend in ((t, "use_trl", "train.use_trl", ExecutionBackend.TRL),
                                                (m, "use_unsloth", "model.use_unsloth", ExecutionBackend.UNSLOTH)):
            if getattr(flag_owner, flag):
                if "backend" in c.model_fields_set and c.backend not in (ExecutionBackend.AUTO, backend):
                    self.issue(path, f"asks for the {backend} backend but backend is {c.backend}")
                else:
                    _set(c, "backend", backend)
        # reward weights given as a list in train
        if t.reward_weights is not None:
            if len(t.reward_weights) != len(c.rewards):
                self.issue("train.reward_weights", f"has {len(t.reward_weights)} weights for {len(c.rewards)} rewards")
            else:
                for i, (reward, weight) in enumerate(zip(c.rewards, t.reward_weights)):
                    if "weight" in reward.model_fields_set and reward.weight != weight:
                        self.issue(f"rewards[{i}].weight", f"is {reward.weight} but train.reward_weights[{i}] is {weight}")
                    else:
                        _set(reward, "weight", float(weight))
                object.__setattr__(t, "reward_weights", None)

    # -- defaults that depend on the algorithm -------------------------------------------------
    def fill_defaults(self) -> None:
        c = self.c
        rl = c.algo.training_type is TrainingType.RL
        sections = {"model": [c.model], "train": [c.train], "dataset": [*c.datasets, *c.eval_datasets]}
        for (section, field), pair in TYPE_DEFAULTS.items():
            value = pair[1] if rl else pair[0]
            if (section, field) == ("train", "eval_strategy") and not c.has_eval_data:
                value = "no"  # nothing to evaluate on: the spec's SFT default needs evaluation data
            for obj in sections[section]:
                if field not in obj.model_fields_set and getattr(obj, field) is None:
                    object.__setattr__(obj, field, type(value)(value) if isinstance(value, (list, dict)) else value)
        t = c.train
        # lengths follow model.max_seq_length unless given: SFT trains on the whole sequence length the
        # model is loaded for; RL keeps the spec default 1024 when the model allows it.
        if "max_length" not in t.model_fields_set:
            object.__setattr__(t, "max_length", c.model.max_seq_length if not rl else min(1024, c.model.max_seq_length))
        if "max_prompt_length" not in t.model_fields_set:
            object.__setattr__(t, "max_prompt_length", min(512, t.max_length // 2))
        if "load_best_model_at_end" not in t.model_fields_set and t.load_best_model_at_end is None:
            object.__setattr__(t, "load_best_model_at_end", (not rl) and t.eval_strategy != "no")
        if "metric_for_best_model" not in t.model_fields_set and t.metric_for_best_model is None and not rl:
            object.__setattr__(t, "metric_for_best_model", "eval_loss")
        for field, value in ALGORITHM_DEFAULTS.get(c.algo, {}).items():
            if field not in t.model_fields_set and getattr(t, field) is None:
                object.__setattr__(t, field, value)
        spec = algorithm_spec(c.algo)
        for field, value in (spec.defaults.items() if spec is not None else ()):
            if field not in t.model_fields_set:
                object.__setattr__(t, field, value(c) if callable(value) else value)
        if c.algo in GRPO_FAMILY or c.algo is AlgorithmType.META_ES:
            if t.num_generations is None:
                object.__setattr__(t, "num_generations", c.effective_batch_size)
        # mirrors of the canonical values, so a reader of either field sees the truth
        object.__setattr__(t, "fp16", c.model.precision is PrecisionType.FP16)
        object.__setattr__(t, "bf16", c.model.precision is PrecisionType.BF16)
        object.__setattr__(t, "use_trl", c.backend is ExecutionBackend.TRL)
        object.__setattr__(c.model, "use_unsloth", c.backend is ExecutionBackend.UNSLOTH)

    # -- task types: default rewards and metrics (definitions in the TASKS registry) -------------
    def fill_task_defaults(self) -> None:
        """Rewards (online algorithms, none given) and evaluation.metrics (unset) from the run's tasks:
        ``tasks:`` names, else the datasets' ``task_type``. See docs/tasks.md."""
        from .registry import TASKS

        c = self.c
        if len(c.tasks) == 1:  # one declared task: datasets without a task type are data of that task
            for ds in (*c.datasets, *c.eval_datasets):
                if ds.task_type is None:
                    _set(ds, "task_type", c.tasks[0].name)
        weights: dict[str, float] = {}
        overrides: dict[str, tuple[list[str] | None, list[str] | None]] = {}
        for task in c.tasks:
            weights[task.name.value] = weights.get(task.name.value, 0.0) + task.weight
            overrides[task.name.value] = (task.rewards, task.metrics)
        if not c.tasks:
            for ds in c.datasets:
                if ds.task_type is not None:
                    weights[ds.task_type.value] = weights.get(ds.task_type.value, 0.0) + ds.weight
        if not weights and c.algo in GRPO_FAMILY and not c.rewards and not c.model.reward_source_given:
            # nothing says what to reward: a known benchmark's name says what its task is
            for ds in c.datasets:
                task = benchmark_task(ds.name)
                if task is not None:
                    weights[task] = weights.get(task, 0.0) + ds.weight
            if weights:
                logger.info("no rewards given: task(s) %s inferred from the dataset names", ", ".join(weights))
        defined = {name: TASKS.get(name) for name in weights if name in TASKS}
        for name in weights:
            if name not in defined:
                logger.info("task %s has no task definition (aligntune list tasks): no default rewards or metrics", name)
        if not defined:
            return
        total = sum(weights[n] for n in defined)
        wants_rewards = c.algo.is_online and not c.rewards  # Meta-ES scores its candidates with them
        if wants_rewards:
            rewards = []
            for name, task in defined.items():
                rewards.extend(task.reward_configs(weights[name] / total, overrides.get(name, (None, None))[0]))
            object.__setattr__(c, "rewards", rewards)
            logger.info("rewards from the task types %s: %s", ", ".join(defined), ", ".join(r.to_spec() for r in rewards))
        if c.evaluation.metrics is None:
            metrics: list[str] = []
            for name, task in defined.items():
                for metric in overrides.get(name, (None, None))[1] or task.metrics:
                    if metric not in metrics:
                        metrics.append(metric)
            object.__setattr__(c.evaluation, "metrics", metrics)
            logger.info("evaluation metrics from the task types %s: %s", ", ".join(defined), ", ".join(metrics))

    # -- rules across fields -------------------------------------------------------------------
    def check(self) -> None:
        c, t, m = self.c, self.c.train, self.c.model
        algo = c.algo
        if t.max_prompt_length >= t.max_length:
            self.issue("train.max_prompt_length",
                       f"must be < train.max_length ({t.max_length}), got {t.max_prompt_length}")
        if t.max_length > m.max_seq_length:
            self.issue("train.max_length", f"must be <= model.max_seq_length ({m.max_seq_length}), got {t.max_length}")
        for name, default in RESERVED_SPEC_FIELDS.items():
            value = getattr(t, name)
            if value != default:
                self.issue(
                    f"train.{name}",
                    f"has no defined meaning in the papers AlignTune implements; only the spec default {default} is "
                    f"accepted, got {value}. Use kl_coef (KL β), cliprange/epsilon_high (clip), scale_rewards, "
                    "gspo_clip_low/gspo_clip_high instead",
                )
        if c.backend is ExecutionBackend.UNSLOTH and algo not in UNSLOTH_ALGORITHMS:
            supported = ", ".join(sorted(a.value for a in UNSLOTH_ALGORITHMS))
            self.issue("backend", f"the unsloth backend does not run {algo}; it runs {supported} (use backend: trl)")
        if algo in GRPO_FAMILY or algo is AlgorithmType.META_ES:
            g = t.num_generations or 0
            if g < 2:
                self.issue("train.num_generations",
                           f"{algo} compares completions within a group and needs num_generations >= 2, got {g} "
                           "(defaults to the effective batch size; raise per_device_batch_size or set it)")
            elif c.effective_batch_size % g:
                self.issue(
                    "train.num_generations",
                    f"must divide the effective batch size per_device_batch_size x gradient_accumulation_steps x "
                    f"processes = {t.per_device_batch_size} x {t.gradient_accumulation_steps} x {c.world_size} = "
                    f"{c.effective_batch_size}, got {g}",
                )
            if t.epsilon_high is not None and t.epsilon_high < t.cliprange:
                self.issue("train.epsilon_high", f"must be >= cliprange ({t.cliprange}), got {t.epsilon_high}")
            if t.gspo_clip_high < 0 or t.gspo_clip_low <= 0:
                self.issue("train.gspo_clip_low", "GSPO clip ranges must be positive")
        if algo is AlgorithmType.PPO and not (c.rewards or m.reward_source_given or m.reward_value_model):
            self.issue("rewards", "ppo needs a reward source: rewards, model.reward_model_name, model.reward_path, "
                       "model.reward_model_source or model.reward_value_model")
        if algo is AlgorithmType.PPO and not (c.rewards or m.reward_source_given):
            logger.warning("ppo has no reward functions and no reward model: model.reward_value_model=%r is used "
                           "as the reward model", m.reward_value_model)
        if algo is AlgorithmType.DPO and c.rewards and not c.evaluation.dpo_eval_enabled:
            logger.warning("dpo trains on preference pairs without rewards: rewards=%s judge only the win rate of the "
                           "DPO evaluation, which is off (set evaluation.dpo_eval_enabled: true, or remove rewards)",
                           [r.type for r in c.rewards])
        if algo in (AlgorithmType.DPO, AlgorithmType.REWARD_MODEL):
            for i, ds in enumerate(c.datasets):
                if ds.format_type in NON_PREFERENCE_FORMATS:
                    self.issue(f"datasets[{i}].format_type",
                               f"{algo} trains on preference pairs (prompt/chosen/rejected); format {ds.format_type!r} "
                               "has none (use hh-rlhf, ultrafeedback, preference, or map columns to prompt/chosen/rejected)")
        if t.eval_strategy != "no" and not c.has_eval_data:
            self.issue("train.eval_strategy", f"is {t.eval_strategy!r} but there is no evaluation data: set eval_datasets "
                       "or evaluation.holdout_fraction (or eval_strategy: no)")
        if t.load_best_model_at_end:
            if t.eval_strategy == "no":
                self.issue("train.load_best_model_at_end", "needs evaluation; train.eval_strategy is 'no'")
            elif t.save_strategy == "steps" and t.eval_strategy == "steps" and t.save_interval % t.eval_interval:
                self.issue("train.save_interval",
                           f"must be a multiple of train.eval_interval ({t.eval_interval}) when load_best_model_at_end "
                           f"is on, got {t.save_interval}")
        if c.evaluation.before_after and not c.has_eval_data:
            self.issue("evaluation.before_after", "needs evaluation data: set eval_datasets or evaluation.holdout_fraction")
        if c.evaluation.before_after and not (c.evaluation.metrics or c.evaluation.custom_metrics):
            self.issue("evaluation.metrics", "evaluation.before_after needs metric names (aligntune list metrics)")
        sl = c.logging.sample_logging
        if sl.enabled and sl.percent_of_max_steps is not None and t.max_steps is None:
            self.issue("logging.sample_logging.percent_of_max_steps", "needs train.max_steps")
        spec = algorithm_spec(algo)
        if spec is not None:
            self.issues.extend(spec.validate(c))
        if m.num_labels is None and any(ds.task_type == "text_classification" for ds in c.datasets):
            self.issue("model.num_labels", "is required for text_classification datasets")


def resolve_in_place(config: "UnifiedConfig") -> None:
    resolver = _Resolver(config)
    resolver.reconcile()
    resolver.fill_defaults()
    resolver.fill_task_defaults()
    resolver.check()
    if resolver.issues:
        raise cross_field_error(resolver.issues)
