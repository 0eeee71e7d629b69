"""``caramba mcp``: serve caramba's tools over MCP (stdio by default, or streamable HTTP).

Stdio is what desktop clients (Claude Desktop, Cursor) start; HTTP serves several clients
and agents at once. docs/mcp.md has the client configuration snippets.
"""

from __future__ import annotations

import atexit
import logging
import os
import signal
import sys
from pathlib import Path
from typing import Annotated, Literal

import typer

from caramba.cli.common import fail


def mcp(
    transport: Annotated[Literal["stdio", "http"], typer.Option("--transport", help="stdio (for a client that starts caramba) or http")] = "stdio",
    host: Annotated[str, typer.Option("--host", help="http: address to bind; beyond 127.0.0.1 needs mcp.token in caramba.yml")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="http: port (the endpoint is http://HOST:PORT/mcp)")] = 8765,
    workspace: Annotated[Path, typer.Option("--workspace", "-w", help="workspace folder (default: the current directory)")] = Path("."),
) -> None:
    """Serve the MCP tools (manifests, dry runs, runs, results, code graph) for LLM clients."""
    from caramba.engine.compiler.errors import ManifestInvalid
    from caramba.tools.http import BindRefused, serve_http
    from caramba.tools.server import build_server

    if not workspace.is_dir():
        fail(f"workspace {workspace} is not a folder", "pass --workspace <existing folder>")
    logging.basicConfig(stream=sys.stderr, level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        server = build_server(workspace)
    except ManifestInvalid as exc:
        fail(f"caramba.yml is invalid:\n{exc}", "fix the reported keys (see workspace/config.py for the valid ones)")
    if transport == "stdio":
        _stop_on_signals()
        server.run("stdio")
        return
    from caramba.workspace.config import load_workspace

    _stop_on_signals()
    try:
        serve_http(server, host, port, load_workspace(workspace.resolve()).mcp.token)
    except BindRefused as exc:
        fail(str(exc))


def _stop_on_signals() -> None:
    """Make SIGTERM and SIGINT shut the server down cleanly, then exit (stdio and HTTP).

    Python's default SIGTERM ends the process at once, skipping ``atexit``; and a
    KeyboardInterrupt leaves the stdio loop waiting for its stdin reader thread, which
    blocks while the client keeps the pipe open. Either way the embedded FalkorDB server
    (and the memory store) would be left running and unsaved. So both signals run the
    at-exit shutdowns here (code graph: ``SHUTDOWN SAVE`` of the embedded server; memory:
    close) and end the process.
    """

    def stop(signum: int, _frame: object) -> None:
        logging.getLogger("caramba").warning("signal %d: closing the databases and exiting", signum)
        atexit._run_exitfuncs()  # the registered shutdowns, once (they unregister nothing: exit follows)
        logging.shutdown()
        os._exit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)


def register(app: typer.Typer) -> None:
    """Add the ``mcp`` command to the CLI."""
    app.command(name="mcp")(mcp)
