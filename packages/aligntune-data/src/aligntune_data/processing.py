"""Steps before the schema adapter: column mapping, the ``*_column`` settings, ``processing_fn``."""

from __future__ import annotations

import logging
from typing import Any

from .errors import DataError

logger = logging.getLogger("aligntune.data")

# DatasetConfig field -> the column name the adapters read
COLUMN_FIELDS = {
    "text_column": "text", "instruction_column": "instruction", "response_column": "response",
    "output_column": "output", "input_column": "input", "context_column": "context", "label_column": "label",
    "messages_column": "messages",
}


def apply_column_mapping(dataset: Any, config: Any) -> Any:
    """Rename columns by ``column_mapping`` ({source: target}), then by non-default ``*_column`` fields."""
    mapping = dict(config.column_mapping or {})
    for field, canonical in COLUMN_FIELDS.items():
        custom = getattr(config, field, canonical)
        if custom != canonical and custom in dataset.column_names and custom not in mapping:
            mapping[custom] = canonical
    if not mapping:
        return dataset
    columns = dataset.column_names
    missing = [source for source in mapping if source not in columns]
    if missing:
        raise DataError(f"dataset {config.name!r}: column_mapping names column(s) {', '.join(map(repr, missing))} "
                        f"that the dataset does not have; its columns: {', '.join(columns)}")
    targets = list(mapping.values())
    duplicates = sorted({t for t in targets if targets.count(t) > 1})
    if duplicates:
        raise DataError(f"dataset {config.name!r}: column_mapping maps several columns to {', '.join(duplicates)}")
    replaced = [t for t in targets if t in columns and t not in mapping]
    if replaced:
        logger.info("dataset %r: column_mapping replaces existing column(s) %s", config.name, ", ".join(replaced))
        dataset = dataset.remove_columns(replaced)
    return dataset.rename_columns(mapping)


def _fn_name(fn: Any) -> str:
    return f"{getattr(fn, '__module__', '?')}.{getattr(fn, '__qualname__', repr(fn))}"


def _map_rows(dataset: Any, fn: Any, kwargs: dict, name: str) -> Any:
    """``datasets.Dataset.map`` semantics for one row at a time (the returned dict updates the row; None
    keeps it), in plain Python, which is several times faster than ``map`` for per-row functions."""
    from .sources.rows import rows_to_dataset

    rows = dataset.to_list()
    out = []
    for index, row in enumerate(rows):
        update = fn(row, **kwargs)
        if update is None:
            out.append(row)
        elif isinstance(update, dict):
            out.append({**row, **update})
        else:
            raise DataError(f"dataset {name!r}: processing_fn returned a {type(update).__name__} for row {index}; "
                            "it must return a dict of columns (or None)")
    return rows_to_dataset(out, f"dataset {name!r} after processing_fn")


class _checked_row_fn:
    """A per-row ``processing_fn`` whose non-dict results are reported like :func:`_map_rows` does."""

    def __init__(self, fn: Any, name: str):
        self.fn, self.name = fn, name

    def __call__(self, row: dict, **kwargs: Any) -> Any:
        update = self.fn(row, **kwargs)
        if update is not None and not isinstance(update, dict):
            raise DataError(f"dataset {self.name!r}: processing_fn returned a {type(update).__name__}; "
                            "it must return a dict of columns (or None)")
        return update


def apply_processing_fn(dataset: Any, config: Any) -> Any:
    """Run ``processing_fn`` (per row, or per batch with ``processing_batched``) with its kwargs, in
    ``dataset_num_proc`` processes (``datasets.map(num_proc=...)``) when that is set."""
    fn = config.processing_fn
    if fn is None:
        return dataset
    kwargs = dict(config.processing_fn_kwargs or {})
    num_proc = getattr(config, "dataset_num_proc", None)
    try:
        if config.processing_batched:
            out = dataset.map(fn, batched=True, fn_kwargs=kwargs, load_from_cache_file=False, num_proc=num_proc,
                              desc=f"processing_fn on {config.name}")
        elif num_proc is not None and num_proc > 1:
            # several processes: datasets.map (same semantics: a dict updates the row, None keeps it)
            out = dataset.map(_checked_row_fn(fn, config.name), fn_kwargs=kwargs, load_from_cache_file=False,
                              num_proc=num_proc, desc=f"processing_fn on {config.name}")
        else:
            out = _map_rows(dataset, fn, kwargs, config.name)
    except DataError:
        raise
    except Exception as exc:  # noqa: BLE001 - user code can raise anything; reported against the dataset
        first = (str(exc).strip().splitlines() or [""])[0][:300]
        raise DataError(f"dataset {config.name!r}: processing_fn {_fn_name(fn)} failed "
                        f"({type(exc).__name__}: {first})") from None
    if len(out) == 0:
        raise DataError(f"dataset {config.name!r}: processing_fn {_fn_name(fn)} left no rows")
    return out


def check_preserved(dataset: Any, config: Any) -> None:
    """:class:`DataError` when a ``preserve_columns`` column is absent."""
    missing = [c for c in (config.preserve_columns or []) if c not in dataset.column_names]
    if missing:
        raise DataError(f"dataset {config.name!r}: preserve_columns names column(s) {', '.join(map(repr, missing))} "
                        f"that the dataset does not have; its columns: {', '.join(dataset.column_names)}")
