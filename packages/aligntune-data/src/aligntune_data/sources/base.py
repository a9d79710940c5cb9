"""Shared behaviour of the sources: a split expression is loaded part by part and sliced here, so
``train[:10%]`` means the same thing for files, memory, built-ins and the Hub."""

from __future__ import annotations

from typing import Any

from ..errors import DataError
from ..selection import parse_split


class SplitSource:
    """Base of the built-in sources: subclasses implement ``load_split`` (a whole named split) and
    ``identity`` (what the rows depend on, for cache keys)."""

    name = "base"

    def load_split(self, config: Any, split: str, seed: int = 47) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def identity(self, config: Any, split: str, seed: int = 47) -> dict[str, Any]:  # pragma: no cover
        raise NotImplementedError

    def load(self, config: Any, seed: int = 47) -> Any:
        """The rows of ``config.split`` (slices applied, parts joined by '+' concatenated)."""
        import datasets

        parts = []
        for part in parse_split(config.split):
            dataset = self.load_split(config, part.name, seed)
            indices = part.indices(len(dataset))
            if part.sliced:
                dataset = dataset.select(indices)
            parts.append(dataset)
        if len(parts) == 1:
            return parts[0]
        try:
            return datasets.concatenate_datasets(parts)
        except ValueError as exc:
            raise DataError(f"dataset {config.name!r}: the splits of {config.split!r} have different columns "
                            f"({str(exc).splitlines()[0]})") from None
