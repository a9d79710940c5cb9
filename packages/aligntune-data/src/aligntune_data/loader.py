"""``load_dataset``: one or several datasets, selected, adapted to a canonical format, mixed and cached."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from aligntune_config import DatasetConfig
from aligntune_config.spec_strings import parse_dataset_spec

from .adapters import RowAdapter, configured_adapter, detect_adapter, get_adapter, task_type_of
from .canonical import Context
from .errors import DataError
from .formats import check_format
from .processing import apply_column_mapping, apply_processing_fn, check_preserved
from .selection import mix_counts, select_rows, take
from .sources import find_source
from .sources.base import SplitSource
from .sources.memory import fingerprint, is_in_memory, register_in_memory
from .sources.rows import rows_to_dataset
from .templating import Renderer

logger = logging.getLogger("aligntune.data")

_FORMAT_BY_FORMAT_TYPE = {"hh-rlhf": "preference", "ultrafeedback": "preference", "preference": "preference",
                          "gsm8k": "prompt", "mbpp": "prompt", "humaneval": "prompt", "prompt": "prompt"}


def _looks_like_configs(obj: Any) -> bool:
    """A list of dicts that are DatasetConfig fields (each with a ``name``), not rows of data."""
    known = set(DatasetConfig.model_fields) | set(DatasetConfig._aliases)
    return isinstance(obj, list) and all(
        isinstance(item, dict) and ("name" in item or "dataset_name" in item) and set(item) <= known for item in obj)


def _parse_spec(text: str) -> dict[str, Any]:
    """Parse a dataset spec; ``memory:NAME`` is read like the ``builtin:`` scheme (the prefix is part of the name)."""
    stripped = text.strip()
    if stripped.startswith("memory:"):
        fields = parse_dataset_spec("builtin:" + stripped[len("memory:"):])
        fields["name"] = "memory:" + fields["name"][len("builtin:"):]
        return fields
    return parse_dataset_spec(text)


def as_configs(config_or_spec: Any) -> list[DatasetConfig]:
    """DatasetConfigs from a DatasetConfig, a spec string, a dict, in-memory data, or a list of those."""
    if is_in_memory(config_or_spec) and not _looks_like_configs(config_or_spec):
        return [DatasetConfig(name=register_in_memory(fingerprint(config_or_spec), config_or_spec))]
    items = config_or_spec if isinstance(config_or_spec, (list, tuple)) else [config_or_spec]
    if not items:
        raise DataError("load_dataset: no datasets given")
    out = []
    for item in items:
        if isinstance(item, DatasetConfig):
            out.append(item)
        elif isinstance(item, str):
            try:
                out.append(DatasetConfig(**_parse_spec(item)))
            except ValueError as exc:
                raise DataError(f"dataset spec {item!r} is malformed: {exc}") from None
        elif isinstance(item, dict):
            try:
                out.append(DatasetConfig(**item))
            except ValueError as exc:
                raise DataError(f"dataset config {item!r} is invalid: {exc}") from None
        else:
            raise DataError(f"load_dataset: expected a DatasetConfig, a spec string, a dict, a list of dicts (rows) "
                            f"or a datasets.Dataset; got {type(item).__name__}")
    return out


def default_format(configs: Sequence[DatasetConfig]) -> str:
    """The format when none is given: preference for preference schemas, prompt for benchmark ones, else sft."""
    kinds = {_FORMAT_BY_FORMAT_TYPE.get((c.format_type or "").replace("_", "-"), "sft") for c in configs}
    return kinds.pop() if len(kinds) == 1 else "sft"


def default_max_length(tokenizer: Any) -> int | None:
    limit = getattr(tokenizer, "model_max_length", None)
    return int(limit) if isinstance(limit, int) and 0 < limit <= 1_000_000 else None


def load_raw(config: DatasetConfig, seed: int) -> Any:
    """The rows of ``config``'s split (slices, percent and max_samples applied), columns mapped and
    ``processing_fn`` applied -- before the schema adapter."""
    source = find_source(config)
    raw = source.load(config, seed) if isinstance(source, SplitSource) else source.load(config)
    if len(raw) == 0:
        raise DataError(f"dataset {config.name!r}: split {config.split!r} has no rows")
    raw = select_rows(raw, percent=config.percent, max_samples=config.max_samples, shuffle=False, seed=seed)
    raw = apply_column_mapping(raw, config)
    raw = apply_processing_fn(raw, config)
    check_preserved(raw, config)
    return raw


def adapt(raw: Any, config: DatasetConfig, format: str, tokenizer: Any = None, max_length: int | None = None) -> Any:
    """``raw`` in the canonical ``format`` through the configured or detected schema adapter."""
    if config.format_type:
        adapter = get_adapter(config.format_type)
        logger.info("dataset %r: using the %s schema adapter (format_type)", config.name, adapter.name)
    elif config.auto_detect_fields is False:
        adapter = configured_adapter(raw.column_names, config, format)
    else:  # True, or None (a DatasetConfig used outside a UnifiedConfig)
        task_type, explicit = task_type_of(config)
        adapter = detect_adapter(raw.column_names, config.name, format, task_type, explicit)
    if not isinstance(adapter, RowAdapter):
        return adapter.adapt(raw, config, format)
    renderer = Renderer(config.chat_template, tokenizer) if config.chat_template is not None else None
    ctx = Context(format=format, dataset=config.name, conversational=config.chat_template is not None,
                  system_prompt=config.system_prompt, renderer=renderer, tokenizer=tokenizer,
                  max_length=max_length, preserve=list(config.preserve_columns or []))
    return adapter.adapt(raw, config, format, context=ctx)


def shuffled(dataset: Any, seed: int) -> Any:
    import numpy as np

    from .selection import cheap_fingerprint

    permutation = np.random.default_rng(seed).permutation(len(dataset)).tolist()
    return dataset.select(permutation, new_fingerprint=cheap_fingerprint(dataset, "shuffle", seed))


def with_num_proc(configs: Sequence[DatasetConfig], num_proc: int | None) -> list[DatasetConfig]:
    """``configs`` with ``dataset_num_proc`` filled from the global ``num_proc`` where unset."""
    if num_proc is None:
        return list(configs)
    if isinstance(num_proc, bool) or not isinstance(num_proc, int) or num_proc < 1:
        raise DataError(f"load_dataset: num_proc must be a positive integer or None; got {num_proc!r}")
    return [c if c.dataset_num_proc is not None else c.model_copy(update={"dataset_num_proc": num_proc})
            for c in configs]


def build(configs: Sequence[DatasetConfig], format: str, tokenizer: Any, seed: int, max_length: int | None) -> Any:
    """Load, adapt and mix ``configs`` (no cache)."""
    parts = [adapt(load_raw(c, seed), c, format, tokenizer, max_length) for c in configs]
    if len(parts) == 1:
        return shuffled(parts[0], seed) if configs[0].shuffle else parts[0]
    counts = mix_counts([len(p) for p in parts], [c.weight for c in configs])
    logger.info("mixing %s", ", ".join(f"{n} rows of {c.name!r} (weight {c.weight:g})" for n, c in zip(counts, configs)))
    rows = []
    for index, (part, count, config) in enumerate(zip(parts, counts, configs)):
        rows.extend(take(part, count, shuffle=config.shuffle, seed=seed + index).to_list())
    try:
        mixed = rows_to_dataset(rows, "the mix of " + ", ".join(repr(c.name) for c in configs))
    except DataError as exc:
        raise DataError(f"{exc} (datasets in one mix must give the same columns the same types: set chat_template "
                        "on all of them or on none)") from None
    return shuffled(mixed, seed) if any(c.shuffle for c in configs) else mixed


def refuse_unbuilt(configs: list[Any]) -> None:
    """Token classification (NER) data is not built: its fields are refused rather than ignored."""
    for config in configs:
        task = getattr(config.task_type, "value", config.task_type)
        if task == "token_classification" or config.tokens_column != "tokens" or config.tags_column != "ner_tags":
            raise DataError(f"dataset {config.name!r}: token classification (task_type token_classification, "
                            "tokens_column, tags_column) is not built yet")


def load_dataset(config_or_spec: Any, *, format: str | None = None, tokenizer: Any = None, data_seed: int = 47,
                 cache: Any = None, max_length: int | None = None, num_proc: int | None = None) -> Any:
    """Load datasets in a canonical format, ready for training.

    ``config_or_spec``: a :class:`DatasetConfig`, a spec string (``name[:split][#percent=N|max=N][?map.a=b]``),
    a dict of DatasetConfig fields, a list of those (mixed by weight), or in-memory rows (a list of dicts,
    a ``datasets.Dataset``). ``format``: ``sft``, ``preference`` or ``prompt`` (see
    :func:`format_for_algorithm`); default from the format types, else ``sft``. ``tokenizer``: renders
    chat templates and enables the over-length check (``max_length``, default the tokenizer's
    ``model_max_length``). ``data_seed``: shuffling, mixing and built-in generation. ``cache``: a
    :class:`DatasetCache`, a ``CachingConfig`` or a folder path. ``num_proc``: processes for the
    ``datasets`` work (``processing_fn`` maps, Hub downloads) of every dataset without its own
    ``dataset_num_proc`` (e.g. ``train.dataset_num_proc``).

    Raises :class:`DataError` naming the dataset, file, row or field for every problem of the data.
    """
    configs = with_num_proc(as_configs(config_or_spec), num_proc)
    refuse_unbuilt(configs)
    format = check_format(format) if format is not None else default_format(configs)
    if tokenizer is not None and max_length is None:
        max_length = default_max_length(tokenizer)
    store = _as_cache(cache)
    if store is None:
        return build(configs, format, tokenizer, data_seed, max_length)
    described = store.describe(configs, format=format, seed=data_seed, tokenizer=tokenizer, max_length=max_length)
    key = store.key_of(described)
    hit = store.get(key)
    if hit is not None:
        logger.info("dataset cache hit %s", key)
        for name in unresolved_hub_datasets(described):
            logger.warning("dataset cache hit for Hub dataset %r, which has no pinned revision and whose current "
                           "commit could not be found (offline, and not in the local Hub cache): the cached rows "
                           "may be stale if the dataset changed upstream. Pin it with revision: <commit sha> (or "
                           "clear the cache folder %s)", name, store.root)
        return hit
    dataset = build(configs, format, tokenizer, data_seed, max_length)
    store.put(key, dataset, {"datasets": [c.name for c in configs], "format": format, "seed": data_seed})
    return dataset


def unresolved_hub_datasets(described: dict[str, Any]) -> list[str]:
    """Names of the Hub datasets in a cache description with no pinned revision and no known commit."""
    names = []
    for dataset in described.get("datasets", []):
        for part in dataset.get("source", []):
            if part.get("source") == "hub" and part.get("revision") == "latest" and not part.get("commit"):
                names.append(dataset.get("name"))
                break
    return names


def _as_cache(cache: Any) -> Any:
    from .cache import DatasetCache

    if cache is None or cache is False:
        return None
    if isinstance(cache, DatasetCache):
        return cache if cache.enabled else None
    if isinstance(cache, str) or hasattr(cache, "__fspath__"):
        return DatasetCache(cache)
    if hasattr(cache, "root") and hasattr(cache, "enabled"):  # CachingConfig
        return DatasetCache.from_config(cache) if cache.enabled else None
    raise DataError(f"cache must be a DatasetCache, a CachingConfig or a folder path; got {type(cache).__name__}")
