"""code_quality's cheap pre-gate (surely_invalid) never rejects code that parses."""

import ast

import pytest

from aligntune_rewards.rewards.code import surely_invalid

CASES = ["x if y else z", "a is b", "a is b c", "x in y", "1. if 2 else 3", "1. Tent", "match x", "print x",
         "The cat sat", "x and y or z", "a  b", "not x y", "a is not b", "x is y if z else w", "x or y and",
         "caf\u00e9 b", "a b\u00e9", "a \u0131f", "_ x", "x for y in z", "import os", "a b\n", "a\\\n b",
         "case x", "x in y for", "lambda x: x", "a is b or c d"]


@pytest.mark.parametrize("code", CASES)
def test_gate_only_rejects_unparsable(code):
    try:
        ast.parse(code)
        parses = True
    except (SyntaxError, ValueError):
        parses = False
    assert not (surely_invalid(code) and parses)


def test_gate_catches_prose():
    assert surely_invalid("The capital of France is Paris.")
    assert surely_invalid("He is reading books.")
    assert surely_invalid("1. Tent 2. Sleeping bags")
