"""The fast re-implementations give the libraries' own values, on real Alpaca text and on edge cases.

BLEU = sacrebleu's sentence BLEU, METEOR = nltk's meteor_score (no WordNet), sentiment = vaderSentiment,
toxicity = alt-profanity-check: every value equal (BLEU/METEOR to 1e-12, the rest exactly).
"""

from __future__ import annotations

import random
import re
from functools import lru_cache

import pytest
from aligntune_rewards import get_reward

EDGE = ["", " ", ".", "a..b, 3.5 - 4-5 &amp; <skipped> x-\ny \"q\" (1,000.00)", "...", ",,", "-",
        "VADER is VERY SMART, uber handsome, and FRIGGIN FUNNY!!!", "The book was only kind of good.",
        "At least it isn't a horrible book.", "Today only kinda sux! But I'll get by, lol", "Not bad at all",
        "Catch utf-8 emoji such as 💘 and 💋 and 😁", "never so good", "without doubt wonderful", "no no bad",
        "It was not the least bit good, but the ending was the bomb.", "ΟΔΟΣ ΣΑΣ", "you stupid idiot, shut up"]


@pytest.fixture(scope="module")
def texts(alpaca_rows):
    """Alpaca outputs and instructions, each output also with every 5th word dropped, plus edge cases."""
    outputs = [r["output"] for r in alpaca_rows]
    edited = [" ".join(w for j, w in enumerate(o.split()) if j % 5 != 2) for o in outputs]
    return outputs, edited, [r["instruction"] for r in alpaca_rows] + EDGE


def test_bleu_equals_sacrebleu(texts):
    from sacrebleu.metrics import BLEU

    outputs, edited, others = texts
    hyps = edited + others + outputs[:20]
    refs = outputs + [outputs[i % len(outputs)] for i in range(len(others))] + [o + " And one more sentence." for o in outputs[:20]]
    want = [BLEU(effective_order=True).sentence_score(h, [r]).score / 100 for h, r in zip(hyps, refs)]
    got = get_reward("bleu")(hyps, references=refs)
    assert got == pytest.approx(want, abs=1e-12)
    assert min(want) < 0.2 and max(want) > 0.6
    two = [[r, o] for r, o in zip(refs, reversed(outputs))][:50]  # several references
    assert get_reward("bleu")(hyps[:50], references=two) == pytest.approx(
        [BLEU(effective_order=True).sentence_score(h, r).score / 100 for h, r in zip(hyps, two)], abs=1e-12)
    lower = get_reward("bleu:lowercase=true")(hyps[:50], references=refs[:50])
    assert lower == pytest.approx([BLEU(effective_order=True, lowercase=True).sentence_score(h, [r]).score / 100
                                   for h, r in zip(hyps, refs)][:50], abs=1e-12)


def test_13a_tokeniser_equals_sacrebleu(texts):
    from aligntune_rewards.rewards._overlap import Fast13a
    from sacrebleu.tokenizers.tokenizer_13a import Tokenizer13a

    rng = random.Random(0)
    alphabet = "ab1.,-  9&;:(){}\n'\"x<>"
    fuzz = ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 30))) for _ in range(3000)]
    lib, fast = Tokenizer13a(), Fast13a()
    for line in texts[0] + texts[2] + fuzz:
        assert fast(line) == lib(line), line


def test_meteor_equals_nltk(texts):
    from aligntune_rewards.rewards.reference import _NoWordNet
    from nltk.stem.porter import PorterStemmer
    from nltk.translate.meteor_score import meteor_score

    class MemoPorter:  # nltk's Porter stemmer, memoised only to keep the test fast
        def __init__(self):
            self.stem = lru_cache(maxsize=None)(PorterStemmer().stem)

    outputs, edited, others = texts
    hyps = edited[:120] + others[-60:]
    refs = outputs[:120] + [outputs[-1 - i] for i in range(60)]
    tok = lambda s: re.findall(r"\w+|[^\w\s]", s.lower())
    stemmer = MemoPorter()
    want = [float(meteor_score([tok(r)], tok(h), wordnet=_NoWordNet(), stemmer=stemmer)) if tok(h) else 0.0
            for h, r in zip(hyps, refs)]
    got = get_reward("meteor")(hyps, references=refs)
    assert got == pytest.approx(want, abs=1e-12)
    assert min(want) < 0.2 and max(want) > 0.8
    multi = [[r, o] for r, o in zip(refs, outputs[5:])][:40]
    assert get_reward("meteor:alpha=0.8:gamma=0.4")(hyps[:40], references=multi) == pytest.approx(
        [float(meteor_score([tok(x) for x in r], tok(h), wordnet=_NoWordNet(), stemmer=stemmer, alpha=0.8, gamma=0.4))
         if tok(h) else 0.0 for h, r in zip(hyps, multi)], abs=1e-12)


def test_vader_equals_vader_sentiment(texts):
    from aligntune_rewards.rewards._vader import FastVader
    from vaderSentiment.vaderSentiment import BOOSTER_DICT, NEGATE, SPECIAL_CASES, SentimentIntensityAnalyzer

    lib, fast = SentimentIntensityAnalyzer(), FastVader()
    rng = random.Random(1)
    vocab = (list(lib.lexicon)[::40] + list(BOOSTER_DICT) + [w for k in SPECIAL_CASES for w in k.split()] + NEGATE
             + ["no", "never", "so", "this", "without", "doubt", "least", "at", "very", "kind", "of", "but", "BUT",
                "GOOD", "or", "nor", "isn't", ":)", "!!", "??", "😁", "x😁y", "GREAT!"])
    fuzz = [" ".join(rng.choice(vocab) for _ in range(rng.randint(0, 25))) for _ in range(3000)]
    for text in texts[0] + texts[1] + texts[2] + fuzz:
        want = lib.polarity_scores(text)
        assert fast.polarity_scores(text) == want, text
        assert fast.compound(text) == want["compound"], text


def test_toxicity_equals_profanity_check(texts):
    from profanity_check import predict_prob

    batch = texts[0] + texts[2] + ["fuck this shit", "a\x00b shit", "x_y _ a b"]
    want = [1.0 - float(p) for p in predict_prob([t if t.strip() else "." for t in batch])]
    got = get_reward("toxicity")(batch)
    assert got == want
    assert min(got) < 0.2 and max(got) > 0.9
