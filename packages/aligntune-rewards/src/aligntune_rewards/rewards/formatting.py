"""Format and constraint rewards: reasoning tags, JSON, JSON schema, regex, checkable instructions,
language consistency. All are rules."""

from __future__ import annotations

import json
import re
from collections import Counter
from typing import Any

from ..base import Reward
from .text import sentences


class ReasoningFormatReward(Reward):
    """Reasoning in ``<think>`` tags, then the answer in ``<answer>`` tags. Rule. Range {0, 1}.

    Soft (default): the text contains ``<think>...</think>`` and, later, ``<answer>...</answer>``
    (anything around or between). Strict: the whole text is exactly ``<think>\\n...\\n</think>\\n<answer>\\n...\\n</answer>``
    (optional trailing newline), as in DeepSeek-R1 / open-r1. Params: strict=False, think_tag="think",
    answer_tag="answer".
    """

    name = "reasoning_format"
    description = "1 if the text has <think>...</think> then <answer>...</answer> (strict: exactly that)."
    default_strict = False

    def __init__(self, *, strict: bool | None = None, think_tag: str = "think", answer_tag: str = "answer",
                 **common: Any):
        super().__init__(**common)
        self.strict = self.default_strict if strict is None else strict
        t, a = re.escape(think_tag), re.escape(answer_tag)
        if self.strict:
            self.pattern = re.compile(rf"^<{t}>\n(?:(?!</?{t}>).)*?\n</{t}>\n<{a}>\n(?:(?!</?{a}>).)*?\n</{a}>\n?$",
                                      re.DOTALL)
        else:
            self.pattern = re.compile(rf"<{t}>.*?</{t}>.*?<{a}>.*?</{a}>", re.DOTALL)

    def score(self, text, *, prompt=None, reference=None, row=None):
        match = self.pattern.match(text) if self.strict else self.pattern.search(text)
        return 1.0 if match else 0.0


class StrictReasoningFormatReward(ReasoningFormatReward):
    """``reasoning_format`` with strict=true: exactly ``<think>\\n...\\n</think>\\n<answer>\\n...\\n</answer>``.
    Rule. Range {0, 1}. Params: as reasoning_format (strict defaults to true)."""

    name = "reasoning_format_strict"
    description = "1 if the text is exactly <think>\\n...\\n</think>\\n<answer>\\n...\\n</answer>."
    default_strict = True


_JSON_FENCE = re.compile(r"```(?:json)?\s*\n(.*?)```", re.DOTALL | re.IGNORECASE)


def parse_json(text: str) -> tuple[bool, Any]:
    """(ok, value): the whole text, else its ```json fenced block, parsed as JSON."""
    candidates = [text.strip()] + [b.strip() for b in _JSON_FENCE.findall(text)]
    for candidate in candidates:
        if not candidate:
            continue
        try:
            return True, json.loads(candidate)
        except (ValueError, RecursionError):
            continue
    return False, None


class JsonValidReward(Reward):
    """Valid JSON. Rule. Range {0, 1}. The whole completion (or its ```json block) must parse; with
    require_object=true it must be a JSON object. Params: require_object=False."""

    name = "json_valid"
    description = "1 if the completion (or its ```json block) is valid JSON."

    def __init__(self, *, require_object: bool = False, **common: Any):
        super().__init__(**common)
        self.require_object = require_object

    def score(self, text, *, prompt=None, reference=None, row=None):
        ok, value = parse_json(text)
        return 1.0 if ok and (not self.require_object or isinstance(value, dict)) else 0.0


class JsonSchemaReward(Reward):
    """Valid JSON that satisfies a JSON Schema (jsonschema, the schema's own draft). Range [0, 1].

    1 when valid against the schema; 0.5 * (1 - errors/10, at least 0) when it parses but violates the
    schema (partial credit can be turned off); 0 when it does not parse. The schema comes from the
    ``schema`` param (a dict or JSON string) or a ``schema`` column of the row. Params: schema=None,
    partial_credit=True.
    """

    name = "json_schema"
    description = "1 if the completion is JSON valid against the schema (param or `schema` column)."

    def __init__(self, *, schema: dict | str | None = None, partial_credit: bool = True, **common: Any):
        super().__init__(**common)
        self.schema = self._load(schema) if schema is not None else None
        self.partial_credit = partial_credit

    @staticmethod
    def _load(schema: Any) -> dict:
        import jsonschema

        if isinstance(schema, str):
            schema = json.loads(schema)
        jsonschema.validators.validator_for(schema).check_schema(schema)
        return schema

    def score(self, text, *, prompt=None, reference=None, row=None):
        import jsonschema

        schema = self.schema if self.schema is not None else (row or {}).get("schema")
        if schema is None:
            raise ValueError("json_schema: give params.schema or a `schema` column")
        if not isinstance(schema, dict):
            schema = self._load(schema)
        ok, value = parse_json(text)
        if not ok:
            return 0.0
        validator = jsonschema.validators.validator_for(schema)(schema)
        errors = sum(1 for _ in validator.iter_errors(value))
        if errors == 0:
            return 1.0
        return 0.5 * max(0.0, 1.0 - errors / 10.0) if self.partial_credit else 0.0


