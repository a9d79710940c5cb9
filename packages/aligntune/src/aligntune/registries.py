"""The spec's named registries: thin views over ``aligntune_config.registry``.

- :class:`DatasetRegistry`: dataset sources (``builtin``, ``hub``, ``local``, ``memory``; entry-point
  group ``aligntune.dataset_sources``) and the built-in datasets (``aligntune.datasets``).
- :class:`RewardRegistry`: reward functions (``aligntune.rewards``).
- :class:`TaskRegistry`: task definitions (``aligntune.tasks``; see :mod:`aligntune.tasks`).

Each offers ``register(name, obj)`` (also as a decorator), ``get(name)``, ``list()``, ``describe()``,
``unregister(name)`` and ``name in Registry``. What is registered here is what configuration
resolution, the data loader and the trainers find: there is one registry per kind.
"""

from __future__ import annotations

from typing import Any, ClassVar

from aligntune_config.registry import BUILTIN_DATASETS, DATASET_SOURCES, REWARDS, TASKS, Registry


class _RegistryMeta(type):
    def __contains__(cls, name: object) -> bool:
        return name in cls._registry

    def __iter__(cls):
        return iter(cls._registry.names())

    def __len__(cls) -> int:
        return len(cls._registry)


class _View(metaclass=_RegistryMeta):
    _registry: ClassVar[Registry[Any]]

    @classmethod
    def register(cls, name: str, obj: Any = None, *, replace: bool = False) -> Any:
        """Register ``obj`` as ``name`` (as a decorator when ``obj`` is omitted); ValueError if the
        name is taken and ``replace`` is false."""
        return cls._registry.register(name, obj, replace=replace)

    @classmethod
    def unregister(cls, name: str) -> None:
        cls._registry.unregister(name)

    @classmethod
    def get(cls, name: str) -> Any:
        """The component registered as ``name``; UnknownComponentError (listing the known names) if none."""
        return cls._registry.get(name)

    @classmethod
    def list(cls) -> list[str]:
        """Registered names, sorted."""
        return cls._registry.names()

    @classmethod
    def describe(cls) -> dict[str, str]:
        """Name -> one-line description."""
        return cls._registry.describe()


class DatasetRegistry(_View):
    """Dataset sources (how a dataset name is loaded) and built-in datasets.

    ``get``/``register``/``list`` work on sources: a source implements ``aligntune_config.interfaces``'
    dataset-source protocol (``matches(config)``, ``load(config)``). ``builtin_datasets()`` and
    ``register_builtin(name, generator)`` work on the datasets ``builtin:NAME`` loads. ``load(spec)``
    loads data as training does (``aligntune_data.load_dataset``)."""

    _registry = DATASET_SOURCES

    @classmethod
    def builtin_datasets(cls) -> list[str]:
        return BUILTIN_DATASETS.names()

    @classmethod
    def register_builtin(cls, name: str, generator: Any = None, *, replace: bool = False) -> Any:
        return BUILTIN_DATASETS.register(name, generator, replace=replace)

    @classmethod
    def load(cls, spec: Any, **kwargs: Any) -> Any:
        """Rows of ``spec`` (spec string, DatasetConfig, dict or list of them) in a canonical format;
        keyword arguments as ``aligntune_data.load_dataset`` (format, tokenizer, data_seed, cache, ...)."""
        from aligntune_data import load_dataset

        return load_dataset(spec, **kwargs)


class RewardRegistry(_View):
    """Reward functions by name. ``build(spec)`` gives a ready reward from a name, a spec string
    (``"length:min_length=5"``), a RewardConfig or a callable (aligntune_rewards.get_reward)."""

    _registry = REWARDS

    @classmethod
    def build(cls, spec: Any, **params: Any) -> Any:
        from aligntune_rewards import get_reward

        return get_reward(spec, **params)


class TaskRegistry(_View):
    """Task definitions (:class:`aligntune.tasks.TaskDefinition`): the default rewards and metrics a task
    type picks. Registering a definition under a new name makes ``tasks: [name]`` and
    ``datasets[i].task_type`` pick its defaults (task_type values are limited to the TaskType enum)."""

    _registry = TASKS

    @classmethod
    def register(cls, name: str, obj: Any = None, *, replace: bool = False) -> Any:
        def check(definition: Any) -> Any:
            if not (callable(getattr(definition, "reward_configs", None))
                    and isinstance(getattr(definition, "metrics", None), (tuple, list))):
                raise TypeError(f"task {name!r}: expected a task definition with reward_configs() and a metrics "
                                f"list (aligntune.tasks.TaskDefinition), got {type(definition).__name__}")
            return TASKS.register(name, definition, replace=replace)

        return check if obj is None else check(obj)


__all__ = ["DatasetRegistry", "RewardRegistry", "TaskRegistry"]
