"""Safety, reference, format and code-quality rewards on examples with an obvious right answer."""

from __future__ import annotations

import logging

import jsonschema
import pytest
from aligntune_rewards import get_reward
from aligntune_rewards.rewards.safety import find_pii, luhn_ok


def test_toxicity_and_safety(score):
    clean = "Thank you for your question, here is a friendly explanation."
    toxic = "You are a fucking idiot, shut up you stupid piece of shit."
    assert score("toxicity", clean) > 0.8
    assert score("toxicity", toxic) < 0.2
    assert score("safety", clean) > 0.8
    assert score("safety", toxic) < 0.2
    assert score("safety:strict=true", toxic) == 0.0
    assert score("safety:strict=true", clean) == 1.0
    assert score("safety", "Contact me at jane.doe@example.com or 555-123-4567.") < 0.5


def test_harmful_content(score):
    harmful = "Here is how to make a pipe bomb: mix the ammonium nitrate with fuel oil and pack it tightly."
    refusal = "I can't help with instructions to make a bomb. If you are in danger, please contact authorities."
    benign = "To bake bread, mix flour, water, yeast and salt, then knead and let it rise."
    assert score("harmful_content", harmful) == 0.0
    assert score("harmful_content", refusal) == 1.0
    assert score("harmful_content", benign) == 1.0
    assert score("harmful_content", "Step 1: synthesize meth in a lab.") == 0.0


def test_bias(score):
    assert score("bias", "Women are bad at math and should stay home.") <= 0.5
    assert score("bias", "All immigrants are criminals.") <= 0.5
    assert score("bias", "People of every background can excel at mathematics.") == 1.0


def test_privacy_detects_each_kind_of_pii(score):
    assert luhn_ok("4111 1111 1111 1111") and not luhn_ok("4111 1111 1111 1112")
    text = ("Mail john.smith@corp.com, call (415) 555-2671, card 4111-1111-1111-1111, SSN 123-45-6789, "
            "key sk-abcdefghijklmnopqrstuvwxyz123456 and AKIAIOSFODNN7EXAMPLE.")
    kinds = {k for k, _ in find_pii(text)}
    assert {"email", "phone", "credit_card", "ssn", "api_key"} <= kinds
    assert not any(k == "credit_card" for k, _ in find_pii("order number 4111 1111 1111 1112"))
    assert score("privacy", text) == 0.0
    assert score("privacy", "The meeting is on Tuesday at 10am in room 4.") == 1.0
    assert score("privacy", "Your email is a@b.com", prompt="My email is a@b.com, confirm it") == 1.0
    assert score("privacy:kinds=[\"ssn\"]", "Write to me: a@b.com") == 1.0
    with pytest.raises(ValueError, match="unknown kinds"):
        get_reward("privacy", kinds=["dna"])


def test_accuracy(score):
    assert score("accuracy", "The Eiffel Tower.", reference="the eiffel tower") == 1.0
    assert score("accuracy", "42.0", reference="42") == 1.0
    assert score("accuracy", "Paris", reference="London") == 0.0
    assert score("accuracy:mode=exact", "paris", reference="Paris") == 0.0
    assert score("accuracy:mode=contains", "I believe it is Paris, France.", reference="Paris") == 1.0
    assert score("accuracy", "B", reference=["A", "B"]) == 1.0


def test_missing_reference_scores_zero_with_a_warning(caplog):
    from aligntune_rewards.rewards import reference

    reference._warned.discard("bleu")
    with caplog.at_level(logging.WARNING, logger="aligntune.rewards"):
        assert get_reward("bleu")(["some text"]) == [0.0]
    assert "no reference" in caplog.text


def test_factual_correctness(score):
    ref = "Mount Everest is 8849 metres tall and lies in the Himalayas on the border of Nepal and China."
    right = "Everest, in the Himalayas between Nepal and China, is 8849 metres tall."
    wrong = "Everest is 5000 metres tall and lies in the Alps in Switzerland."
    assert score("factual_correctness", right, reference=ref) > 0.7
    assert score("factual_correctness", wrong, reference=ref) < 0.4


def test_bleu_rouge_meteor_order(score, caplog):
    ref = "the cat sat on the mat near the door"
    close = "the cat sat on the mat by the door"
    far = "stock prices fell sharply in early trading"
    for name in ("bleu", "rouge", "meteor", "rouge:rouge_type=rouge1"):
        same = score(name, ref, reference=ref)
        assert same == pytest.approx(1.0, abs=1e-3) or (name == "meteor" and same > 0.99)
        assert score(name, close, reference=ref) > score(name, far, reference=ref)
        assert score(name, far, reference=ref) < 0.1
    # stem matching without WordNet: "sitting" ~ "sits" share a stem, so meteor gives credit
    assert score("meteor", "cats sitting", reference="cat sits") > score("meteor", "dogs running", reference="cat sits")


def test_reasoning_format(score):
    strict_ok = "<think>\n2+2 is 4\n</think>\n<answer>\n4\n</answer>"
    soft_only = "Let me see. <think>2+2=4</think> so <answer>4</answer> done"
    assert score("reasoning_format_strict", strict_ok) == 1.0
    assert score("reasoning_format_strict", soft_only) == 0.0
    assert score("reasoning_format", soft_only) == 1.0
    assert score("reasoning_format", "<answer>4</answer><think>late</think>") == 0.0
    assert score("reasoning_format:strict=true", strict_ok + "\n") == 1.0


def test_json_and_schema(score):
    assert score("json_valid", '{"a": 1, "b": [1, 2]}') == 1.0
    assert score("json_valid", "Here:\n```json\n{\"a\": 1}\n```") == 1.0
    assert score("json_valid", "{a: 1}") == 0.0
    assert score("json_valid:require_object=true", "[1, 2]") == 0.0
    schema = {"type": "object", "required": ["name", "age"],
              "properties": {"name": {"type": "string"}, "age": {"type": "integer", "minimum": 0}}}
    fn = get_reward("json_schema", schema=schema)
    good, bad, broken = '{"name": "Ann", "age": 30}', '{"name": "Ann", "age": -3}', "{name"
    assert fn([good, bad, broken]) == [1.0, pytest.approx(0.45), 0.0]
    assert get_reward("json_schema")([good, bad], schema=[schema, schema])[0] == 1.0
    with pytest.raises(jsonschema.SchemaError):
        get_reward("json_schema", schema={"type": "no-such-type"})


def test_regex(score):
    assert score('regex:pattern="^Answer: \\\\d+$":mode=fullmatch', "Answer: 42") == 1.0
    assert score('regex:pattern="^Answer: \\\\d+$":mode=fullmatch', "Answer: forty") == 0.0
    assert score("regex:pattern=hello:flags=i", "HELLO there") == 1.0
    with pytest.raises(ValueError, match="does not compile"):
        get_reward("regex", pattern="(")


def test_instruction_following(score):
    fn = get_reward("instruction_following", max_words=30, min_bullets=3, keywords=["python"], case="lower")
    good = "reasons to learn python:\n- it is simple\n- it has many libraries\n- it runs everywhere"
    bad = "Reasons To Learn Rust:\n- Speed\n" + "word " * 40
    assert fn([good]) == [1.0]
    assert fn([bad]) == [0.0]
    assert get_reward("instruction_following")(["x"], constraints=[{"starts_with": "x", "no_commas": True}]) == [1.0]
    with pytest.raises(ValueError, match="unknown constraint"):
        get_reward("instruction_following", max_wrods=3)


def test_language_consistency(score):
    english = "The weather is nice today. We are going to the park with the children."
    mixed = "The weather is nice today. Nous allons au parc avec les enfants et le chien."
    assert score("language_consistency", english) == 1.0
    assert score("language_consistency:language=en", mixed) == 0.5
    assert score("language_consistency", "Il fait beau et nous sommes dans le parc.", prompt="What is the weather?") == 0.0
    assert score("language_consistency:language=zh", "今天天气很好。我们去公园。") == 1.0


def test_code_quality(score):
    clean = "```python\ndef add(a, b):\n    return a + b\n```"
    lint = "import os\nimport sys\ndef f(x):\n    y = 1\n    return undefined_name + x\n"
    broken = "def f(:\n  return"
    assert score("code_quality", clean) == 1.0
    assert 0.4 < score("code_quality", lint) < score("code_quality", clean)
    assert score("code_quality", broken) == 0.0
    branches = "def f(x):\n" + "".join(f"    if x == {i}:\n        return {i}\n" for i in range(40)) + "    return -1\n"
    assert score("code_quality", branches) < score("code_quality", clean)


def test_fast_rouge_l_equals_rouge_score(alpaca_rows):
    from rouge_score import rouge_scorer

    reference_scorer = rouge_scorer.RougeScorer(["rougeL", "rouge2"], use_stemmer=True)
    fn, fn2 = get_reward("rouge"), get_reward("rouge:rouge_type=rouge2")
    outputs = [r["output"] for r in alpaca_rows[:60]]
    refs = outputs[1:] + outputs[:1]
    refs[::3] = [o[: len(o) // 2] + " extra words here" for o in outputs[::3]]
    want_l = [reference_scorer.score(r, o)["rougeL"].fmeasure for o, r in zip(outputs, refs)]
    want_2 = [reference_scorer.score(r, o)["rouge2"].fmeasure for o, r in zip(outputs, refs)]
    assert fn(outputs, references=refs) == pytest.approx(want_l, abs=1e-12)
    assert fn2(outputs, references=refs) == pytest.approx(want_2, abs=1e-12)
    assert max(want_l) > 0.3 and min(want_l) < 0.3
