"""Fast13a tokenises word by word: equal to sacrebleu's Tokenizer13a on punctuation-heavy fuzz."""

import random


def test_13a_word_by_word_equals_sacrebleu():
    from sacrebleu.tokenizers.tokenizer_13a import Tokenizer13a

    from aligntune_rewards.rewards._overlap import Fast13a

    rng = random.Random(1)
    alphabet = "ab1.,-  9&;:(){}\n\t\xa0\u3000'\"x<>-.,.,0-é/"
    fuzz = ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40))) for _ in range(20000)]
    lib, fast = Tokenizer13a(), Fast13a()
    for line in fuzz + ["&quot;a.&quot; b", "1-2-3 a-b 4.5, x.. ,y", "e.g. U.S. 3.14,15 -5 a- -b"]:
        assert fast(line) == lib(line), line
        assert fast.split(line) == lib(line).split(), line
