"""Files shipped inside installed PyPI packages, found through the distribution's file list (without
importing the package, whose ``__init__`` may pull in things we don't want)."""

from __future__ import annotations

from collections.abc import Callable
from importlib import metadata
from pathlib import Path


def packaged_file(dist_name: str, matches: Callable[[metadata.PackagePath], bool], what: str) -> Path:
    """The first installed file of ``dist_name`` that ``matches``; FileNotFoundError saying what is
    missing (``what`` names the thing the file provides)."""
    try:
        dist = metadata.distribution(dist_name)
    except metadata.PackageNotFoundError as exc:
        raise FileNotFoundError(f"{what} comes from the PyPI package {dist_name!r}, which is not installed; "
                                "install aligntune-backends with its dependencies") from exc
    for file in dist.files or ():
        if matches(file):
            path = Path(dist.locate_file(file))
            if path.is_file():
                return path
    raise FileNotFoundError(f"package {dist_name!r} is installed but the file of {what} is missing")
