"""docs/manifest.md is the schema's own reference: regenerated from the field descriptions, never stale."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from caramba.cli.app import app
from caramba.engine.schema_docs import manifest_markdown
from caramba.engine.schema_export import manifest_schema

DOC = Path(__file__).resolve().parents[2] / "docs" / "manifest.md"


def test_docs_manifest_md_is_the_generated_reference() -> None:
    assert DOC.read_text() == manifest_markdown(), (
        "docs/manifest.md is stale: regenerate it with `caramba schema --format markdown > docs/manifest.md`")


def test_every_model_and_described_field_is_documented() -> None:
    text = DOC.read_text()
    schema = manifest_schema()
    for name, model in schema["$defs"].items():
        assert f"## {name}\n" in text, name
        for field, node in model.get("properties", {}).items():
            if node.get("description"):
                assert f"| `{field}` |" in text and node["description"].split("\n")[0].replace("|", "\\|") in text, (name, field)


def test_the_command_prints_the_reference() -> None:
    result = CliRunner().invoke(app, ["schema", "--format", "markdown"])
    assert result.exit_code == 0 and result.output == manifest_markdown()
    assert CliRunner().invoke(app, ["schema", "--format", "yaml"]).exit_code == 2
