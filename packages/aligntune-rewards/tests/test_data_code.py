"""The code reward on real HumanEval and MBPP rows: canonical solutions pass, stubbed ones fail.
Runs go through the sandbox in parallel (canonical and stubbed solutions in one batch per dataset)."""

from __future__ import annotations

import ast
import warnings

from aligntune_rewards import get_reward


def _stub_bodies(code: str) -> str:
    """The same module with every function body replaced by ``pass``."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SyntaxWarning)
        warnings.simplefilter("ignore", DeprecationWarning)
        tree = ast.parse(code)
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            node.body = [ast.Pass()]
    return ast.unparse(tree)


def test_humaneval_canonical_pass_and_stubs_fail(humaneval_rows):
    rows = humaneval_rows
    assert len(rows) == 164
    fn = get_reward("code", timeout=30)
    canonical = [r["prompt"] + r["canonical_solution"] for r in rows]
    stubs = [r["prompt"] + "    pass\n" for r in rows]
    cols = {"test": [r["test"] for r in rows] * 2, "entry_point": [r["entry_point"] for r in rows] * 2}
    scores = fn(canonical + stubs, prompts=[r["prompt"] for r in rows] * 2, **cols)
    failed = [rows[i]["task_id"] for i, s in enumerate(scores[:164]) if s != 1.0]
    passed_stubs = [rows[i]["task_id"] for i, s in enumerate(scores[164:]) if s != 0.0]
    assert failed == [], [fn.last_results[i].stderr[-300:] for i, s in enumerate(scores[:164]) if s != 1.0][:3]
    assert passed_stubs == []


def test_humaneval_body_only_completion_gets_the_prompt_header(humaneval_rows):
    rows = humaneval_rows[:8]
    fn = get_reward("code_execution")
    body_only = ["```python\n" + r["canonical_solution"] + "```" for r in rows]
    scores = fn(body_only, prompts=[r["prompt"] for r in rows], test=[r["test"] for r in rows],
                entry_point=[r["entry_point"] for r in rows])
    assert scores == [1.0] * 8


def test_mbpp_canonical_pass_and_stubs_fail(mbpp_rows):
    rows = mbpp_rows
    assert len(rows) == 426
    fn = get_reward("code_execution", timeout=30)
    codes = [r["code"] for r in rows] + [_stub_bodies(r["code"]) for r in rows]
    scores = fn(codes, test_list=[r["test_list"] for r in rows] * 2, test_imports=[r["test_imports"] for r in rows] * 2)
    failed = [rows[i]["task_id"] for i, s in enumerate(scores[:426]) if s != 1.0]
    passed_stubs = [rows[i]["task_id"] for i, s in enumerate(scores[426:]) if s != 0.0]
    assert failed == []
    assert passed_stubs == []


def test_mbpp_partial_credit_counts_asserts(mbpp_rows):
    row = mbpp_rows[0]
    fn = get_reward("code_execution", partial_credit=True)
    wrong_one = row["test_list"][:2] + ["assert False"]
    assert fn([row["code"]], test_list=[wrong_one], test_imports=[row["test_imports"]]) == [2 / 3]
    assert get_reward("code")([row["code"]]) == [0.0]  # no tests: 0
