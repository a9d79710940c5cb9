"""Local files: jsonl, json (a list of objects), csv, parquet, arrow, gzip-compressed jsonl/json/csv,
a folder saved with ``Dataset.save_to_disk``, or a folder of such files."""

from __future__ import annotations

import gzip
import json
import logging
import os
from pathlib import Path
from typing import Any

from ..errors import DataError
from .base import SplitSource
from .rows import rows_to_dataset

logger = logging.getLogger("aligntune.data")

SUFFIXES = (".jsonl", ".ndjson", ".json", ".csv", ".parquet", ".arrow",
            ".jsonl.gz", ".ndjson.gz", ".json.gz", ".csv.gz")


def strip_scheme(name: str) -> str:
    return name.removeprefix("file:")


def looks_local(name: str) -> bool:
    """Whether ``name`` is meant as a local path (it exists, or has a file suffix or a path prefix)."""
    path = strip_scheme(name)
    if name.startswith("file:") or os.path.exists(os.path.expanduser(path)):
        return True
    return path.lower().endswith(SUFFIXES) or path.startswith(("/", "./", "../", "~", "\\")) or (
        len(path) > 2 and path[1] == ":" and path[2] in "/\\")


def _suffix(path: Path) -> str:
    name = path.name.lower()
    for suffix in sorted(SUFFIXES, key=len, reverse=True):
        if name.endswith(suffix):
            return suffix
    return ""


def _open_text(path: Path):
    if path.name.lower().endswith(".gz"):
        return gzip.open(path, "rt", encoding="utf-8")
    return open(path, encoding="utf-8")


