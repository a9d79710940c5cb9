import pathlib

from aligntune_config import UnifiedConfig
from aligntune_config.schema import export_json_schema, render_reference

DOCS = pathlib.Path(__file__).resolve().parents[3] / "docs" / "configuration.md"


def test_json_schema_covers_every_section():
    schema = export_json_schema()
    assert schema["title"] == "AlignTune UnifiedConfig"
    assert set(UnifiedConfig.model_fields) <= set(schema["properties"])
    assert set(schema["required"]) == {"algo", "model", "datasets"}
    training = schema["$defs"]["TrainingConfig"]["properties"]
    assert training["learning_rate"]["exclusiveMinimum"] == 0
    assert schema["$defs"]["TrainingConfig"]["additionalProperties"] is False


def test_reference_page_lists_every_field_and_is_current():
    text = render_reference()
    for name in ("per_device_batch_size", "num_generations", "mirror_coefficient", "sample_logging", "hub_token"):
        assert f"`{name}`" in text
    assert "*Also accepted as: `batch_size`" in text
    assert DOCS.read_text() == text, "docs/configuration.md is stale: run python -m aligntune_config.schema docs/configuration.md"
