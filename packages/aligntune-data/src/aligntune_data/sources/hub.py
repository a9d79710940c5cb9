"""Hugging Face Hub datasets by name, subset, split and revision, through ``datasets.load_dataset``."""

from __future__ import annotations

import logging
import os
from pathlib import Path
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
            return datasets.load_dataset(repo, config.subset, split=split, revision=config.revision,
                                         num_proc=getattr(config, "dataset_num_proc", None))
        except Exception as exc:  # noqa: BLE001 - datasets/huggingface_hub raise many types; one clear error
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]
            hint = (" The Hub is not reachable: HF_HUB_OFFLINE/HF_DATASETS_OFFLINE is set, and the dataset is "
                    "not in the local cache; use a local file or a builtin: dataset." if _offline() else
                    " Check the name, subset and split, and the network.")
            raise DataError(f"{where}, split {split!r}: cannot be loaded ({type(exc).__name__}: {first}).{hint}") from None

    def identity(self, config: Any, split: str, seed: int = 47) -> dict[str, Any]:
        """Name, subset and revision; with no pinned revision also ``commit``, the commit the default
        branch resolves to now (None when it cannot be found), so an upstream change is a new cache key."""
        identity = {"source": self.name, "repo": self.repo(config), "subset": config.subset,
                    "revision": config.revision or "latest"}
        if not config.revision:
            identity["commit"] = hub_commit(self.repo(config))
        return identity


def _cached_commit(repo: str, ref: str) -> str | None:
    """The commit ``ref`` pointed to when ``repo`` was last downloaded into the local Hub cache (what
    ``datasets`` loads offline), or None."""
    try:
        from huggingface_hub import constants

        path = Path(constants.HF_HUB_CACHE) / f"datasets--{repo.replace('/', '--')}" / "refs" / ref
        commit = path.read_text(encoding="utf-8").strip() if path.is_file() else ""
    except (ImportError, OSError):
        return None
    return commit or None


def hub_commit(repo: str, revision: str | None = None) -> str | None:
    """The commit sha that ``revision`` (default: the main branch) of Hub dataset ``repo`` resolves to:
    asked from the Hub when online, else read from the local Hub cache; None when neither knows (a local
    folder, offline and never downloaded, no network)."""
    if Path(repo).exists():
        return None  # a local folder read through datasets.load_dataset: identified by the local source
    if not _offline():
        try:
            from huggingface_hub import HfApi

            sha = HfApi().dataset_info(repo, revision=revision, timeout=10).sha
            if sha:
                return sha
        except Exception as exc:  # noqa: BLE001 - network/auth/not-found: fall back to the local cache
            logger.debug("cannot resolve the current commit of Hub dataset %r: %s", repo, exc)
    return _cached_commit(repo, revision or "main")


HUB_SOURCE = HubSource()
