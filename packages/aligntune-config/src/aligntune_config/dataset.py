"""DatasetConfig: one source of training data, how it is selected, mapped and processed."""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import Field, field_validator, model_validator

from ._base import CallableRef, StrictModel
from .enums import TaskType

FORMAT_TYPES = (
    "chat", "messages", "hh-rlhf", "ultrafeedback", "alpaca", "dolly", "gsm8k", "mbpp", "humaneval",
    "sharegpt", "text", "prompt_completion", "preference", "prompt", "classification",
)
PREFERENCE_FORMATS = frozenset({"hh-rlhf", "ultrafeedback", "preference"})
NON_PREFERENCE_FORMATS = frozenset(
    {"alpaca", "dolly", "gsm8k", "mbpp", "humaneval", "text", "prompt_completion", "prompt", "classification"}
)


class DatasetConfig(StrictModel):
    """A dataset: Hub id, local file/folder, or built-in (``builtin:arithmetic``).

    Fields left unset whose default differs between SFT and RL (task_type, auto_detect_fields) are filled
    when the dataset is placed in a :class:`UnifiedConfig`.
    """

    _aliases: ClassVar[dict[str, str]] = {
        "config": "subset",
        "config_name": "subset",
        "dataset_name": "name",
        "field_mappings": "column_mapping",
        "max": "max_samples",
    }

    name: str = Field(..., min_length=1, description="Hub dataset id, local path (file or folder), or builtin:NAME.")
    split: str = Field("train", min_length=1, description='Split, with optional slicing: "train", "train[:10%]".')
    subset: str | None = Field(None, description="Hub config/subset name. Aliases: config, config_name.")
    revision: str | None = Field(None, description="Hub revision of the dataset.")
    percent: float | None = Field(None, gt=0, le=100, description="Use this percentage of the rows, in (0, 100].")
    max_samples: int | None = Field(None, gt=0, description="Use at most this many rows (after percent).")
    column_mapping: dict[str, str] = Field(
        default_factory=dict, description="Rename source columns to the names the format expects "
        "({source: target}). Alias: field_mappings."
    )
    task_type: TaskType | None = Field(
        None, description="What the data is for; restricts schema detection to the task's adapters and picks "
        "rewards and metrics. Unset: detection alone decides (the spec's defaults, supervised_fine_tuning for "
        "SFT and conversation for RL, then impose nothing)."
    )
    weight: float = Field(1.0, gt=0, description="Mixing weight among several datasets.")
    auto_detect_fields: bool | None = Field(
        None, description="Choose the schema adapter from the columns. Default: false for SFT, true for RL."
    )
    format_type: str | None = Field(
        None, description=f"Schema adapter to use; auto-detected when unset. Built in: {', '.join(FORMAT_TYPES)}."
    )
    text_column: str = Field("text", description="Text column name.")
    instruction_column: str = Field("instruction", description="Instruction column name.")
    response_column: str = Field("response", description="Response column name.")
    output_column: str = Field("output", description="Output column name.")
    input_column: str = Field("input", description="Input column name.")
    context_column: str = Field("context", description="Context column name.")
    label_column: str = Field("label", description="Label column (classification).")
    tokens_column: str = Field("tokens", description="Tokens column (token classification).")
    tags_column: str = Field("ner_tags", description="Tags column (NER).")
    messages_column: str = Field("messages", description="Messages column (chat).")
    dataset_text_field: str = Field("text", description="Text field handed to the trainer.")
    chat_template: str | None = Field(
        None, description="Chat template: 'tokenizer' (the tokenizer's own), a named template, or a Jinja string."
    )
    system_prompt: str | None = Field(None, description="System message prepended to every conversation.")
    dataset_num_proc: int | None = Field(None, gt=0, description="Processes for mapping (default: train.dataset_num_proc).")
    pad_token: str | None = Field(None, description="Padding token to set on the tokenizer.")
    label_pad_token_id: int = Field(-100, description="Label id ignored by the loss.")
    truncation_mode: Literal["keep_end", "keep_start"] = Field("keep_end", description="Which end of a too-long prompt is kept.")
    padding_free: bool | None = Field(None, description="Same as train.padding_free (set one of them).")
    precompute_ref_log_probs: bool | None = Field(None, description="Same as train.precompute_ref_log_probs.")
    precompute_ref_batch_size: int | None = Field(None, gt=0, description="Same as train.precompute_ref_batch_size.")
    tools: Any = Field(None, description="Tool definitions passed to the chat template.")
    preserve_columns: list[str] | None = Field(None, description="Extra columns kept through processing (e.g. test_list).")
    processing_fn: CallableRef = Field(None, description="Function applied to rows (or batches) before the adapter.")
    processing_batched: bool = Field(False, description="processing_fn takes batches.")
    processing_fn_kwargs: dict[str, Any] = Field(default_factory=dict, description="Keyword arguments of processing_fn.")
    preprocessing: dict[str, Any] = Field(
        default_factory=dict, description="Nested form of the processing fields: keys processing_fn, "
        "processing_batched, processing_fn_kwargs, system_prompt, chat_template, truncation_mode, on_bad_rows."
    )
    on_bad_rows: Literal["error", "skip", "warn"] = Field(
        "warn", description="Rows with missing/empty/invalid fields: error, skip silently-counted, or skip with a warning."
    )
    shuffle: bool = Field(True, description="Shuffle the selected rows with train.data_seed.")

    _PREPROCESSING_KEYS: ClassVar[tuple[str, ...]] = (
        "processing_fn", "processing_batched", "processing_fn_kwargs", "system_prompt", "chat_template",
        "truncation_mode", "on_bad_rows",
    )

    @model_validator(mode="before")
    @classmethod
    def _from_spec_string_and_preprocessing(cls, data: Any) -> Any:
        if isinstance(data, str):
            from .spec_strings import parse_dataset_spec

            return parse_dataset_spec(data)
        if isinstance(data, dict) and data.get("preprocessing"):
            nested = data["preprocessing"]
            if not isinstance(nested, dict):
                return data  # the field's own validation reports the type
            unknown = sorted(set(nested) - set(cls._PREPROCESSING_KEYS))
            if unknown:
                raise ValueError(
                    f"preprocessing has unknown keys {unknown}; valid: {', '.join(cls._PREPROCESSING_KEYS)}"
                )
            data = dict(data)
            for key, value in nested.items():
                if key in data and data[key] != value:
                    raise ValueError(f"preprocessing.{key} and {key} are both given with different values")
                data[key] = value
            data["preprocessing"] = {}
        return data

    @field_validator("format_type", mode="before")
    @classmethod
    def _format(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = value.strip().lower()
            value = {"hh_rlhf": "hh-rlhf", "hhrlhf": "hh-rlhf"}.get(value, value)
        return value

    @property
    def is_builtin(self) -> bool:
        return self.name.startswith("builtin:")

    def to_spec(self) -> str:
        """This dataset as a spec string (fields a spec can't express are left out)."""
        from .spec_strings import format_dataset_spec

        return format_dataset_spec(self)
