"""Chat templates: the tokenizer's own, a named one, or a Jinja string."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from .errors import DataError

CHATML = (
    "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n' }}"
    "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)
NAMED_TEMPLATES = {"chatml": CHATML}
TOKENIZER_TEMPLATE = ("tokenizer", "auto", "default")


@lru_cache(maxsize=16)
def _compile(source: str) -> Any:
    import jinja2
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)
    env.globals["raise_exception"] = _raise
    try:
        return env.from_string(source)
    except jinja2.TemplateSyntaxError as exc:
        raise DataError(f"chat_template: not a valid Jinja template (line {exc.lineno}: {exc.message})") from None


def _raise(message: str) -> None:
    raise DataError(f"chat_template raised: {message}")


class Renderer:
    """Renders message lists to text with ``chat_template`` (or the tokenizer's own template)."""

    def __init__(self, chat_template: str | None, tokenizer: Any = None):
        self.tokenizer = tokenizer
        self.source: str | None = None
        if chat_template is None or chat_template.strip().lower() in TOKENIZER_TEMPLATE:
            own = getattr(tokenizer, "chat_template", None) if tokenizer is not None else None
            if tokenizer is not None and not own:
                raise DataError("chat_template: the tokenizer has no chat template; give a Jinja string or 'chatml'")
            self.use_tokenizer = tokenizer is not None
        else:
            self.use_tokenizer = False
            self.source = NAMED_TEMPLATES.get(chat_template.strip().lower(), chat_template)
            _compile(self.source)

    @property
    def active(self) -> bool:
        """Whether messages are rendered to text (a tokenizer or an explicit template is available)."""
        return self.use_tokenizer or self.source is not None

    def render(self, messages: list[dict], add_generation_prompt: bool = False) -> str:
        if self.use_tokenizer:
            return self.tokenizer.apply_chat_template(messages, tokenize=False,
                                                      add_generation_prompt=add_generation_prompt)
        extra = {}
        if self.tokenizer is not None:
            extra = {"bos_token": getattr(self.tokenizer, "bos_token", "") or "",
                     "eos_token": getattr(self.tokenizer, "eos_token", "") or ""}
        return _compile(self.source).render(messages=messages, add_generation_prompt=add_generation_prompt,
                                            **{"bos_token": "", "eos_token": "", **extra})

    def continuation(self, prompt: list[dict], reply: list[dict]) -> tuple[str, str]:
        """(rendered prompt with the generation prompt, the rendered reply that follows it)."""
        head = self.render(prompt, add_generation_prompt=True)
        full = self.render(prompt + reply)
        if full.startswith(head):
            return head, full[len(head):]
        return head, self.render(reply)
