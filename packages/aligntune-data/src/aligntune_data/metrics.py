"""Metrics that belong to AlignTune's built-in datasets, registered in the metric registry."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .generators.instructions import check_output


class InstructionCheck:
    """Share of replies that satisfy their row's ``check`` (rule-checked outputs of ``builtin:instructions``:
    exact text, uppercase word, repeated word, bullet count, JSON value). Keep the column with
    ``preserve_columns: [check]``."""

    name = "instruction_check"
    description = "Share of replies passing the rule check of builtin:instructions rows (needs the 'check' column)."
    needs_references = False
    uses_generations = True

    def compute(self, predictions: Sequence[str], references: Sequence[Any] | None = None,
                **columns: Sequence[Any]) -> dict[str, float]:
        checks = columns.get("check")
        if checks is None:
            raise KeyError("instruction_check needs the 'check' column of builtin:instructions rows "
                           "(set preserve_columns: [check] on the dataset)")
        if len(checks) != len(predictions):
            raise ValueError(f"{len(predictions)} predictions for {len(checks)} checks")
        passed = [check_output(check, prediction) for check, prediction in zip(checks, predictions)]
        return {"instruction_accuracy": sum(passed) / len(passed) if passed else 0.0}
