import sys
import textwrap

import pytest

from aligntune_config import Registry, UnknownComponentError
from aligntune_config.registry import ComponentLoadError


@pytest.fixture
def plugin_on_path(tmp_path, monkeypatch):
    """A fake installed distribution declaring entry points, found by importlib.metadata."""
    (tmp_path / "at_test_plugin.py").write_text(textwrap.dedent('''
        class Shout:
            """Rewards exclamation marks."""
            name = "shout"
            def __call__(self, completions, *, prompts=None, references=None, **columns):
                return [float(c.count("!")) for c in completions]
        shout = Shout()
        def broken():
            pass
    '''))
    (tmp_path / "at_broken_plugin.py").write_text("raise RuntimeError('import-time failure')\n")
    dist = tmp_path / "at_test_plugin-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: at-test-plugin\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(
        "[aligntune.test_rewards]\nshout = at_test_plugin:shout\nbroken = at_broken_plugin:thing\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    yield
    for name in ("at_test_plugin", "at_broken_plugin"):
        sys.modules.pop(name, None)


def test_registry_finds_entry_point_lazily(plugin_on_path):
    registry = Registry("reward", "aligntune.test_rewards")
    assert "shout" in registry and registry.names() == ["broken", "shout"]
    assert "at_test_plugin" not in sys.modules  # listed, not imported
    shout = registry.get("SHOUT")
    assert shout(["hi!!", "no"]) == [2.0, 0.0]
    assert "at_test_plugin" in sys.modules
    assert registry.describe()["shout"] == "Rewards exclamation marks."
    assert "unavailable" in registry.describe()["broken"]


def test_unknown_name_lists_known_ones(plugin_on_path):
    registry = Registry("reward", "aligntune.test_rewards")
    with pytest.raises(UnknownComponentError) as info:
        registry.get("shot")
    text = str(info.value)
    assert "unknown reward 'shot'; did you mean 'shout'?" in text and "Known rewards: broken, shout" in text


def test_failing_entry_point_says_which(plugin_on_path):
    registry = Registry("reward", "aligntune.test_rewards")
    with pytest.raises(ComponentLoadError, match="reward 'broken' .* failed to load: RuntimeError: import-time failure"):
        registry.get("broken")


def test_code_registration_and_decorator():
    registry = Registry("metric", "aligntune.none_such_group")
    assert registry.names() == []

    @registry.register("exact")
    def exact(predictions, references):
        return {"exact": 1.0}

    assert registry.get("exact") is exact
    with pytest.raises(ValueError, match="already registered"):
        registry.register("exact", lambda: None)
    registry.register("exact", len, replace=True)
    assert registry.get("exact") is len
    with pytest.raises(UnknownComponentError, match="none \\(is the package"):
        Registry("metric", "aligntune.none_such_group").get("x")


def test_shared_registries_have_one_group_per_kind():
    from aligntune_config.registry import ALL_REGISTRIES

    assert set(ALL_REGISTRIES) >= {"aligntune.rewards", "aligntune.metrics", "aligntune.algorithms",
                                   "aligntune.backends", "aligntune.dataset_sources", "aligntune.schema_adapters",
                                   "aligntune.model_sources", "aligntune.tasks", "aligntune.datasets"}
