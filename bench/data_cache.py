"""Benchmark of aligntune_data's DatasetCache.

Writes a 50,000-row jsonl file into a temporary folder, loads it through ``load_dataset`` with a column
mapping and a processing function, then loads it again: the second load must come from the cache and be
at least 10x faster. Then shows that changing the file, or the mapping, is a cache miss.

Run: ``uv run --frozen python bench/data_cache.py``
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")

ROWS = 50_000


def normalize(row):
    """The benchmark's processing step: tidy whitespace of the question."""
    return {"question": " ".join(row["question"].split())}


def write_data(path: Path, rows: int) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        for i in range(rows):
            a, b = i % 97, i % 89
            handle.write(json.dumps({"id": i, "q": f"  What is {a} plus {b}?  ",
                                     "a": f"{a} + {b} = {a + b}\n#### {a + b}"}))
            handle.write("\n")


def timed(fn):
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start


def main() -> None:
    import aligntune_data as ad
    import datasets
    from aligntune_config import DatasetConfig

    datasets.disable_progress_bars()
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "bench.jsonl"
        write_data(data, ROWS)
        cache = ad.DatasetCache(Path(tmp) / "cache")
        config = DatasetConfig(name=str(data), column_mapping={"q": "question", "a": "answer"}, processing_fn=normalize)
        load = lambda cfg=config: ad.load_dataset(cfg, format="prompt", cache=cache)

        first, cold = timed(load)
        second, warm = timed(load)
        assert len(first) == len(second) == ROWS
        assert first[:5] == second[:5]
        ratio = cold / warm
        print(f"rows: {ROWS}")
        print(f"first load (build + store): {cold:.3f} s")
        print(f"second load (cache hit):    {warm:.3f} s")
        print(f"speed-up: {ratio:.1f}x (goal >= 10x) -> {'OK' if ratio >= 10 else 'BELOW GOAL'}")

        with open(data, "a", encoding="utf-8") as handle:
            handle.write(json.dumps({"id": ROWS, "q": "What is 1 plus 1?", "a": "#### 2"}) + "\n")
        changed, t_changed = timed(load)
        print(f"after appending a row: {len(changed)} rows in {t_changed:.3f} s "
              f"({'miss, rebuilt' if len(changed) == ROWS + 1 else 'STALE HIT'})")

        before = len(cache.entries())
        remapped_config = config.model_copy(update={"column_mapping": {"q": "question", "a": "answer", "id": "task_id"},
                                                    "preserve_columns": ["task_id"]})
        remapped, t_remap = timed(lambda: load(remapped_config))
        missed = len(cache.entries()) == before + 1 and "task_id" in remapped.column_names
        print(f"after changing the mapping: columns {remapped.column_names} in {t_remap:.3f} s "
              f"({'miss, rebuilt' if missed else 'STALE HIT'})")
        _, t_again = timed(lambda: load(remapped_config))
        print(f"same changed mapping again: {t_again:.3f} s (hit)")
        print(f"cache entries: {len(cache.entries())}")


if __name__ == "__main__":
    main()
