"""The generated documentation pages (reward catalogue, CLI reference) match the code."""

import pathlib

from aligntune.docs_gen import main, render_cli_reference, render_reward_catalogue

DOCS = pathlib.Path(__file__).resolve().parents[3] / "docs"
STALE = "is stale: run uv run python -m aligntune.docs_gen"


def test_reward_catalogue_is_current_and_complete():
    from aligntune_rewards import list_rewards

    text = render_reward_catalogue()
    for name in list_rewards():
        assert f"`{name}`" in text, name
    assert "### length" in text and "`max_length=200`" in text and "alias" in text
    assert (DOCS / "reward-catalogue.md").read_text() == text, "docs/reward-catalogue.md " + STALE


def test_cli_reference_is_current_and_complete():
    text = render_cli_reference()
    for command in ("train", "validate", "resume", "report", "list", "doctor"):
        assert f"## aligntune {command}" in text
    assert "`--set`" in text and "## python -m aligntune.cli.train_unified" in text and "`--dataset SPEC`" in text
    assert (DOCS / "cli.md").read_text() == text, "docs/cli.md " + STALE


def test_check_mode_finds_stale_pages(tmp_path):
    assert main([str(tmp_path), "--check"]) == 1
    assert main([str(tmp_path)]) == 0 and main([str(tmp_path), "--check"]) == 0
