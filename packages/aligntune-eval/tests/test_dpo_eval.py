"""DPO evaluation on tiny models: log-probabilities by hand, implicit rewards against a reference (a model or
a PEFT policy's base), and the win rate against the reference judged by a reward whose verdict is known."""

from __future__ import annotations

import copy
import json

import pytest
from aligntune_eval import (
    WinRate,
    completion_logps,
    evaluate_dpo,
    get_metric,
    preference_metrics,
    win_rate_against_reference,
)

ROWS = [
    {"prompt": "What is 2 + 3?", "chosen": " 2 + 3 = 5.", "rejected": " 2 + 3 = 6."},
    {"prompt": "Name a colour.", "chosen": " Blue.", "rejected": " Seven."},
    {"prompt": "Say hello.", "chosen": " Hello!", "rejected": " Goodbye forever, I refuse."},
    {"prompt": "Capital of France?", "chosen": " Paris.", "rejected": " Berlin."},
    {"prompt": "Is ice cold?", "chosen": " Yes, ice is cold.", "rejected": " No."},
]
GREEDY = {"temperature": 0.0, "max_new_tokens": 6}


@pytest.fixture()
def bang_model(tiny_model):
    """The tiny model with a zero output layer: every logit is 0, so greedy decoding always picks token 0
    ("!" in GPT-2's vocabulary)."""
    import torch

    model = copy.deepcopy(tiny_model)
    with torch.no_grad():
        model.lm_head.weight.zero_()
    return model


def bangs(completions, **_):
    return [float(c.count("!")) for c in completions]


def test_completion_logps_equal_a_forward_pass_by_hand(tiny_model, tiny_tokenizer):
    import torch

    prompts = [r["prompt"] for r in ROWS]
    completions = [r["chosen"] for r in ROWS]
    got = completion_logps(tiny_model, tiny_tokenizer, prompts, completions, batch_size=3)  # padded batches
    for prompt, completion, value in zip(prompts, completions, got):
        p = tiny_tokenizer(prompt)["input_ids"]
        c = tiny_tokenizer(completion, add_special_tokens=False)["input_ids"] + [tiny_tokenizer.eos_token_id]
        ids = torch.tensor([p + c])
        with torch.no_grad():
            logits = tiny_model(ids).logits[0].double()
        expected = sum(torch.log_softmax(logits[len(p) + i - 1], -1)[tok].item() for i, tok in enumerate(c))
        assert value == pytest.approx(expected, abs=1e-3)


def test_preference_metrics_against_a_reference_model(tiny_model, tiny_tokenizer, bang_model):
    same = preference_metrics(tiny_model, tiny_tokenizer, ROWS, reference=copy.deepcopy(tiny_model), beta=0.5)
    assert same["reward_margin"] == pytest.approx(0.0, abs=1e-4)
    assert same["chosen_reward"] == pytest.approx(0.0, abs=1e-4)
    assert same["preference_accuracy"] == 0.0  # no pair has a positive margin
    # the zero-output model gives every token log(1/V): the implicit rewards are beta * (that - ref log-probs)
    got = preference_metrics(bang_model, tiny_tokenizer, ROWS, reference=tiny_model, beta=0.5)
    prompts = [r["prompt"] for r in ROWS]
    ref_c = completion_logps(tiny_model, tiny_tokenizer, prompts, [r["chosen"] for r in ROWS])
    ref_r = completion_logps(tiny_model, tiny_tokenizer, prompts, [r["rejected"] for r in ROWS])
    import math

    uniform = -math.log(len(tiny_tokenizer))

    def n_tokens(text):
        return len(tiny_tokenizer(text, add_special_tokens=False)["input_ids"]) + 1

    chosen = [0.5 * (n_tokens(r["chosen"]) * uniform - lp) for r, lp in zip(ROWS, ref_c)]
    rejected = [0.5 * (n_tokens(r["rejected"]) * uniform - lp) for r, lp in zip(ROWS, ref_r)]
    assert got["chosen_reward"] == pytest.approx(sum(chosen) / 5, rel=1e-3)
    assert got["rejected_reward"] == pytest.approx(sum(rejected) / 5, rel=1e-3)
    assert got["preference_accuracy"] == pytest.approx(sum(c > r for c, r in zip(chosen, rejected)) / 5)
    free = preference_metrics(tiny_model, tiny_tokenizer, ROWS, beta=0.5, reference_free=True)
    assert free["chosen_reward"] == pytest.approx(0.5 * sum(ref_c) / 5, rel=1e-4)


def test_win_rate_follows_the_judge(tiny_model, tiny_tokenizer, bang_model):
    prompts = [r["prompt"] for r in ROWS]
    result, samples = win_rate_against_reference(bang_model, tiny_tokenizer, prompts, bangs, reference=tiny_model,
                                                 generation=GREEDY)
    assert all(s["policy"] == "!" * 6 for s in samples)
    assert all(s["reference"].count("!") < 6 for s in samples)  # the random model says other things
    assert result["win_rate"] == 1.0 and result["wins"] == 5 and result["losses"] == 0
    assert result["policy_reward"] == 6.0

    # the same generations under other judges (WinRate on the recorded samples)
    policy_out, reference_out = [s["policy"] for s in samples], [s["reference"] for s in samples]
    assert WinRate(lambda c, **_: [-x for x in bangs(c)]).compute(policy_out, baseline=reference_out)["win_rate"] == 0.0
    tie = WinRate(lambda c, **_: [1.0] * len(c)).compute(policy_out, baseline=reference_out)
    assert tie["win_rate"] == 0.5 and tie["ties"] == 5


