"""Task types and what each one means: the schema adapters its data is detected with, the rewards an
online algorithm optimises and the metrics evaluation reports when the user gives none.

The definitions are registered in ``aligntune_config.registry.TASKS`` through the ``aligntune.tasks``
entry-point group (this module's :data:`TASK_DEFINITIONS`), so configuration resolution
(``aligntune_config.resolve``) finds them without depending on this package. A downstream project
registers its own task the same way (or with ``TaskRegistry.register``). This module stays light: it
imports neither torch nor the data package at import time.

How the defaults are applied (see docs/tasks.md):

- the tasks of a run are the names in ``tasks:``; without them, the ``task_type`` given on datasets;
- ``rewards`` empty and an online algorithm (PPO, GRPO family): each task's rewards, weighted by the
  task's weight (``tasks[i].weight``, else the dataset's ``weight``) times the reward's own weight;
  ``tasks[i].rewards`` replaces a task's defaults;
- ``evaluation.metrics`` unset: the tasks' metrics (``tasks[i].metrics`` replaces a task's);
- one task in ``tasks:`` and datasets without ``task_type``: they get that task type, so schema
  detection prefers the task's adapters.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class TaskDefinition:
    """One task type: a name, its default reward specs (``type:weight=W:param=value``) and metric names.
    ``adapters`` (the schema adapters detection prefers for the task) come from aligntune-data."""

    name: str
    description: str
    rewards: tuple[str, ...] = ()
    metrics: tuple[str, ...] = ()
    notes: str = ""
    aliases: tuple[str, ...] = field(default=())

    @property
    def adapters(self) -> tuple[str, ...]:
        """Schema adapters preferred for this task's data, in order (aligntune-data's table)."""
        from aligntune_data.adapters import TASK_ADAPTERS

        return tuple(TASK_ADAPTERS.get(self.name, ()))

    def reward_configs(self, weight: float = 1.0, specs: list[str] | None = None) -> list[Any]:
        """RewardConfig objects of ``specs`` (default: the task's rewards), each weight scaled by ``weight``."""
        from aligntune_config import RewardConfig
        from aligntune_config.spec_strings import parse_reward_spec

        out = []
        for spec in (self.rewards if specs is None else specs):
            data = parse_reward_spec(spec) if isinstance(spec, str) else dict(spec)
            data["weight"] = float(data.get("weight", 1.0)) * weight
            out.append(RewardConfig.model_validate(data))
        return out


CONVERSATION = TaskDefinition(
    "conversation", "Conversational assistant replies (chat, ShareGPT, HH-RLHF data).",
    rewards=("helpfulness:weight=1.0", "safety:weight=0.5", "repetition:weight=0.2"),
    metrics=("rouge", "bleu"),
    notes="Rewards need no reference; metrics compare replies with the reference reply where the data has one.",
    aliases=("chat_completion",),
)
CLASSIFICATION = TaskDefinition(
    "classification", "Sequence classification as generation: the model answers with the label of a text.",
    rewards=("exact_match:weight=1.0:mode=normalized",),
    metrics=("exact_match",),
    notes="Data: text and label columns (the classification adapter). text_classification (a classifier head, "
          "model.num_labels) has no generation defaults; token classification (NER) is not built and refused by "
          "aligntune-data.",
)
SUMMARIZATION = TaskDefinition(
    "summarization", "Summaries of documents (prompt/completion data with reference summaries).",
    rewards=("rouge:weight=1.0", "conciseness:weight=0.2"),
    metrics=("rouge",),
)
MATH = TaskDefinition(
    "math", "Mathematical reasoning with a checkable final answer (GSM8K-style data).",
    rewards=("math_accuracy:weight=1.0",),
    metrics=("math_accuracy",),
    notes="The reward and metric compare the final answer with the row's answer column.",
)
CODE = TaskDefinition(
    "code", "Code generation checked by tests (MBPP, HumanEval).",
    rewards=("code_execution:weight=1.0",),
    metrics=("pass_at_k",),
    notes="Completions run against the row's tests in the rewards package's sandbox.",
)
INSTRUCTION_FOLLOWING = TaskDefinition(
    "instruction_following", "Following instructions (Alpaca, Dolly, prompt/completion data).",
    rewards=("instruction_following:weight=1.0", "helpfulness:weight=0.5"),
    metrics=("rouge",),
)

TASK_DEFINITIONS: dict[str, TaskDefinition] = {
    t.name: t for t in (CONVERSATION, CLASSIFICATION, SUMMARIZATION, MATH, CODE, INSTRUCTION_FOLLOWING)
}
"""The built-in task table (``chat_completion`` is registered as conversation too). Task types without an
entry (supervised_fine_tuning, text_generation, text_classification: a classifier head trained with
model.num_labels) pick no defaults; token_classification is refused by the data package."""



# entry points (packages/aligntune/pyproject.toml, group aligntune.tasks) name these objects
conversation = CONVERSATION
chat_completion = CONVERSATION
classification = CLASSIFICATION
summarization = SUMMARIZATION
math = MATH
code = CODE
instruction_following = INSTRUCTION_FOLLOWING


def get_task(name: str) -> TaskDefinition:
    """The definition registered for ``name`` (a TaskType or its value); UnknownComponentError if none."""
    from aligntune_config.registry import TASKS

    return TASKS.get(str(getattr(name, "value", name)))


__all__ = ["TASK_DEFINITIONS", "TaskDefinition", "get_task"]