class RegexReward(Reward):
    """Matches a regular expression. Rule. Range {0, 1}. mode="search" (anywhere), "match" (at the start)
    or "fullmatch" (the whole stripped text). Params: pattern (required), mode="search",
    flags="" (letters of i, m, s, x)."""

    name = "regex"
    description = "1 if the completion matches params.pattern (search/match/fullmatch)."

    def __init__(self, *, pattern: str | None = None, mode: str = "search", flags: str = "", **common: Any):
        super().__init__(**common)
        if not pattern:
            raise ValueError("regex: params.pattern is required, e.g. regex:pattern=\"^Answer: \\d+$\"")
        if mode not in ("search", "match", "fullmatch"):
            raise ValueError(f"regex: mode must be search, match or fullmatch, got {mode!r}")
        bits = {"i": re.IGNORECASE, "m": re.MULTILINE, "s": re.DOTALL, "x": re.VERBOSE}
        unknown = set(flags) - set(bits)
        if unknown:
            raise ValueError(f"regex: unknown flags {sorted(unknown)}; valid: i, m, s, x")
        value = 0
        for f in flags:
            value |= bits[f]
        try:
            self.regex = re.compile(pattern, value)
        except re.error as exc:
            raise ValueError(f"regex: pattern {pattern!r} does not compile: {exc}") from None
        self.mode = mode

    def score(self, text, *, prompt=None, reference=None, row=None):
        subject = text.strip() if self.mode == "fullmatch" else text
        return 1.0 if getattr(self.regex, self.mode)(subject) else 0.0


_BULLET = re.compile(r"^\s*(?:[-*\u2022]|\d+[.)])\s+\S", re.MULTILINE)
CONSTRAINTS = ("min_words", "max_words", "min_bullets", "max_bullets", "exact_bullets", "keywords",
               "forbidden_words", "case", "starts_with", "ends_with", "min_paragraphs", "max_sentences",
               "no_commas")


def check_constraints(text: str, constraints: dict[str, Any]) -> dict[str, bool]:
    """Each constraint's name -> satisfied (see :class:`InstructionFollowingReward`)."""
    n_words = len(text.split())
    bullets = len(_BULLET.findall(text))
    lower = text.lower()
    out = {}
    for key, value in constraints.items():
        if value is None:
            continue
        if key == "min_words":
            out[key] = n_words >= value
        elif key == "max_words":
            out[key] = n_words <= value
        elif key == "min_bullets":
            out[key] = bullets >= value
        elif key == "max_bullets":
            out[key] = bullets <= value
        elif key == "exact_bullets":
            out[key] = bullets == value
        elif key in ("keywords", "forbidden_words"):
            items = [value] if isinstance(value, str) else list(value)
            hits = [re.search(rf"\b{re.escape(str(k).lower())}\b", lower) is not None for k in items]
            out[key] = all(hits) if key == "keywords" else not any(hits)
        elif key == "case":
            letters = "".join(c for c in text if c.isalpha())
            checks = {"lower": letters.islower(), "upper": letters.isupper(), "title": text.istitle()}
            if value not in checks:
                raise ValueError(f"instruction_following: case must be lower, upper or title, got {value!r}")
            out[key] = bool(letters) and checks[value]
        elif key == "starts_with":
            out[key] = text.lstrip().lower().startswith(str(value).lower())
        elif key == "ends_with":
            out[key] = text.rstrip().lower().endswith(str(value).lower())
        elif key == "min_paragraphs":
            out[key] = len([p for p in re.split(r"\n\s*\n", text) if p.strip()]) >= value
        elif key == "max_sentences":
            out[key] = len(sentences(text)) <= value
        elif key == "no_commas":
            out[key] = ("," not in text) if value else True
        else:
            raise ValueError(f"instruction_following: unknown constraint {key!r}; valid: {', '.join(CONSTRAINTS)}")
    return out


