"""The math reward on every GSM8K test row (real data from ../shared/data)."""

from __future__ import annotations

import re

from aligntune_rewards import get_reward
from aligntune_rewards.rewards.math import extract_answer


def _gold(row):
    return row["answer"].split("####")[-1].strip()


def _altered(row):
    head, tail = row["answer"].rsplit("####", 1)
    value = int(float(tail.strip().replace(",", "")))
    return f"{head}#### {value + 1}"


def test_gsm8k_gold_solutions_all_score_one(gsm8k_rows):
    assert len(gsm8k_rows) == 1319
    fn = get_reward("math")
    scores = fn([r["answer"] for r in gsm8k_rows], references=[_gold(r) for r in gsm8k_rows])
    assert sum(scores) == 1319


def test_gsm8k_answer_column_is_found_as_reference(gsm8k_rows):
    rows = gsm8k_rows[:50]
    fn = get_reward("math_accuracy")
    assert fn([r["answer"] for r in rows], answer=[r["answer"] for r in rows]) == [1.0] * 50


def test_gsm8k_altered_final_numbers_all_score_zero(gsm8k_rows):
    fn = get_reward("math")
    scores = fn([_altered(r) for r in gsm8k_rows], references=[_gold(r) for r in gsm8k_rows])
    assert sum(scores) == 0


def test_gsm8k_answer_in_boxed_and_plain_forms(gsm8k_rows):
    rows = gsm8k_rows[:200]
    fn = get_reward("math")
    boxed = [re.sub(r"####\s*(.+)$", r"So the answer is $\\boxed{\1}$.", r["answer"]) for r in rows]
    plain = [r["answer"].split("####")[0] + "The answer is " + _gold(r) + "." for r in rows]
    assert fn(boxed, references=[_gold(r) for r in rows]) == [1.0] * 200
    assert fn(plain, references=[_gold(r) for r in rows]) == [1.0] * 200


def test_extraction_and_symbolic_equivalence():
    assert extract_answer("so x = 3 and then\n#### 1,234") == "1,234"
    assert extract_answer("We get \\boxed{\\frac{1}{2}} in the end") == "\\frac{1}{2}"
    assert extract_answer("First 3 apples, then 5 pears, total 8") == "8"
    assert extract_answer("no numbers here") is None
    fn = get_reward("math")
    assert fn(["The result is \\boxed{\\frac{1}{2}}", "\\boxed{0.5}", "\\boxed{\\frac{2}{3}}", "nothing"],
              references=["0.5", "\\frac{1}{2}", "0.5", "0.5"]) == [1.0, 1.0, 0.0, 0.0]
    assert fn(["<answer>12</answer>"], references=["The total is \\boxed{12}"]) == [1.0]


def test_math_verify_works_off_the_main_thread():
    from concurrent.futures import ThreadPoolExecutor

    fn = get_reward("math")
    with ThreadPoolExecutor(2) as pool:
        out = list(pool.map(lambda t: fn([t], references=["\\frac{3}{4}"])[0], ["\\boxed{0.75}", "\\boxed{\\frac{6}{8}}",
                                                                               "\\boxed{\\frac{2}{3}}"]))
    assert out == [1.0, 1.0, 0.0]
