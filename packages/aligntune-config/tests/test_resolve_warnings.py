"""Settings that are accepted (the spec shows them) but have no effect in a run say so in the log."""

import logging

from aligntune_config import UnifiedConfig


def test_dpo_rewards_without_dpo_evaluation_are_announced(caplog):
    with caplog.at_level(logging.WARNING, logger="aligntune.config"):
        UnifiedConfig(algo="dpo", model={"name_or_path": "m"}, datasets=["builtin:arithmetic-preferences"],
                      rewards=["length"])
    assert any("evaluation.dpo_eval_enabled" in r.getMessage() and "'length'" in r.getMessage() for r in caplog.records)
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="aligntune.config"):
        UnifiedConfig(algo="dpo", model={"name_or_path": "m"}, datasets=["builtin:arithmetic-preferences"],
                      rewards=["length"], eval_datasets=["builtin:arithmetic-preferences"],
                      evaluation={"dpo_eval_enabled": True})
    assert not any("dpo_eval_enabled" in r.getMessage() for r in caplog.records)
