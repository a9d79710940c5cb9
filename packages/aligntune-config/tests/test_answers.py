"""Final-answer extraction shared by rewards, eval and data (aligntune_config.answers)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from aligntune_config.answers import extract_final_answer, gsm8k_answer, last_boxed, last_number, to_number

DATA = Path(__file__).resolve().parents[3].parent / "shared" / "data"


def test_gsm8k_hashes_win_and_take_the_last():
    assert extract_final_answer("2 + 2 = 4\n#### 4") == "4"
    assert extract_final_answer("first #### 3\nthen 5 more\n#### 1,234\n") == "1,234"
    assert gsm8k_answer("no marker here 12") is None
    assert extract_final_answer("\\boxed{9} but\n#### 8") == "8"


def test_boxed_balanced_and_last():
    assert last_boxed("a \\boxed{1} then \\boxed{\\frac{1}{2}} end") == "\\frac{1}{2}"
    assert last_boxed("\\fbox{ 7 }") == "7"
    assert last_boxed("\\boxed{unclosed {x}") is None
    assert extract_final_answer("So x = \\boxed{\\sqrt{2}}.") == "\\sqrt{2}"


def test_answer_tags_phrases_and_last_number():
    assert extract_final_answer("<think>3 or 4</think><answer> 42 </answer>") == "42"
    assert extract_final_answer("<answer>it is \\boxed{5}</answer>") == "5"
    assert extract_final_answer("We add them. The answer is 17 apples, not 3.") == "17"
    assert extract_final_answer("Final answer: Paris.") == "Paris"
    assert extract_final_answer("First 3 apples, then 5 pears, total $1,200.50") == "$1,200.50"
    assert last_number("costs -$ 3.5 or .5") == ".5"
    assert extract_final_answer("no numbers here") is None


def test_to_number():
    assert to_number("1,234") == 1234.0
    assert to_number("$5") == 5.0 and to_number("12.5%") == 12.5 and to_number("7.") == 7.0
    assert to_number("-.5") == -0.5
    assert to_number("5 apples") is None and to_number("x") is None
    assert to_number("3/4") is None
    assert to_number("3/4", fractions=True) == 0.75
    assert to_number("\\frac{1}{8}", fractions=True) == 0.125
    assert to_number("-\\dfrac{3}{2}", fractions=True) == -1.5
    assert to_number("1/0", fractions=True) is None


def test_every_gsm8k_test_answer_is_found():
    path = DATA / "gsm8k_test.jsonl"
    if not path.exists():
        pytest.skip(f"real data {path} is not available")
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    finals = [extract_final_answer(r["answer"]) for r in rows]
    assert len(rows) == 1319
    assert all(f == r["answer"].split("####")[-1].strip() for f, r in zip(finals, rows))
    assert all(to_number(f) is not None for f in finals)
    # without the marker, the last number of the solution is its final answer in most rows
    plain = [last_number(r["answer"].rsplit("####", 1)[0]) for r in rows]
    same = sum(p is not None and to_number(p) == to_number(f) for p, f in zip(plain, finals))
    assert same > 0.9 * len(rows)


def test_import_is_pure_python():
    code = ("import sys, json; import aligntune_config.answers; "
            "print(json.dumps([m for m in ('torch', 'numpy', 'pydantic') if m in sys.modules]))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []
