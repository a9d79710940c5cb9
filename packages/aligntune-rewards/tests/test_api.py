"""get_reward / list_rewards / adapters / registry / light import."""

from __future__ import annotations

import math
import subprocess
import sys

import aligntune_rewards
import pytest
from aligntune_config.interfaces import RewardFunction
from aligntune_config.registry import REWARDS, UnknownComponentError
from aligntune_config.rewards import RewardConfig
from aligntune_rewards import CompositeReward, FunctionReward, function_style, get_reward, list_rewards

REQUIRED = ["length", "sentiment", "coherence", "math", "math_accuracy", "code", "code_execution", "code_quality",
            "safety", "toxicity", "bias", "privacy", "harmful_content", "helpfulness", "relevance", "fluency",
            "formality", "tone", "structure", "factual_correctness", "accuracy", "reasoning_format",
            "reasoning_format_strict", "json_valid", "json_schema", "regex", "repetition_penalty", "diversity",
            "readability", "conciseness", "instruction_following", "language_consistency", "bleu", "rouge",
            "meteor", "semantic_similarity", "reward_model", "soft_overlong_punishment", "custom"]


def test_import_does_not_load_torch_or_transformers():
    code = ("import sys, aligntune_rewards; aligntune_rewards.list_rewards(); "
            "aligntune_rewards.get_reward('sentiment')(['good']); "
            "bad = [m for m in ('torch', 'transformers', 'sentence_transformers') if m in sys.modules]; "
            "print(bad); sys.exit(1 if bad else 0)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


def test_every_required_reward_is_listed_and_registered():
    listed = list_rewards()
    for name in REQUIRED:
        assert name in listed, name
        assert name in REWARDS
        assert listed[name].strip(), f"{name} has no description"
    distinct = {getattr(REWARDS.get(n), "name", n) for n in listed}
    assert len(distinct) >= 30


@pytest.mark.parametrize("name", [n for n in REQUIRED if n not in ("custom", "reward_model", "regex")])
def test_every_builtin_is_a_reward_function_with_documentation(name):
    fn = get_reward(name)
    assert isinstance(fn, RewardFunction)
    doc = type(fn).__doc__ or ""
    assert "Range" in doc and "Params" in doc or "Same params" in doc or "Alias" in doc, name
    if name in ("semantic_similarity", "code", "code_execution", "json_schema"):
        return
    out = fn(["A short answer.", ""], prompts=["Q?", "Q?"], references=["A short answer.", "x"])
    assert len(out) == 2 and all(isinstance(v, float) and not math.isnan(v) for v in out)


def test_heuristics_say_so_in_their_docstring():
    for name in ("coherence", "fluency", "helpfulness", "relevance", "bias", "privacy", "harmful_content",
                 "tone", "formality", "structure", "factual_correctness", "language_consistency"):
        doc = type(get_reward(name)).__doc__.lower()
        assert "heuristic" in doc or "lexicon" in doc, name


def test_get_reward_accepts_name_spec_config_dict_and_kwargs():
    assert get_reward("length").max_length == 200
    assert get_reward("length:min_length=3:max_length=7").max_length == 7
    assert get_reward(RewardConfig(type="length", params={"min_length": 1, "max_length": 9})).max_length == 9
    assert get_reward({"type": "length", "params": {"max_length": 11}}).min_length == 10
    assert get_reward("length", max_length=5, min_length=1).max_length == 5
    assert get_reward("Length").name == "length"


def test_weight_clip_in_spec_gives_a_composite():
    fn = get_reward("length:weight=2.0:min_length=1:max_length=3")
    assert isinstance(fn, CompositeReward)
    assert fn(["one two", "a b c d e f"]) == [2.0, 0.0]


def test_unknown_reward_and_parameter_errors_are_helpful():
    with pytest.raises(UnknownComponentError, match="lenght|length"):
        get_reward("lenght")
    with pytest.raises(ValueError, match="max_lenght.*max_length"):
        get_reward("length", max_lenght=3)
    with pytest.raises(ValueError, match="does not use a model"):
        get_reward("length", model_name="gpt2")
    with pytest.raises(ValueError, match="pattern"):
        get_reward("regex")


def test_per_sample_user_function_gets_reference_and_columns():
    seen = []

    def my_reward(text, reference=None, **kwargs):
        seen.append((text, reference, kwargs.get("difficulty"), kwargs.get("prompt")))
        return 1.0 if reference and text.strip() == reference.strip() else 0.0

    assert function_style(my_reward) == "per_sample"
    fn = get_reward(my_reward)
    assert fn.name == "my_reward"
    out = fn(["4", "5"], prompts=["2+2?", "2+2?"], references=["4", "4"], difficulty=["easy", "hard"])
    assert out == [1.0, 0.0]
    assert seen[1] == ("5", "4", "hard", "2+2?")


def test_trl_batched_user_function_and_answer_column_as_reference():
    def trl_reward(completions, answer, **kwargs):
        return [1.0 if c[0]["content"] == a else 0.0 for c, a in zip(completions, answer)]

    assert function_style(trl_reward) == "batched"
    fn = get_reward(trl_reward)
    chats = [[{"role": "assistant", "content": "yes"}], [{"role": "assistant", "content": "no"}]]
    assert fn(chats, prompts=["q", "q"], answer=["yes", "yes"]) == [1.0, 0.0]


def test_style_override_none_scores_and_bad_batched_output():
    def scorer(x):
        return [0.5] * len(x)

    assert FunctionReward(scorer, style="batched")(["a", "b"]) == [0.5, 0.5]
    assert math.isnan(get_reward(lambda text, **kw: None)(["a"])[0])
    with pytest.raises(ValueError, match="one float per completion"):
        get_reward(lambda completions, **kw: [1.0])(["a", "b"])


def test_custom_reward_from_config_callable_and_import_path():
    def accuracy_reward(text, reference=None, **kwargs):
        return 1.0 if reference and text.strip() == reference.strip() else 0.0

    fn = get_reward({"type": "custom", "params": {"reward_function": accuracy_reward}})
    assert fn(["x", "y"], references=["x", "x"]) == [1.0, 0.0]
    by_path = get_reward("custom:reward_function=\"aligntune_rewards.rewards.math:to_number\"")
    assert by_path.style == "per_sample"
    with pytest.raises(Exception, match="reward_function"):
        get_reward("custom")


def test_registry_lookup_returns_classes_usable_by_other_packages():
    cls = REWARDS.get("sentiment")
    assert cls is aligntune_rewards.rewards.style.SentimentReward
    assert cls()(["I love this, it is wonderful!"])[0] > 0.8


def test_readme_entry_points_match_the_registry():
    """The entry-point TOML documented for pyproject.toml names every registered reward's class."""
    import re
    import tomllib
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    block = re.search(r"```toml\n(\[project\.entry-points\.\"aligntune\.rewards\"\]\n.*?)```", readme, re.DOTALL)
    assert block, "README has no entry-point block"
    table = tomllib.loads(block.group(1))["project"]["entry-points"]["aligntune.rewards"]
    from aligntune_config._base import import_object

    assert sorted(table) == REWARDS.names()
    for name, path in table.items():
        assert import_object(path) is REWARDS.get(name), name


def test_called_the_way_trl_calls_reward_functions():
    """TRL: reward_func(prompts=..., completions=..., completion_ids=..., trainer_state=..., **columns),
    and it names each function by __name__."""
    chats = [[{"role": "assistant", "content": "The answer is 4.\n#### 4"}],
             [{"role": "assistant", "content": "#### 5"}]]
    prompts = [[{"role": "user", "content": "What is 2+2?"}]] * 2
    for fn in (get_reward("math"), get_reward(lambda completions, **kw: [1.0] * len(completions)),
               CompositeReward(["math", "length:min_length=1"])):
        assert isinstance(fn.__name__, str) and fn.__name__
        out = fn(prompts=prompts, completions=chats, completion_ids=[[1, 2], [3]], trainer_state=object(),
                 answer=["4", "4"])
        assert len(out) == 2
    assert get_reward("math")(prompts=prompts, completions=chats, answer=["4", "4"]) == [1.0, 0.0]