def _read_text(path: Path) -> str:
    try:
        with _open_text(path) as handle:
            return handle.read()
    except (OSError, EOFError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: cannot be read as UTF-8 text ({type(exc).__name__}: {exc})") from None


def _jsonl_rows(path: Path, text: str) -> list[dict]:
    rows = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DataError(f"{path}, line {number}: not valid JSON ({exc.msg} at column {exc.colno})") from None
        if not isinstance(row, dict):
            raise DataError(f"{path}, line {number}: a JSON {type(row).__name__}, expected an object with named fields")
        rows.append(row)
    return rows


def _json_rows(path: Path, text: str) -> list[dict]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        if exc.msg == "Extra data":  # several objects, one a line: read it as jsonl
            return _jsonl_rows(path, text)
        raise DataError(f"{path}: not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})") from None
    if isinstance(data, dict):
        lists = [key for key, value in data.items() if isinstance(value, list)]
        if len(lists) == 1 and all(isinstance(v, dict) for v in data[lists[0]]):
            return data[lists[0]]
        if lists and len(lists) == len(data) and len({len(data[k]) for k in lists}) == 1:
            return [dict(zip(data, values)) for values in zip(*data.values())]  # columns
        raise DataError(f"{path}: a JSON object; expected a list of objects (or {{\"data\": [...]}})")
    if not isinstance(data, list):
        raise DataError(f"{path}: a JSON {type(data).__name__}; expected a list of objects")
    for index, row in enumerate(data):
        if not isinstance(row, dict):
            raise DataError(f"{path}: item {index} is a JSON {type(row).__name__}, expected an object")
    return data


def _csv_rows(path: Path) -> list[dict]:
    """CSV rows as dicts of strings (a header row names the fields)."""
    import csv

    try:
        with _open_text(path) as handle:
            reader = csv.DictReader(handle)
            rows = []
            for row in reader:
                if None in row:
                    raise DataError(f"{path}, line {reader.line_num}: more values than header fields")
                rows.append({k: ("" if v is None else v) for k, v in row.items()})
    except (OSError, EOFError, UnicodeDecodeError, csv.Error) as exc:
        raise DataError(f"{path}: cannot be read as CSV ({type(exc).__name__}: {exc})") from None
    if not rows:
        raise DataError(f"{path}: the file holds no rows (only a header, or nothing)")
    return rows


def _table_file(path: Path, suffix: str) -> Any:
    import datasets
    import pyarrow as pa

    try:
        if suffix == ".parquet":
            import pyarrow.parquet as pq

            table = pq.read_table(path)
        else:  # .arrow: the stream format datasets writes, or the IPC file format
            try:
                return datasets.Dataset.from_file(str(path))
            except (pa.ArrowInvalid, OSError, ValueError):
                from pyarrow import ipc

                table = ipc.open_file(path).read_all()
    except (pa.ArrowInvalid, pa.ArrowTypeError, OSError, ValueError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DataError(f"{path}: cannot be read as {suffix.lstrip('.')} ({first})") from None
    return datasets.Dataset(table)


def read_file(path: Path) -> Any:
    """One local file as a ``datasets.Dataset``; :class:`DataError` naming the file (and line) on problems."""
    suffix = _suffix(path)
    if not suffix:
        raise DataError(f"{path}: unsupported file type; supported: {', '.join(SUFFIXES)}")
    if path.stat().st_size == 0:
        raise DataError(f"{path}: the file is empty")
    if suffix in (".parquet", ".arrow"):
        dataset = _table_file(path, suffix)
    elif suffix in (".csv", ".csv.gz"):
        dataset = rows_to_dataset(_csv_rows(path), str(path))
    else:
        text = _read_text(path)
        if not text.strip():
            raise DataError(f"{path}: the file is empty")
        rows = _jsonl_rows(path, text) if "jsonl" in suffix or "ndjson" in suffix else _json_rows(path, text)
        if not rows:
            raise DataError(f"{path}: the file holds no rows")
        dataset = rows_to_dataset(rows, str(path))
    if len(dataset) == 0:
        raise DataError(f"{path}: the file holds no rows")
    return dataset


def _is_saved_dataset(folder: Path) -> bool:
    return (folder / "state.json").is_file() and (folder / "dataset_info.json").is_file()


def _folder_files(folder: Path, split: str) -> list[Path]:
    files = sorted(p for p in folder.rglob("*") if p.is_file() and _suffix(p) and not p.name.startswith("."))
    if not files:
        raise DataError(f"{folder}: the folder holds no data files ({', '.join(SUFFIXES)})")
    named = [p for p in files if p.name.lower().startswith(split.lower()) or p.parent.name.lower() == split.lower()]
    if named:
        return named
    if split == "train":
        return files
    raise DataError(f"{folder}: no files for split {split!r} (files named {split}*.jsonl, {split}.parquet, ...; "
                    f"found {', '.join(p.name for p in files[:5])})")


class LocalFileSource(SplitSource):
    """Rows from a local file or folder (``name`` is the path, optionally prefixed ``file:``)."""

    name = "local"

    def can_load(self, config: Any) -> bool:
        return looks_local(config.name)

    def identity(self, config: Any, split: str, seed: int = 47) -> dict[str, Any]:
        """What the rows depend on: every file's path, size, mtime and content hash."""
        import hashlib

        out = []
        for path in self.files(config, split):
            digest = hashlib.blake2b(digest_size=16)
            with open(path, "rb") as handle:
                for block in iter(lambda: handle.read(1 << 20), b""):
                    digest.update(block)
            stat = path.stat()
            out.append([str(path.resolve()), stat.st_size, stat.st_mtime_ns, digest.hexdigest()])
        return {"source": self.name, "files": out}

    def files(self, config: Any, split: str) -> list[Path]:
        """The files a split of this dataset reads."""
        path = Path(os.path.expanduser(strip_scheme(config.name)))
        if not path.exists():
            raise DataError(f"dataset {config.name!r}: the path {str(path)!r} does not exist")
        if path.is_file():
            return [path]
        if _is_saved_dataset(path):
            return sorted(p for p in path.iterdir() if p.is_file())
        return _folder_files(path, split)

    def load_split(self, config: Any, split: str, seed: int = 47) -> Any:
        """The whole split ``split`` (no slicing) as a ``datasets.Dataset``."""
        import datasets

        path = Path(os.path.expanduser(strip_scheme(config.name)))
        files = self.files(config, split)
        if path.is_dir() and _is_saved_dataset(path):
            return datasets.load_from_disk(str(path))
        if path.is_file() and split != "train":
            logger.debug("%s is one file; using it as split %r", path, split)
        parts = [read_file(p) for p in files]
        if len(parts) == 1:
            return parts[0]
        columns = set(parts[0].column_names)
        for file, part in zip(files[1:], parts[1:]):
            if set(part.column_names) != columns:
                raise DataError(f"{path}: {file.name} has columns {sorted(part.column_names)} but {files[0].name} "
                                f"has {sorted(columns)}; files of one folder must share their columns")
        try:
            return datasets.concatenate_datasets(parts)
        except ValueError as exc:
            raise DataError(f"{path}: the files' column types differ ({str(exc).splitlines()[0]})") from None


LOCAL_SOURCE = LocalFileSource()
