"""Registries that find implementations through Python entry points.

Each kind has its own entry-point group (``aligntune.rewards``, ``aligntune.metrics``, ...). An entry
point's name is the component's name and its value an import path; nothing is imported until a name is
looked up (or everything is listed), so ``import aligntune_config`` stays light. Components can also be
registered in code with :meth:`Registry.register`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from importlib import metadata
from typing import Any, Generic, TypeVar

from .errors import did_you_mean

logger = logging.getLogger("aligntune.registry")
T = TypeVar("T")


class UnknownComponentError(LookupError):
    """A name no registry entry has. The message lists the known names."""

    def __init__(self, kind: str, name: str, known: list[str]):
        self.kind, self.name, self.known = kind, name, known
        hint = did_you_mean(name, known)
        listing = ", ".join(known) if known else "none (is the package that provides them installed?)"
        super().__init__(f"unknown {kind} {name!r}{hint} Known {kind}s: {listing}")

    def __str__(self) -> str:  # LookupError would quote the message
        return self.args[0]


class ComponentLoadError(ImportError):
    """An entry point that exists but fails to import."""


@dataclass
class _Entry:
    name: str
    source: str  # "entry point <dist>" or "code"
    loader: Callable[[], Any] | None = None
    obj: Any = None
    loaded: bool = False


class Registry(Generic[T]):
    """Name -> component, discovered lazily from the entry-point group ``group``."""

    def __init__(self, kind: str, group: str, normalize: Callable[[str], str] | None = None):
        self.kind = kind
        self.group = group
        self._normalize = normalize or (lambda s: s.strip().lower().replace("-", "_"))
        self._entries: dict[str, _Entry] = {}
        self._discovered = False
        self._lock = threading.RLock()

    # -- discovery ------------------------------------------------------------------------------
    def _discover(self) -> None:
        if self._discovered:
            return
        with self._lock:
            if self._discovered:
                return
            for ep in metadata.entry_points(group=self.group):
                key = self._normalize(ep.name)
                dist = getattr(getattr(ep, "dist", None), "name", "?")
                if key in self._entries:
                    if self._entries[key].source == "code":
                        continue  # code registration wins
                    logger.warning("%s %r is provided twice (%s and %s); keeping the first", self.kind, key,
                                   self._entries[key].source, dist)
                    continue
                self._entries[key] = _Entry(key, f"entry point of {dist}", loader=ep.load)
            self._discovered = True

    def refresh(self) -> None:
        """Forget entry points found so far (keeps code registrations) and look again."""
        with self._lock:
            self._entries = {k: e for k, e in self._entries.items() if e.source == "code"}
            self._discovered = False

    # -- use --------------------------------------------------------------------------------------
    def register(self, name: str, obj: T | None = None, *, replace: bool = False) -> Any:
        """Register ``obj`` under ``name``; usable as a decorator when ``obj`` is omitted."""

        def do(target: T) -> T:
            key = self._normalize(name)
            with self._lock:
                if key in self._entries and not replace and self._entries[key].obj is not target:
                    raise ValueError(f"{self.kind} {key!r} is already registered ({self._entries[key].source}); "
                                     "pass replace=True to override it")
                self._entries[key] = _Entry(key, "code", obj=target, loaded=True)
            return target

        return do if obj is None else do(obj)

    def unregister(self, name: str) -> None:
        with self._lock:
            self._entries.pop(self._normalize(name), None)

    def get(self, name: str) -> T:
        """The component registered as ``name``; :class:`UnknownComponentError` if there is none."""
        self._discover()
        key = self._normalize(name)
        entry = self._entries.get(key)
        if entry is None:
            raise UnknownComponentError(self.kind, name, self.names())
        if not entry.loaded:
            with self._lock:
                if not entry.loaded:
                    try:
                        entry.obj = entry.loader()  # type: ignore[misc]
                    except Exception as exc:  # an entry point's import can fail in any way
                        raise ComponentLoadError(
                            f"{self.kind} {key!r} ({entry.source}) failed to load: {type(exc).__name__}: {exc}"
                        ) from exc
                    entry.loaded = True
        return entry.obj

    def __contains__(self, name: object) -> bool:
        self._discover()
        return isinstance(name, str) and self._normalize(name) in self._entries

    def names(self) -> list[str]:
        self._discover()
        return sorted(self._entries)

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def __len__(self) -> int:
        return len(self.names())

    def describe(self) -> dict[str, str]:
        """Name -> one-line description (first docstring line, or a ``description`` attribute).
        Loads every entry; names that fail to load are described by their error."""
        out = {}
        for name in self.names():
            try:
                obj = self.get(name)
            except ComponentLoadError as exc:
                out[name] = f"(unavailable: {exc.__cause__})"
                continue
            text = getattr(obj, "description", None) or (obj.__doc__ or "").strip().splitlines()[:1]
            out[name] = text if isinstance(text, str) else (text[0] if text else "")
        return out


REWARDS: Registry[Any] = Registry("reward", "aligntune.rewards")
METRICS: Registry[Any] = Registry("metric", "aligntune.metrics")
ALGORITHMS: Registry[Any] = Registry("algorithm", "aligntune.algorithms")
BACKENDS: Registry[Any] = Registry("backend", "aligntune.backends")
DATASET_SOURCES: Registry[Any] = Registry("dataset source", "aligntune.dataset_sources")
SCHEMA_ADAPTERS: Registry[Any] = Registry("schema adapter", "aligntune.schema_adapters")
BUILTIN_DATASETS: Registry[Any] = Registry("built-in dataset", "aligntune.datasets")
MODEL_SOURCES: Registry[Any] = Registry("model source", "aligntune.model_sources")
TASKS: Registry[Any] = Registry("task", "aligntune.tasks")

ALL_REGISTRIES = {r.group: r for r in (REWARDS, METRICS, ALGORITHMS, BACKENDS, DATASET_SOURCES, SCHEMA_ADAPTERS,
                                       BUILTIN_DATASETS, MODEL_SOURCES, TASKS)}
