"""Sample logging during training (``logging.sample_logging``): every ``interval_steps`` steps (or every
``percent_of_max_steps`` of ``train.max_steps``; with neither, every ``train.logging_steps``) the model
generates ``num_samples`` completions for a few fixed prompts; each sample goes to the log and to
``<output_dir>/samples.jsonl`` as ``{"step", "prompt", "sample", "completion"}``.

Generation runs on the main process only, in eval mode, under a forked random state seeded by the
training seed and the step, so sampling never changes the training run (losses, resume) it observes.
"""

from __future__ import annotations

import json
import logging
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

from transformers import TrainerCallback

if TYPE_CHECKING:
    from aligntune_config import UnifiedConfig

logger = logging.getLogger("aligntune.samples")
DEFAULT_PROMPTS = 3


def sample_interval(config: "UnifiedConfig") -> int:
    """Steps between samples."""
    sl, t = config.logging.sample_logging, config.train
    if sl.interval_steps is not None:
        return sl.interval_steps
    if sl.percent_of_max_steps is not None:
        if not t.max_steps:
            raise ValueError("logging.sample_logging.percent_of_max_steps needs train.max_steps")
        return max(1, math.ceil(sl.percent_of_max_steps * t.max_steps))
    return max(1, int(t.logging_steps or 1))


def _prompt_of(row: dict[str, Any]) -> Any:
    if row.get("prompt"):
        return row["prompt"]
    messages = row.get("messages")
    if isinstance(messages, list) and messages:
        turns = [m for m in messages if m.get("role") != "assistant"]
        last_user = max((i for i, m in enumerate(messages) if m.get("role") == "user"), default=None)
        return messages[: last_user + 1] if last_user is not None else turns
    return None


def sample_prompts(config: "UnifiedConfig", eval_dataset: Any, train_dataset: Any) -> list[Any]:
    """``sample_logging.prompts``, else the first prompts of the eval data, else of the training data."""
    given = config.logging.sample_logging.prompts
    if given:
        return list(given)
    for dataset in (eval_dataset, train_dataset):
        if dataset is None or len(dataset) == 0:
            continue
        found = [p for p in (_prompt_of(dataset[i]) for i in range(min(len(dataset), 50))) if p][:DEFAULT_PROMPTS]
        if found:
            return found
    raise ValueError("logging.sample_logging is enabled but the data has no prompt or messages column to sample "
                     "from; give logging.sample_logging.prompts")


def _as_text(tokenizer: Any, prompt: Any) -> str:
    if isinstance(prompt, list):
        return tokenizer.apply_chat_template(prompt, tokenize=False, add_generation_prompt=True)
    if getattr(tokenizer, "chat_template", None):
        return tokenizer.apply_chat_template([{"role": "user", "content": prompt}], tokenize=False,
                                             add_generation_prompt=True)
    return str(prompt)


class SampleLoggingCallback(TrainerCallback):
    """Generates for fixed prompts every ``interval`` steps (see the module docstring)."""

    def __init__(self, config: "UnifiedConfig", prompts: list[Any], tokenizer: Any):
        self.settings = config.logging.sample_logging
        self.interval = sample_interval(config)
        self.prompts = prompts
        self.tokenizer = tokenizer
        self.seed = config.train.seed
        self.path = Path(config.logging.output_dir) / "samples.jsonl"

    def on_step_end(self, args: Any, state: Any, control: Any, model: Any = None, **kwargs: Any) -> None:
        if state.global_step % self.interval or not state.is_world_process_zero or model is None:
            return
        records = self.generate(model, state.global_step)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as handle:
            for record in records:
                handle.write(json.dumps(record, ensure_ascii=False) + "\n")
                logger.info("sample at step %d [%d] %r -> %r", record["step"], record["sample"],
                            record["prompt"][-80:], record["completion"])

    def generate(self, model: Any, step: int) -> list[dict[str, Any]]:
        import torch

        s, tok = self.settings, self.tokenizer
        texts = [_as_text(tok, p) for p in self.prompts]
        side = tok.padding_side
        tok.padding_side = "left"
        try:
            batch = tok(texts, return_tensors="pt", padding=True, add_special_tokens=False).to(model.device)
        finally:
            tok.padding_side = side
        was_training = model.training
        model.eval()
        devices = [torch.cuda.current_device()] if torch.cuda.is_available() else []
        try:
            with torch.random.fork_rng(devices=devices), torch.no_grad():
                torch.manual_seed(self.seed + step)
                sampling = s.temperature > 0
                out = model.generate(**batch, max_new_tokens=s.max_new_tokens, do_sample=sampling,
                                     temperature=s.temperature if sampling else None,
                                     top_p=s.top_p if sampling else None, num_return_sequences=s.num_samples,
                                     pad_token_id=tok.pad_token_id)
        finally:
            model.train(was_training)
        width = batch["input_ids"].shape[1]
        completions = tok.batch_decode(out[:, width:], skip_special_tokens=True)
        return [{"step": step, "prompt": texts[i // s.num_samples], "sample": i % s.num_samples,
                 "completion": text} for i, text in enumerate(completions)]