def test_win_rate_metric_with_a_registered_reward_as_judge():
    pytest.importorskip("aligntune_rewards")
    metric = get_metric("win_rate", judge="length:min_length=0:max_length=2")
    assert isinstance(metric, WinRate)
    got = metric.compute(["one two", "one", "a b c d e f"], baseline=["one two three four", "x y", "z"])
    # length scores: policy [1, 1, 0], baseline [0, 1, 1] -> win, tie, loss
    assert (got["wins"], got["ties"], got["losses"]) == (1.0, 1.0, 1.0)
    assert got["win_rate"] == pytest.approx(0.5)
    with pytest.raises(ValueError, match="baseline"):
        metric.compute(["a"])
    with pytest.raises(ValueError, match="judge"):
        get_metric("win_rate")


def test_peft_policy_uses_its_base_as_reference(tiny_model, tiny_tokenizer):
    peft = pytest.importorskip("peft")
    config = peft.LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj"])
    fresh = peft.get_peft_model(copy.deepcopy(tiny_model), config)  # B = 0: the adapter changes nothing yet
    got = preference_metrics(fresh, tiny_tokenizer, ROWS, beta=0.1)
    assert got["reward_margin"] == pytest.approx(0.0, abs=1e-4)
    result, _ = win_rate_against_reference(fresh, tiny_tokenizer, [r["prompt"] for r in ROWS], bangs,
                                           generation=GREEDY)
    assert result["ties"] == 5  # identical generations
    trained = peft.get_peft_model(copy.deepcopy(tiny_model), peft.LoraConfig(r=4, lora_alpha=64, init_lora_weights=False,
                                                                            target_modules=["q_proj", "v_proj"]))
    moved = preference_metrics(trained, tiny_tokenizer, ROWS, beta=0.1)
    prompts = [r["prompt"] for r in ROWS]
    with trained.disable_adapter():
        base = completion_logps(trained, tiny_tokenizer, prompts, [r["chosen"] for r in ROWS])
    assert base == pytest.approx(completion_logps(tiny_model, tiny_tokenizer, prompts, [r["chosen"] for r in ROWS]),
                                 abs=1e-4)
    policy = completion_logps(trained, tiny_tokenizer, prompts, [r["chosen"] for r in ROWS])
    assert moved["chosen_reward"] == pytest.approx(0.1 * (sum(policy) - sum(base)) / 5, rel=1e-3, abs=1e-5)
    assert abs(moved["chosen_reward"]) > 1e-4
    with pytest.raises(ValueError, match="no reference model"):
        preference_metrics(tiny_model, tiny_tokenizer, ROWS)


def test_evaluate_dpo_honours_limits_and_writes_the_report(tiny_model, tiny_tokenizer, bang_model, tmp_path):
    report = evaluate_dpo(bang_model, tiny_tokenizer, ROWS, reference=tiny_model, judge=bangs, beta=0.2,
                          max_samples=3, zero_shot_max_samples=4, few_shot_max_samples=2,
                          few_shot_examples_text="Q: 1 + 1?\nA: 2", generation={"temperature": 0.0, "max_new_tokens": 3},
                          output_dir=tmp_path)
    assert report["num_pairs"] == 3 and report["num_zero_shot_prompts"] == 4 and report["num_few_shot_prompts"] == 2
    expected = preference_metrics(bang_model, tiny_tokenizer, ROWS[:3], reference=tiny_model, beta=0.2)
    assert {k: report["metrics"][k] for k in expected} == pytest.approx(expected)
    assert report["metrics"]["win_rate"] == 1.0 and report["metrics"]["few_shot_win_rate"] == 1.0
    assert report["metrics"]["policy_reward"] == 3.0  # max_new_tokens=3 -> "!!!"
    saved = json.loads((tmp_path / "report.json").read_text())
    assert saved["metrics"] == pytest.approx(report["metrics"])
    samples = [json.loads(x) for x in (tmp_path / "predictions.jsonl").read_text().splitlines()]
    assert [s["setting"] for s in samples] == ["zero_shot"] * 4 + ["few_shot"] * 2
    assert all(s["prompt"].startswith("Q: 1 + 1?\nA: 2\n\n") for s in samples[4:])
    assert "| win_rate | 1.0000 |" in (tmp_path / "report.md").read_text()
    # without a judge the win rate is skipped, and says why
    no_judge = evaluate_dpo(bang_model, tiny_tokenizer, ROWS, reference=tiny_model, max_samples=2)
    assert "win_rate" not in no_judge["metrics"] and "judge" in no_judge["skipped"]["win_rate"]
    with pytest.raises(ValueError, match="prompt, chosen and rejected"):
        evaluate_dpo(tiny_model, tiny_tokenizer, [{"prompt": "x"}], reference=tiny_model)
