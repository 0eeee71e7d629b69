"""JSON Schema export: the manifest schema for editors and MCP clients, and per-kind
schemas of registered components (``caramba schema --component layer``)."""

from __future__ import annotations

from typing import Any

from caramba.engine.manifest import Manifest
from caramba.engine.registry import REGISTRY


def manifest_schema() -> dict[str, Any]:
    """The JSON Schema of a whole manifest (draft 2020-12, as pydantic emits it)."""
    schema = Manifest.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "caramba manifest (version 2)"
    return schema


def component_schema(kind: str) -> dict[str, Any]:
    """``{name: {summary, schema}}`` for every registered type of ``kind``."""
    entries = REGISTRY.entries(kind)
    if not entries:
        raise KeyError(f"no registry kind {kind!r}")
    return {e.name: {"summary": e.summary, "schema": e.config.model_json_schema()} for e in entries}