class InstructionFollowingReward(Reward):
    """Share of checkable instructions satisfied (IFEval-style). Rule. Range [0, 1].

    Constraints come from the params and/or a ``constraints`` column (a dict per row; the row's win):
    min_words, max_words, min_bullets, max_bullets, exact_bullets (lines starting with -, *, or 1.),
    keywords (all must appear), forbidden_words (none may appear), case (lower/upper/title), starts_with,
    ends_with, min_paragraphs, max_sentences, no_commas. With no constraint at all the score is 1.
    Params: the constraints above, all optional.
    """

    name = "instruction_following"
    description = "Fraction of checkable constraints met (word/bullet counts, keywords, case, ...)."

    def __init__(self, **params: Any):
        common = {k: params.pop(k) for k in ("model_name", "device", "cache_dir") if k in params}
        super().__init__(**common)
        check_constraints("", {k: v for k, v in params.items() if k != "case"})  # validates the names
        self.constraints = params

    def score(self, text, *, prompt=None, reference=None, row=None):
        constraints = dict(self.constraints)
        constraints.update((row or {}).get("constraints") or {})
        results = check_constraints(text, constraints)
        return sum(results.values()) / len(results) if results else 1.0


_SCRIPTS = (("zh", r"[\u4e00-\u9fff]"), ("ja", r"[\u3040-\u30ff]"), ("ko", r"[\uac00-\ud7af]"),
            ("ru", r"[\u0400-\u04ff]"), ("ar", r"[\u0600-\u06ff]"), ("hi", r"[\u0900-\u097f]"),
            ("el", r"[\u0370-\u03ff]"), ("he", r"[\u0590-\u05ff]"), ("th", r"[\u0e00-\u0e7f]"))
_SCRIPT_RE = [(lang, re.compile(p)) for lang, p in _SCRIPTS]
_STOP = {
    "en": "the and is are of to in that it for with was on this you not be have what how",
    "fr": "le la les et est des une un que qui dans pour pas sur avec ce sont du au",
    "de": "der die das und ist nicht ein eine zu mit den von sich auf für dem des sind",
    "es": "el la los las y es de que en un una por con para no se del al como",
    "it": "il la le e di che è un una per con non del della sono gli nel come",
    "pt": "o a os as e é de que em um uma para com não do da dos das como",
    "nl": "de het een en is van dat niet op te zijn voor met die er ook",
}
_STOP_SETS = {lang: set(words.split()) for lang, words in _STOP.items()}
_STOP_LANGS: dict[str, list[str]] = {}
for _lang, _words in _STOP_SETS.items():
    for _w in _words:
        _STOP_LANGS.setdefault(_w, []).append(_lang)
_LATIN_WORD = re.compile(r"[^\W\d_]+")
_NON_LATIN = re.compile(r"[^\x00-\u024f]")


def detect_language(text: str) -> str | None:
    """Rough language of a text: by Unicode script, then by stopwords for Latin-script languages."""
    if _NON_LATIN.search(text):
        n_letters = sum(1 for c in text if c.isalpha())
        for lang, regex in _SCRIPT_RE:
            if n_letters and len(regex.findall(text)) >= 0.3 * n_letters:
                return lang
    counts: Counter = Counter()
    for token in _LATIN_WORD.findall(text.lower()):
        for lang in _STOP_LANGS.get(token, ()):
            counts[lang] += 1
    return counts.most_common(1)[0][0] if counts else None


class LanguageConsistencyReward(Reward):
    """Answer stays in one language. Rule heuristic (scripts + stopwords). Range [0, 1].

    Share of sentences whose detected language is the target: ``language`` param (ISO code: en, fr, de,
    es, it, pt, nl, zh, ja, ko, ru, ar, hi, el, he, th), else the prompt's language, else the completion's
    majority language. Sentences with no detectable language are skipped; nothing detectable scores 1.
    Params: language=None.
    """

    name = "language_consistency"
    description = "Share of sentences in the target language (param, prompt's, or majority) (heuristic)."

    def __init__(self, *, language: str | None = None, **common: Any):
        super().__init__(**common)
        self.language = language.lower() if language else None

    def score(self, text, *, prompt=None, reference=None, row=None):
        detected = [lang for lang in (detect_language(s) for s in sentences(text)) if lang]
        if not detected:
            return 1.0 if text.strip() else 0.0
        target = self.language or (detect_language(prompt) if prompt else None)
        target = target or Counter(detected).most_common(1)[0][0]
        return sum(1 for lang in detected if lang == target) / len(detected)


REWARDS = [ReasoningFormatReward, StrictReasoningFormatReward, JsonValidReward, JsonSchemaReward, RegexReward,
           InstructionFollowingReward, LanguageConsistencyReward]
ALIASES = {"format": "reasoning_format", "think_format": "reasoning_format", "json": "json_valid",
           "ifeval": "instruction_following"}
