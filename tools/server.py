"""The caramba MCP server: builds an ``MCPServer`` and registers every tool group.

``build_server(root)`` is used by ``caramba mcp`` (stdio or streamable HTTP) and by
tests (in-process ``Client(server)``). The server's working directory becomes the
workspace, so manifest text resolves relative paths (data files, ``extends``) against
the workspace, exactly as ``caramba run`` started there would.

Every tool is registered through :class:`caramba.tools.errors.CarambaServer`, so no
failure reaches a client as a bare "Error executing tool" (each has a reason and a hint).

Stdio rule: nothing here prints to stdout (it carries the protocol); logs go to stderr.
"""

from __future__ import annotations

import importlib
import json
import os
from pathlib import Path

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ResourceNotFoundError

from caramba import __version__
from caramba.tools import artifacts, develop, manifests, memory, papers, runs
from caramba.tools.errors import CarambaServer
from caramba.tools.launcher import Launcher
from caramba.tools.security import Workspace
from caramba.tools.status import StatusReader

INSTRUCTIONS = """caramba runs ML architecture experiments described as YAML manifests.
Typical flow: list_presets / read_preset or manifest_schema to learn the format →
generate_manifest → validate_manifest (fix every reported field, validate again) →
dry_run_manifest (cost: parameters, FLOPs, memory) → run_manifest (returns run ids) →
run_status until succeeded → get_run_results / read_artifact / compare_runs.
Before proposing, memory_search / memory_related_runs: earlier runs may answer the question.
A whole experiment loop (variants proposed, piloted, run with seeds, analysed): develop_start,
then develop_status / develop_tree (develop_approve, develop_stop).
Paths are relative to the workspace; nothing outside it is readable."""


def build_server(root: Path, watchdog: bool = True) -> MCPServer:
    """A server for the workspace at ``root`` (``caramba.yml`` read once, here)."""
    ws = Workspace.open(root)
    os.chdir(ws.root)
    launcher = Launcher(ws.root, ws.config.mcp.max_wall_s)
    if watchdog:
        launcher.start_watchdog()
    reader = StatusReader(ws.root, launcher)
    server = CarambaServer("caramba", instructions=INSTRUCTIONS, version=__version__, log_level="WARNING")
    manifests.register(server, ws)
    runs.register(server, ws, launcher)
    artifacts.register(server, ws, reader)
    _register_codegraph(server, ws)
    memory.register(server, ws)
    papers.register(server, ws)
    develop.register(server, ws)
    _register_resources(server)
    return server


def _register_codegraph(server: MCPServer, ws: Workspace) -> None:
    """The code-graph tools, when the code-graph component is installed."""
    try:
        codegraph = importlib.import_module("caramba.tools.codegraph")
    except ModuleNotFoundError as exc:
        if exc.name not in ("caramba.tools.codegraph", "caramba.codegraph.api"):
            raise
        return
    codegraph.register(server, ws)


def _register_resources(server: MCPServer) -> None:
    from caramba.engine.compiler.extends import preset_names

    from caramba.tools.security import preset_file
    from caramba.engine.schema_export import manifest_schema

    @server.resource("caramba://schema/manifest", mime_type="application/schema+json",
                     description="JSON Schema of a caramba manifest (for editors and for writing manifests)")
    def schema_resource() -> str:
        return json.dumps(manifest_schema(), indent=1)

    @server.resource("caramba://presets", mime_type="application/json", description="the preset names")
    def presets_resource() -> str:
        return json.dumps(preset_names())

    @server.resource("caramba://presets/{name}", mime_type="application/yaml", description="one preset manifest (YAML)")
    def preset_resource(name: str) -> str:
        path = preset_file(name)
        if path is None:
            raise ResourceNotFoundError(f"unknown preset {name!r}; presets: {', '.join(preset_names())}")
        return path.read_text()
