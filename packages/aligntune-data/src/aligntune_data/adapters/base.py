"""The base of the schema adapters: detection from columns, and a row loop that builds canonical rows,
counts bad rows per reason and applies ``on_bad_rows``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from aligntune_config.interfaces import Detection

from ..badrows import BadRowReport, handle
from ..canonical import Context, build_row
from ..errors import BadRow, DataError
from ..formats import check_format
from ..sources.rows import rows_to_dataset


class RowAdapter:
    """A schema adapter working row by row. Subclasses set ``name``, ``formats``, ``required`` (columns
    that must all be present), ``optional`` (columns that raise the detection score), ``score`` (how
    specific a full match is) and implement :meth:`parts`."""

    name: ClassVar[str] = "base"
    formats: ClassVar[tuple[str, ...]] = ("sft", "prompt")
    required: ClassVar[tuple[str, ...]] = ()
    optional: ClassVar[tuple[str, ...]] = ()
    score: ClassVar[float] = 0.5
    description: ClassVar[str] = ""

    def detect(self, columns: Sequence[str]) -> Detection:
        """Full score when every required column is present (optional ones add a little)."""
        present = set(columns)
        missing = [c for c in self.required if c not in present]
        if missing:
            return Detection(0.0, f"missing column(s) {', '.join(missing)}")
        extra = [c for c in self.optional if c in present]
        bonus = 0.01 * len(extra)
        found = ", ".join(list(self.required) + extra)
        return Detection(self.score + bonus, f"columns {found} match the {self.name} schema")

    def parts(self, row: dict, ctx: Context) -> dict:  # pragma: no cover - abstract
        raise NotImplementedError

    def check_columns(self, columns: Sequence[str], dataset: str) -> None:
        """:class:`DataError` when a required column is absent from the whole dataset."""
        missing = [c for c in self.required if c not in columns]
        if missing:
            raise DataError(f"dataset {dataset!r} (format {self.name}): missing column(s) {', '.join(missing)}; "
                            f"it has {', '.join(columns)}. Rename columns with column_mapping {{source: target}}")

    def adapt(self, dataset: Any, config: Any, format: str, *, context: Context | None = None) -> Any:
        """``dataset`` in canonical ``format``: bad rows counted and handled by ``config.on_bad_rows``."""
        format = check_format(format)
        ctx = context or Context(format=format, dataset=config.name, preserve=list(config.preserve_columns or []))
        if format not in self.formats:
            raise DataError(f"dataset {config.name!r} has the {self.name} schema, which cannot give the "
                            f"{format!r} format (it gives: {', '.join(self.formats)})")
        self.check_columns(dataset.column_names, config.name)
        report = BadRowReport(config.name, total=len(dataset))
        rows = []
        for index, row in enumerate(dataset.to_list()):  # to_list is far faster than iterating
            try:
                rows.append(build_row(self.parts(row, ctx), row, ctx))
            except BadRow as bad:
                report.add(index, bad)
                if config.on_bad_rows == "error":
                    break
        handle(report, config.on_bad_rows, len(rows))
        return rows_to_dataset(rows, f"dataset {config.name!r} after the {self.name} adapter")


def text_field(row: dict, key: str) -> Any:
    """A field's value as given (type checks happen when the canonical row is built)."""
    return row.get(key)


def optional_text(row: dict, key: str) -> str:
    """An optional text field: '' when missing or null; :class:`BadRow` when it is not text."""
    value = row.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise BadRow("non-string content", f"{key} is a {type(value).__name__}, expected text")
    return value
