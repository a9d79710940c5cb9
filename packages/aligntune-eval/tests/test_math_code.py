"""Math accuracy on GSM8K answers, pass@k against the closed form, and pass@k through a sandbox."""

from __future__ import annotations

import math
import subprocess
import sys
from fractions import Fraction

import pytest
from aligntune_eval import estimate_pass_at_k, extract_answer, get_metric, pass_at_k


@pytest.mark.parametrize(("text", "value"), [
    ("so the total is 1,234 apples", 1234.0),
    ("Step: 3 + 4 = 7\n#### 7", 7.0),
    ("We get \\boxed{\\frac{3}{4}} at the end, not 5", 0.75),
    ("The answer is \\boxed{12}. Check: 13", 12.0),
    ("costs $18.50.", 18.5),
    ("It is -3", -3.0),
    ("half: 1/2", 0.5),
    ("no numbers here", None),
])
def test_extract_answer(text, value):
    assert extract_answer(text) == value


def test_math_accuracy_on_gsm8k(gsm8k_rows):
    refs = [r["answer"] for r in gsm8k_rows]
    finals = [r["answer"].split("####")[-1].strip().replace(",", "") for r in gsm8k_rows]
    right = [f"Thinking... so the answer is {f}." for f in finals]
    wrong = [f"The answer is {float(f) + 1}" for f in finals]
    metric = get_metric("math_accuracy")
    assert metric.compute(right, refs)["math_accuracy"] == 1.0
    assert metric.compute(wrong, refs)["math_accuracy"] == 0.0
    half = right[:50] + wrong[50:]
    assert metric.compute(half, refs)["math_accuracy"] == pytest.approx(0.5)
    assert metric.compute(["2.0000001"], ["#### 2"])["math_accuracy"] == 1.0  # numeric tolerance


def closed_form(n, c, k):
    return 1 - Fraction(math.comb(n - c, k), math.comb(n, k))


@pytest.mark.parametrize("n", [1, 2, 5, 10, 20, 50])
def test_pass_at_k_equals_closed_form_grid(n):
    for c in range(n + 1):
        for k in range(1, n + 1):
            assert pass_at_k(n, c, k) == pytest.approx(float(closed_form(n, c, k)), abs=1e-12), (n, c, k)


def test_pass_at_k_edge_cases_and_large_n():
    assert pass_at_k(10, 0, 1) == 0.0 and pass_at_k(10, 0, 10) == 0.0
    assert pass_at_k(10, 8, 3) == 1.0  # n - c < k
    assert pass_at_k(10, 10, 1) == 1.0
    assert pass_at_k(10, 3, 1) == pytest.approx(0.3)
    # large n: math.comb is exact, floats of the ratio would overflow a naive factorial formula
    assert pass_at_k(1000, 7, 100) == pytest.approx(float(closed_form(1000, 7, 100)), rel=1e-12)
    with pytest.raises(ValueError):
        pass_at_k(5, 6, 1)
    with pytest.raises(ValueError):
        pass_at_k(5, 1, 6)
    assert estimate_pass_at_k(4, [0, 1, 4], 2) == pytest.approx([0.0, 0.5, 1.0])


def test_pass_at_k_metric_from_counts():
    got = get_metric("pass_at_k", k=[1, 5]).compute([], num_samples=[10, 10, 4], num_correct=[0, 3, 4])
    assert got["pass@1"] == pytest.approx((0 + 0.3 + 1.0) / 3)
    assert got["pass@5"] == pytest.approx((0 + float(closed_form(10, 3, 5))) / 2)  # n=4 < 5 is left out


def subprocess_sandbox(completions, *, prompt=None, test=None, entry_point=None, **_):
    """A stand-in for the 'code_execution' reward: runs HumanEval checks in a subprocess."""
    scores = []
    for code, p, t, e in zip(completions, prompt, test, entry_point):
        program = f"{p}{code}\n\n{t}\n\ncheck({e})\n"
        run = subprocess.run([sys.executable, "-c", program], capture_output=True, timeout=30, check=False)
        scores.append(1.0 if run.returncode == 0 else 0.0)
    return scores


@pytest.fixture
def fake_rewards(monkeypatch):
    from aligntune_config import registry

    fresh = registry.Registry("reward", "aligntune.tests.no_such_group")
    monkeypatch.setattr(registry, "REWARDS", fresh)
    return fresh


def test_pass_at_k_runs_candidates_through_registered_sandbox(humaneval_rows, fake_rewards):
    fake_rewards.register("code_execution", subprocess_sandbox)
    rows = humaneval_rows[:3]
    broken = "    return None\n"
    candidates = [[r["canonical_solution"], broken, r["canonical_solution"], broken] for r in rows]
    candidates[2] = [broken] * 4
    cols = {k: [r[k] for r in rows] for k in ("prompt", "test", "entry_point")}
    got = get_metric("pass_at_k", k=[1, 2]).compute(candidates, **cols)
    assert got["pass@1"] == pytest.approx((0.5 + 0.5 + 0.0) / 3)
    assert got["pass@2"] == pytest.approx((float(closed_form(4, 2, 2)) * 2) / 3)


def test_pass_at_k_without_sandbox_gives_clear_error(fake_rewards):
    with pytest.raises(LookupError, match="code_execution"):
        get_metric("pass_at_k").compute([["print(1)"]], test_list=[["assert True"]])


def test_codebleu_matches_package_and_identity(shared_data):
    import json

    from codebleu import calc_codebleu

    path = shared_data / "sanitized-mbpp.json"
    if not path.is_file():
        pytest.skip("sanitized-mbpp.json is absent")
    codes = [r["code"] for r in json.loads(path.read_text())[:20]]
    renamed = [c.replace("def ", "def my_", 1) for c in codes]
    metric = get_metric("codebleu")
    got = metric.compute(renamed, codes)
    want = calc_codebleu([[c] for c in codes], renamed, lang="python")
    assert got["codebleu"] == pytest.approx(want["codebleu"])
    assert 0.3 < got["codebleu"] < 1.0
    assert metric.compute(codes, codes)["codebleu"] == pytest.approx(1.0, abs=1e-6)
