"""Fixtures of the MCP server tests: a workspace with a token file, and real MCP clients
over stdio (the server is a `caramba mcp` subprocess) and over streamable HTTP."""

from __future__ import annotations

import contextlib
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, AsyncIterator, Iterator

import numpy as np
import pytest
from mcp import Client, StdioServerParameters

from caramba.tools.generate import Description, from_description


def tiny_manifest(name: str = "tiny", steps: int = 20, seed: int = 0, benchmarks: tuple[str, ...] = ("perplexity",)) -> str:
    """A 1-layer, 32-wide transformer that trains in seconds on the CPU."""
    return from_description(Description(name=name, d_model=32, n_heads=2, n_layers=1, d_ff=64, block_size=32, batch_size=4,
                                        steps=steps, device="cpu", seeds=[seed], benchmarks=list(benchmarks)), [])


def make_workspace(root: Path, config: str = "") -> Path:
    """A workspace folder with `data.npy` (random byte tokens) and an optional caramba.yml."""
    root.mkdir(parents=True, exist_ok=True)
    np.save(root / "data.npy", np.random.default_rng(0).integers(0, 256, size=20_000).astype(np.uint16))
    if config:
        (root / "caramba.yml").write_text(config)
    return root


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    return make_workspace(tmp_path / "ws")


def stdio_client(root: Path) -> Client:
    """A real MCP client that starts `python -m caramba mcp` in `root` over stdio."""
    params = StdioServerParameters(command=sys.executable, args=["-m", "caramba", "mcp"], cwd=str(root))
    return Client(params, read_timeout_seconds=120)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class HttpServer:
    """`caramba mcp --transport http` as a subprocess (kill() is a hard SIGKILL)."""

    def __init__(self, root: Path, port: int | None = None, host: str = "127.0.0.1") -> None:
        self.root, self.host, self.port = root, host, port or free_port()
        self.log = root / f"mcp-http-{self.port}.log"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/mcp"

    def start(self, timeout_s: float = 60.0) -> "HttpServer":
        out = open(self.log, "ab")
        self.process = subprocess.Popen([sys.executable, "-m", "caramba", "mcp", "--transport", "http", "--host", self.host,
                                         "--port", str(self.port)], cwd=self.root, stdout=out, stderr=out)
        deadline = time.time() + timeout_s
        while time.time() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the server exited: {self.log.read_text()}")
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                return self
            time.sleep(0.2)
        raise TimeoutError(self.log.read_text())

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)


@pytest.fixture
def http_server(workspace: Path) -> Iterator[HttpServer]:
    server = HttpServer(workspace).start()
    yield server
    server.stop()


async def call(client: Client, tool: str, **arguments: Any) -> dict[str, Any]:
    """Call a tool that must succeed; return its structured content."""
    result = await client.call_tool(tool, arguments)
    assert not result.is_error, result.content
    assert result.structured_content is not None
    return result.structured_content


async def wait_for(client: Client, run_id: str, statuses: tuple[str, ...], timeout_s: float = 90.0,
                   min_step: int = 0) -> dict[str, Any]:
    """Poll run_status until the run is in one of `statuses` (and at `min_step` or later)."""
    deadline = time.time() + timeout_s
    import anyio

    while time.time() < deadline:
        status = await call(client, "run_status", run_id=run_id)
        if status["status"] in statuses and (status.get("step") or 0) >= min_step:
            return status
        await anyio.sleep(0.5)
    raise AssertionError(f"run {run_id} never reached {statuses}: {status}")


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@contextlib.asynccontextmanager
async def inprocess(root: Path, watchdog: bool = False) -> AsyncIterator[Client]:
    """An in-process client of a server for `root` (the SDK's Client over memory streams)."""
    import os

    from caramba.tools.server import build_server

    cwd = os.getcwd()
    try:
        async with Client(build_server(root, watchdog=watchdog)) as client:
            yield client
    finally:
        os.chdir(cwd)
