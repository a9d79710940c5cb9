"""Hugging Face Hub datasets by name, subset, split and revision, through ``datasets.load_dataset``."""

from __future__ import annotations

import logging
import os
from typing import Any

from ..errors import DataError
from .base import SplitSource

logger = logging.getLogger("aligntune.data")


def _offline() -> bool:
    return any(os.environ.get(var, "").strip().lower() in ("1", "true", "yes", "on")
               for var in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE"))


class HubSource(SplitSource):
    """A Hub dataset id (``owner/name``, optionally ``hf:owner/name``)."""

    name = "hub"

    def can_load(self, config: Any) -> bool:
        name = config.name
        return not name.startswith(("builtin:", "memory:", "file:")) and bool(name.strip())

    @staticmethod
    def repo(config: Any) -> str:
        return config.name.removeprefix("hf:")

    def load_split(self, config: Any, split: str, seed: int = 47) -> Any:
        import datasets

        repo = self.repo(config)
        where = f"Hub dataset {repo!r}" + (f" (subset {config.subset!r})" if config.subset else "")
        logger.info("loading %s, split %r%s", where, split, f" at revision {config.revision}" if config.revision else "")
        try:
            return datasets.load_dataset(repo, config.subset, split=split, revision=config.revision)
        except Exception as exc:  # noqa: BLE001 - datasets/huggingface_hub raise many types; one clear error
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]
            hint = (" The Hub is not reachable: HF_HUB_OFFLINE/HF_DATASETS_OFFLINE is set, and the dataset is "
                    "not in the local cache; use a local file or a builtin: dataset." if _offline() else
                    " Check the name, subset and split, and the network.")
            raise DataError(f"{where}, split {split!r}: cannot be loaded ({type(exc).__name__}: {first}).{hint}") from None

    def identity(self, config: Any, split: str, seed: int = 47) -> dict[str, Any]:
        return {"source": self.name, "repo": self.repo(config), "subset": config.subset,
                "revision": config.revision or "latest"}


HUB_SOURCE = HubSource()
