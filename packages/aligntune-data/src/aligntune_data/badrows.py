"""Counting rows that cannot be used, per reason, and acting on ``on_bad_rows`` (error|skip|warn)."""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field

from .errors import BadRow, DataError

logger = logging.getLogger("aligntune.data")


@dataclass
class BadRowReport:
    """Bad rows of one dataset: counts per reason and the first example of each."""

    dataset: str
    total: int = 0
    counts: Counter = field(default_factory=Counter)
    examples: dict[str, tuple[int, str]] = field(default_factory=dict)

    def add(self, index: int, bad: BadRow) -> None:
        self.counts[bad.reason] += 1
        self.examples.setdefault(bad.reason, (index, bad.detail))

    @property
    def bad(self) -> int:
        return sum(self.counts.values())

    def summary(self) -> str:
        parts = []
        for reason, count in self.counts.most_common():
            index, detail = self.examples[reason]
            parts.append(f"{count} {reason} (first: row {index}{': ' + detail if detail else ''})")
        return "; ".join(parts)


def handle(report: BadRowReport, policy: str, kept: int) -> None:
    """Raise, log or stay quiet about ``report`` as ``policy`` says; no usable rows is always an error."""
    if report.bad and policy == "error":
        raise DataError(f"dataset {report.dataset!r}: {report.bad} of {report.total} rows are unusable "
                        f"(on_bad_rows='error'): {report.summary()}")
    if kept == 0:
        why = report.summary() if report.bad else "the selection is empty"
        raise DataError(f"dataset {report.dataset!r}: no usable rows out of {report.total}: {why}")
    if report.bad:
        level = logging.WARNING if policy == "warn" else logging.INFO
        logger.log(level, "dataset %r: skipped %d of %d rows: %s", report.dataset, report.bad, report.total,
                   report.summary())
