"""``builtin:arithmetic``: word problems in GSM8K's format (``question``; ``answer`` = worked steps, then
``#### N``) and ``builtin:arithmetic-preferences`` (``prompt``/``chosen``/``rejected``: the chosen answer
is correct, the rejected one ends with a wrong number)."""

from __future__ import annotations

import random

from .common import SPLIT_SIZES, rng_for

_NAMES = ["Ava", "Ben", "Chloe", "Dev", "Elena", "Farid", "Grace", "Hiro", "Ines", "Jonas", "Kemi", "Luca"]
_ITEMS = ["apples", "marbles", "stickers", "pencils", "cookies", "books", "shells", "stamps", "coins", "cards"]


def _add_sub(rng: random.Random) -> tuple[str, list[str], int]:
    name, item = rng.choice(_NAMES), rng.choice(_ITEMS)
    a, b = rng.randint(5, 60), rng.randint(2, 40)
    c = rng.randint(1, a + b - 1)
    total = a + b
    q = (f"{name} has {a} {item}. A friend gives {name} {b} more, and then {name} gives away {c}. "
         f"How many {item} does {name} have now?")
    steps = [f"{name} first has {a} + {b} = <<{a}+{b}={total}>>{total} {item}.",
             f"After giving away {c}, {name} has {total} - {c} = <<{total}-{c}={total - c}>>{total - c} {item}."]
    return q, steps, total - c


def _multiply(rng: random.Random) -> tuple[str, list[str], int]:
    name, item = rng.choice(_NAMES), rng.choice(_ITEMS)
    boxes, per_box, extra = rng.randint(2, 12), rng.randint(3, 15), rng.randint(0, 20)
    q = (f"{name} buys {boxes} boxes with {per_box} {item} in each box and already had {extra} {item}. "
         f"How many {item} does {name} have in total?")
    product = boxes * per_box
    steps = [f"The boxes hold {boxes} * {per_box} = <<{boxes}*{per_box}={product}>>{product} {item}.",
             f"In total {name} has {product} + {extra} = <<{product}+{extra}={product + extra}>>{product + extra} {item}."]
    return q, steps, product + extra


def _price(rng: random.Random) -> tuple[str, list[str], int]:
    name, item = rng.choice(_NAMES), rng.choice(_ITEMS)
    count, price, paid_extra = rng.randint(2, 9), rng.randint(2, 12), rng.randint(1, 30)
    cost = count * price
    paid = cost + paid_extra
    q = (f"{name} buys {count} {item} at ${price} each and pays with ${paid}. "
         f"How much change, in dollars, does {name} get?")
    steps = [f"The {item} cost {count} * {price} = <<{count}*{price}={cost}>>{cost} dollars.",
             f"The change is {paid} - {cost} = <<{paid}-{cost}={paid_extra}>>{paid_extra} dollars."]
    return q, steps, paid_extra


def _share(rng: random.Random) -> tuple[str, list[str], int]:
    name, item = rng.choice(_NAMES), rng.choice(_ITEMS)
    people, each = rng.randint(2, 8), rng.randint(2, 14)
    total = people * each
    q = f"{name} shares {total} {item} equally among {people} friends. How many {item} does each friend get?"
    steps = [f"Each friend gets {total} / {people} = <<{total}/{people}={each}>>{each} {item}."]
    return q, steps, each


_KINDS = (_add_sub, _multiply, _price, _share)


def _problem(rng: random.Random) -> tuple[str, str, int]:
    question, steps, result = rng.choice(_KINDS)(rng)
    return question, "\n".join(steps) + f"\n#### {result}", result


def arithmetic(split: str, seed: int = 47) -> list[dict]:
    """Arithmetic word problems: ``question``, ``answer`` (steps then ``#### N``)."""
    rng = rng_for("arithmetic", split, seed)
    rows = []
    for _ in range(SPLIT_SIZES[split]):
        question, answer, _result = _problem(rng)
        rows.append({"question": question, "answer": answer})
    return rows


def _wrong(rng: random.Random, result: int) -> int:
    wrong = result + rng.choice([-10, -3, -2, -1, 1, 2, 3, 10])
    return wrong if wrong != result and wrong >= 0 else result + 1


def arithmetic_preferences(split: str, seed: int = 47) -> list[dict]:
    """Preference pairs over arithmetic problems: ``chosen`` is correct, ``rejected`` ends wrongly."""
    rng = rng_for("arithmetic-preferences", split, seed)
    rows = []
    for _ in range(SPLIT_SIZES[split]):
        question, answer, result = _problem(rng)
        wrong = _wrong(rng, result)
        steps = answer.rsplit("\n#### ", 1)[0].splitlines()
        bad_last = steps[-1].rsplit(" = ", 1)[0] + f" = {wrong}." if " = " in steps[-1] else f"So it is {wrong}."
        rejected = "\n".join(steps[:-1] + [bad_last]) + f"\n#### {wrong}"
        rows.append({"prompt": question, "chosen": answer, "rejected": rejected, "answer": str(result)})
    return rows


arithmetic.version = "1"  # type: ignore[attr-defined]
arithmetic_preferences.version = "1"  # type: ignore[attr-defined]
