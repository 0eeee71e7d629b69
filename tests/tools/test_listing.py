"""Every tool is listed with a description, a flat input schema and an output schema,
over stdio and over streamable HTTP; the resources are served."""

from __future__ import annotations

from pathlib import Path

import pytest
from mcp import Client

from tests.tools.conftest import HttpServer, stdio_client

pytestmark = pytest.mark.anyio

TOOLS = {"list_presets", "read_preset", "manifest_schema", "generate_manifest", "validate_manifest", "dry_run_manifest",
         "run_manifest", "run_status", "list_runs", "cancel_run", "get_run_results", "read_artifact", "compare_runs"}
CODEGRAPH = {"codegraph_query", "find_symbol", "callers", "callees", "neighbours", "shortest_path", "impact", "codegraph_sync"}
DEVELOP = {"develop_start", "develop_status", "develop_tree", "develop_approve", "develop_stop"}
MEMORY = {"memory_search", "memory_facts", "memory_timeline", "memory_add_note", "memory_related_runs"}
PAPERS = {"paper_start", "paper_status", "paper_fetch"}


async def check_listing(client: Client) -> None:
    tools = {t.name: t for t in (await client.list_tools()).tools}
    assert TOOLS <= set(tools), TOOLS - set(tools)
    assert set(tools) - TOOLS <= CODEGRAPH | MEMORY | PAPERS | DEVELOP
    assert MEMORY | PAPERS | DEVELOP <= set(tools)
    for tool in tools.values():
        assert tool.description and len(tool.description) > 60, tool.name
        assert tool.input_schema["type"] == "object"
        assert tool.output_schema is not None and tool.output_schema["type"] == "object", tool.name
        for name, prop in tool.input_schema.get("properties", {}).items():
            assert "$ref" not in prop, f"{tool.name}.{name} must be a flat parameter"
            assert prop.get("description") or name == "ctx", f"{tool.name}.{name} has no description"
    templates = {t.uri_template for t in (await client.list_resource_templates()).resource_templates}
    assert {"caramba://presets/{name}", "caramba://runs/{run_id}/artifacts/{name}"} <= templates
    uris = {str(r.uri) for r in (await client.list_resources()).resources}
    assert {"caramba://schema/manifest", "caramba://presets"} <= uris
    schema = await client.read_resource("caramba://schema/manifest")
    assert "targets" in schema.contents[0].text
    preset = await client.read_resource("caramba://presets/complete_example")
    assert "version: 2" in preset.contents[0].text


async def test_listing_over_stdio(workspace: Path) -> None:
    async with stdio_client(workspace) as client:
        await check_listing(client)


async def test_listing_over_http(http_server: HttpServer) -> None:
    async with Client(http_server.url) as client:
        await check_listing(client)
