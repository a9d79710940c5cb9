"""DatasetCache: processed datasets stored with ``save_to_disk`` under a key that covers everything the
result depends on, written atomically, cleaned up by age and size.

The key hashes: each dataset's source identity (local files: path, size, mtime and content hash; Hub:
name, subset and revision -- for an unpinned revision, the commit it resolves to now, asked from the
Hub or, offline, read from the local Hub cache; built-in: name, seed and generator version; in-memory: content hash), its
split and selection, column mapping and processing settings (the processing function's source code,
or its qualified name when the source is unavailable, and its kwargs), the format, the data seed, the
tokenizer (name, vocabulary size, chat template) and this package's version.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import logging
import os
import shutil
import time
import uuid
from pathlib import Path
from typing import Any

from .errors import DataError
from .selection import parse_split
from .sources import find_source
from .sources.base import SplitSource

logger = logging.getLogger("aligntune.data")
_META = "aligntune_cache.json"
_EXCLUDED_FIELDS = {"processing_fn", "dataset_num_proc", "pad_token", "label_pad_token_id", "padding_free",
                    "precompute_ref_log_probs", "precompute_ref_batch_size", "tools"}


def function_identity(fn: Any) -> str | None:
    """The source code of ``fn`` (so editing it invalidates the cache), else its qualified name."""
    if fn is None:
        return None
    try:
        return inspect.getsource(fn)
    except (OSError, TypeError):
        return f"{getattr(fn, '__module__', '?')}:{getattr(fn, '__qualname__', repr(fn))}"


def tokenizer_identity(tokenizer: Any) -> dict[str, Any] | None:
    if tokenizer is None:
        return None
    template = getattr(tokenizer, "chat_template", None)
    return {"name": getattr(tokenizer, "name_or_path", type(tokenizer).__name__),
            "vocab": len(tokenizer) if hasattr(tokenizer, "__len__") else None,
            "template": hashlib.sha256(str(template).encode()).hexdigest() if template else None}


def _source_identity(config: Any, seed: int) -> list[Any]:
    source = find_source(config)
    if not isinstance(source, SplitSource):
        return [{"source": getattr(source, "name", type(source).__name__), "name": config.name}]
    return [source.identity(config, part.name, seed) for part in parse_split(config.split)]


def _dir_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


class DatasetCache:
    """Processed datasets under ``root`` (one folder per key)."""

    def __init__(self, root: str | os.PathLike = "./cache", *, enabled: bool = True, max_size_gb: float | None = None,
                 max_age_days: float | None = None):
        self.root = Path(root).expanduser() / "datasets"
        self.enabled = enabled
        self.max_size_gb = max_size_gb
        self.max_age_days = max_age_days

    @classmethod
    def from_config(cls, caching: Any) -> DatasetCache:
        """From a ``CachingConfig`` (``caching:`` section)."""
        return cls(caching.root, enabled=caching.enabled, max_size_gb=caching.max_size_gb,
                   max_age_days=caching.max_age_days)

    def key(self, configs: list[Any], *, format: str, seed: int, tokenizer: Any = None,
            max_length: int | None = None) -> str:
        """The cache key of loading ``configs`` with these settings."""
        return self.key_of(self.describe(configs, format=format, seed=seed, tokenizer=tokenizer,
                                         max_length=max_length))

    @staticmethod
    def key_of(described: dict[str, Any]) -> str:
        """The key of a :meth:`describe` payload."""
        text = json.dumps(described, sort_keys=True, default=repr)
        return hashlib.sha256(text.encode()).hexdigest()[:32]

    def describe(self, configs: list[Any], *, format: str, seed: int, tokenizer: Any = None,
                 max_length: int | None = None) -> dict[str, Any]:
        """Everything the result of loading ``configs`` depends on (what :meth:`key` hashes)."""
        from . import __version__

        described = []
        for config in configs:
            fields = config.model_dump(mode="json", exclude=_EXCLUDED_FIELDS)
            fields["processing_fn"] = function_identity(config.processing_fn)
            fields["source"] = _source_identity(config, seed)
            described.append(fields)
        return {"version": __version__, "format": format, "seed": seed, "max_length": max_length,
                "tokenizer": tokenizer_identity(tokenizer), "datasets": described}

    def path(self, key: str) -> Path:
        return self.root / key

    def get(self, key: str) -> Any:
        """The cached dataset of ``key``, or None; a damaged entry is removed and treated as a miss."""
        import datasets

        folder = self.path(key)
        if not (folder / _META).is_file():
            return None
        try:
            dataset = datasets.load_from_disk(str(folder), keep_in_memory=False)
        except (OSError, ValueError, FileNotFoundError) as exc:
            logger.warning("dataset cache entry %s is damaged (%s); rebuilding it", key, exc)
            shutil.rmtree(folder, ignore_errors=True)
            return None
        os.utime(folder / _META)  # last use, for cleanup
        return dataset

    def put(self, key: str, dataset: Any, meta: dict[str, Any] | None = None) -> Path:
        """Store ``dataset`` under ``key``: written to a temporary folder, then renamed into place."""
        self.root.mkdir(parents=True, exist_ok=True)
        target = self.path(key)
        tmp = self.root / f".tmp-{key}-{uuid.uuid4().hex[:8]}"
        try:
            dataset.save_to_disk(str(tmp))
            (tmp / _META).write_text(json.dumps({"key": key, "created": time.time(), "rows": len(dataset),
                                                 **(meta or {})}, default=repr))
            try:
                os.replace(tmp, target)
            except OSError:
                if (target / _META).is_file():  # another process stored the same key first
                    logger.debug("dataset cache entry %s was written concurrently; keeping the other", key)
                else:
                    shutil.rmtree(target, ignore_errors=True)
                    os.replace(tmp, target)
        except OSError as exc:
            raise DataError(f"dataset cache: cannot write {target} ({exc})") from None
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        if self.max_age_days is not None or self.max_size_gb is not None:
            self.cleanup()
        return target

    def entries(self) -> list[dict[str, Any]]:
        """Every complete entry: key, path, size in bytes, last use time."""
        if not self.root.is_dir():
            return []
        out = []
        for folder in self.root.iterdir():
            meta = folder / _META
            if folder.is_dir() and meta.is_file():
                out.append({"key": folder.name, "path": folder, "bytes": _dir_size(folder),
                            "last_used": meta.stat().st_mtime})
        return sorted(out, key=lambda e: e["last_used"])

    def cleanup(self, max_age_days: float | None = None, max_size_gb: float | None = None) -> list[str]:
        """Remove entries unused for longer than ``max_age_days``, then the least recently used ones until
        the cache fits ``max_size_gb``. Leftover temporary folders older than an hour go too."""
        max_age_days = self.max_age_days if max_age_days is None else max_age_days
        max_size_gb = self.max_size_gb if max_size_gb is None else max_size_gb
        removed = []
        now = time.time()
        entries = self.entries()
        if max_age_days is not None:
            for entry in list(entries):
                if now - entry["last_used"] > max_age_days * 86400:
                    shutil.rmtree(entry["path"], ignore_errors=True)
                    removed.append(entry["key"])
                    entries.remove(entry)
        if max_size_gb is not None:
            total = sum(e["bytes"] for e in entries)
            for entry in list(entries):
                if total <= max_size_gb * 1024 ** 3:
                    break
                shutil.rmtree(entry["path"], ignore_errors=True)
                removed.append(entry["key"])
                total -= entry["bytes"]
        if self.root.is_dir():
            for tmp in self.root.glob(".tmp-*"):
                if now - tmp.stat().st_mtime > 3600:
                    shutil.rmtree(tmp, ignore_errors=True)
        if removed:
            logger.info("dataset cache: removed %d entries", len(removed))
        return removed

    def clear(self) -> None:
        """Remove every entry."""
        shutil.rmtree(self.root, ignore_errors=True)
