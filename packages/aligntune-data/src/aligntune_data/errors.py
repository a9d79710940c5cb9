"""Errors of aligntune-data. Every problem a user can cause is a :class:`DataError` naming the dataset,
file, row or field involved -- never a raw traceback from inside ``datasets`` or ``pyarrow``."""

from __future__ import annotations


class DataError(ValueError):
    """A dataset cannot be loaded or used as asked. The message says where and why."""


class BadRow(Exception):
    """One row cannot be used; ``reason`` is a short category (``"empty prompt"``, ...) used in counts."""

    def __init__(self, reason: str, detail: str = ""):
        self.reason = reason
        self.detail = detail
        super().__init__(f"{reason}: {detail}" if detail else reason)
