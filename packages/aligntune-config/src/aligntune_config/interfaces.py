"""The interfaces the other AlignTune packages implement. Packages meet only through these and
through the registries; a downstream project can implement them depending on aligntune-config alone.

Heavy types (``datasets.Dataset``, ``torch.nn.Module``) appear as ``Any`` so this module imports
nothing heavy.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, runtime_checkable

from .enums import AlgorithmType, TrainingType

if TYPE_CHECKING:
    from .dataset import DatasetConfig
    from .errors import ConfigIssue
    from .unified import UnifiedConfig


@runtime_checkable
class RewardFunction(Protocol):
    """Scores completions. Batched: one float per completion, in order.

    ``prompts`` and ``references`` are aligned with ``completions`` when given; other dataset columns
    (``test_list``, ``entry_point``, ...) arrive as keyword lists aligned the same way.
    """

    name: str

    def __call__(
        self,
        completions: Sequence[str],
        *,
        prompts: Sequence[str] | None = None,
        references: Sequence[Any] | None = None,
        **columns: Sequence[Any],
    ) -> list[float]: ...


@runtime_checkable
class Metric(Protocol):
    """An evaluation metric: named floats for a batch of predictions."""

    name: str

    def compute(self, predictions: Sequence[str], references: Sequence[Any] | None = None,
                **columns: Sequence[Any]) -> dict[str, float]: ...


@runtime_checkable
class DatasetSource(Protocol):
    """Loads raw rows from somewhere (the Hub, files, memory, built-in generators)."""

    name: str

    def can_load(self, config: "DatasetConfig") -> bool: ...

    def load(self, config: "DatasetConfig") -> Any:
        """Return a ``datasets.Dataset`` of the selected split, before any schema adaptation."""
        ...


@dataclass(frozen=True)
class Detection:
    """How well a schema adapter matches a set of columns, and why."""

    score: float
    reason: str


@runtime_checkable
class SchemaAdapter(Protocol):
    """Turns a source schema (alpaca, hh-rlhf, ...) into a canonical format (sft, preference, prompt)."""

    name: str
    formats: ClassVar[tuple[str, ...]]

    def detect(self, columns: Sequence[str]) -> Detection: ...

    def adapt(self, dataset: Any, config: "DatasetConfig", format: str) -> Any: ...


@dataclass
class AlgorithmSpec:
    """What makes an algorithm that algorithm: the data it needs, its defaults and its validation.

    Implementations live in aligntune-algos and are registered under ``aligntune.algorithms``.
    ``defaults`` maps ``train`` field names to values applied when the user left them unset.
    ``not_applicable`` lists ``train`` fields the algorithm does not use: setting one is an error.
    """

    algorithm: AlgorithmType
    data_format: str  # "sft", "preference" or "prompt"
    description: str = ""
    defaults: Mapping[str, Any] = field(default_factory=dict)
    not_applicable: frozenset[str] = frozenset()
    math_module: str | None = None  # import path of the algorithm's maths (engines use it; never copy it)

    def math(self) -> Any:
        """The module holding this algorithm's maths (imported on first use; it may import torch)."""
        if self.math_module is None:
            raise LookupError(f"{self.algorithm.value} declares no maths module")
        import importlib

        return importlib.import_module(self.math_module)

    @property
    def training_type(self) -> TrainingType:
        return self.algorithm.training_type

    def validate(self, config: "UnifiedConfig") -> list["ConfigIssue"]:
        """Problems of ``config`` for this algorithm (empty when fine)."""
        from .errors import ConfigIssue

        issues = []
        for name in sorted(self.not_applicable & config.train.model_fields_set):
            issues.append(ConfigIssue(f"train.{name}", f"does not apply to {self.algorithm} and would be ignored; remove it"))
        return issues


@runtime_checkable
class Trainer(Protocol):
    """A configured run. ``train`` returns a dict of final metrics."""

    config: "UnifiedConfig"

    def train(self) -> Mapping[str, Any]: ...

    def evaluate(self, dataset: Any = None) -> Mapping[str, float]: ...

    def save_model(self, path: str | None = None) -> str: ...

    def push_to_hub(self, repo_id: str | None = None, *, token: str | None = None, private: bool = False) -> str: ...


@dataclass(frozen=True)
class Availability:
    """Whether a backend (or optional part) can run here, and why not."""

    available: bool
    reason: str = ""

    def __bool__(self) -> bool:
        return self.available


@runtime_checkable
class Backend(Protocol):
    """An execution engine (TRL, Unsloth) that turns a resolved config into a Trainer."""

    name: str

    def availability(self) -> Availability: ...

    def supports(self, algorithm: AlgorithmType) -> bool: ...

    def create_trainer(self, config: "UnifiedConfig") -> Trainer: ...


@runtime_checkable
class ModelSource(Protocol):
    """Resolves model names of a scheme (``embedded:``, a GGUF file, ...) to a loadable local folder."""

    scheme: str

    def can_resolve(self, name_or_path: str) -> bool: ...

    def resolve(self, name_or_path: str) -> str: ...
