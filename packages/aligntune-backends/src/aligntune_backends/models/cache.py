"""The model cache: folders built once, published atomically, reused afterwards.

A cached model is a folder ``<cache>/<key>`` that ``from_pretrained`` loads. It is built in a temporary
folder beside it and published with :func:`os.replace`, so no process ever sees a half-written folder.
Builders of the same key are serialised with an exclusive file lock (``fcntl.flock``), so concurrent
first use builds once; the others wait and then reuse the published folder.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

logger = logging.getLogger("aligntune.models.cache")

CACHE_ENV = "ALIGNTUNE_CACHE"
COMPLETE_MARKER = ".aligntune-complete"


def cache_dir() -> Path:
    """The model cache: ``$ALIGNTUNE_CACHE/models`` when ``ALIGNTUNE_CACHE`` is set (it names AlignTune's
    cache root, shared with other caches), else ``~/.cache/aligntune/models``."""
    env = os.environ.get(CACHE_ENV)
    root = Path(env).expanduser() if env else Path.home() / ".cache" / "aligntune"
    return root / "models"


@contextlib.contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    """An exclusive advisory lock on ``path`` (created if missing); a no-op where fcntl is absent."""
    try:
        import fcntl
    except ImportError:  # not POSIX: rely on the atomic rename alone
        yield
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def is_complete(folder: Path) -> bool:
    """Whether ``folder`` is a published cache entry."""
    return (folder / COMPLETE_MARKER).is_file()


def get_or_build(key: str, build: Callable[[Path], None], *, root: Path | None = None) -> Path:
    """The cached folder for ``key``; built with ``build(tmp_folder)`` on first use.

    ``build`` writes everything into the empty folder it is given; the folder is then marked complete
    and renamed into place. A failed build leaves nothing behind.
    """
    root = root or cache_dir()
    target = root / key
    if is_complete(target):
        logger.debug("model cache hit: %s", target)
        return target
    root.mkdir(parents=True, exist_ok=True)
    with _file_lock(root / f".{key}.lock"):
        if is_complete(target):  # another process built it while we waited
            logger.debug("model cache hit after waiting for the lock: %s", target)
            return target
        for stale in root.glob(f".{key}.tmp-*"):  # left by a killed builder: we hold the lock now
            logger.info("removing an unfinished build of %s: %s", key, stale)
            shutil.rmtree(stale, ignore_errors=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{key}.tmp-", dir=root))
        start = time.monotonic()
        try:
            build(tmp)
            (tmp / COMPLETE_MARKER).write_text(f"built in {time.monotonic() - start:.1f} s\n")
            if target.exists():  # an incomplete leftover (e.g. copied by hand): replace it
                shutil.rmtree(target)
            os.replace(tmp, target)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    logger.info("cached %s in %.1f s at %s", key, time.monotonic() - start, target)
    return target
