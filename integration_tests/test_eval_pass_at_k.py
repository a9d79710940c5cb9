"""pass@k of aligntune-eval runs candidates in aligntune-rewards' sandbox, found through the reward
registry (the two packages never import each other): the 164 HumanEval canonical solutions give
pass@1 = 1.0, and bodies replaced by `pass` give 0.0."""

import gzip
import json
import pathlib

import pytest

DATA = pathlib.Path(__file__).resolve().parents[1].parent / "shared" / "data" / "HumanEval.jsonl.gz"


@pytest.fixture(scope="module")
def humaneval():
    if not DATA.exists():
        pytest.skip(f"{DATA} not present")
    with gzip.open(DATA, "rt") as handle:
        return [json.loads(line) for line in handle]


def _score(rows, bodies):
    from aligntune_eval import get_metric

    metric = get_metric("pass_at_k", k=1)
    return metric.compute([row["prompt"] + body for row, body in zip(rows, bodies)],
                          test=[row["test"] for row in rows], entry_point=[row["entry_point"] for row in rows])


def test_canonical_solutions_pass_at_1(humaneval):
    result = _score(humaneval, [row["canonical_solution"] for row in humaneval])
    assert len(humaneval) == 164
    assert result["pass@1"] == 1.0


def test_stub_bodies_fail(humaneval):
    assert _score(humaneval[:40], ["    pass\n"] * 40)["pass@1"] == 0.0
