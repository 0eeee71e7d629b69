"""Runs outlive clients and servers: progress while a client waits, a hard kill of the
server mid-run, a restart that shows the run's true state, cancel; and the workspace
limits (steps, concurrent runs, wall time)."""

from __future__ import annotations

import os
from pathlib import Path

import anyio
import pytest
from mcp import Client

from caramba.engine.store.record import pid_alive
from tests.tools.conftest import HttpServer, call, inprocess, make_workspace, tiny_manifest, wait_for

pytestmark = [pytest.mark.anyio, pytest.mark.slow]


async def test_progress_kill_restart_cancel(workspace: Path) -> None:
    manifest = tiny_manifest(name="long", steps=50_000, benchmarks=())
    server = HttpServer(workspace).start()
    progress: list[tuple[float, float | None, str | None]] = []

    async def on_progress(value: float, total: float | None, message: str | None) -> None:
        progress.append((value, total, message))

    try:
        async with Client(server.url) as client:
            async with anyio.create_task_group() as group:
                group.start_soon(lambda: client.call_tool("run_manifest", {"manifest": manifest, "wait": True},
                                                          progress_callback=on_progress))
                with anyio.fail_after(90):
                    while not any(value > 0 for value, _, _ in progress):
                        await anyio.sleep(0.2)
                group.cancel_scope.cancel()  # the client stops waiting; the run goes on
        assert progress[-1][1] == 50_000 and "running" in (progress[-1][2] or "")
        server.kill()  # SIGKILL: no clean-up in the server

        server = HttpServer(workspace).start()
        async with Client(server.url) as client:
            (run,) = (await call(client, "list_runs"))["runs"]
            assert run["status"] == "running" and pid_alive(run["pid"])
            status = await wait_for(client, run["id"], ("running",), min_step=int(progress[-1][0]) + 1)
            cancelled = await call(client, "cancel_run", run_id=run["id"])
            assert cancelled["status"] == "cancelled", cancelled
            assert cancelled["step"] >= status["step"]
            with anyio.fail_after(15):  # the process exits after recording `cancelled`
                while pid_alive(run["pid"]):
                    await anyio.sleep(0.2)
            assert (await call(client, "run_status", run_id=run["id"]))["status"] == "cancelled"
    finally:
        server.stop()


async def test_workspace_limits(tmp_path: Path) -> None:
    root = make_workspace(tmp_path / "ws", "mcp:\n  max_steps: 1000\n  max_concurrent_runs: 1\n  max_wall_s: 2\n")
    async with inprocess(root, watchdog=True) as client:
        refused = await client.call_tool("run_manifest", {"manifest": tiny_manifest(steps=5000, benchmarks=())})
        assert refused.is_error and "max_steps=1000" in refused.content[0].text
        launch = await call(client, "run_manifest", manifest=tiny_manifest(steps=900, benchmarks=()))
        busy = await client.call_tool("run_manifest", {"manifest": tiny_manifest(steps=900, seed=1, benchmarks=())})
        assert busy.is_error and "max_concurrent_runs" in busy.content[0].text
        (run_id,) = launch["run_ids"]
        status = await wait_for(client, run_id, ("failed", "cancelled"), timeout_s=30)
        assert any("max_wall_s=2" in reason for reason in status["reasons"]), status
        pid = status["pid"] or os.getpid() + 10**6
        with anyio.fail_after(15):  # the status is written as the kill is sent; exiting takes a moment
            while pid_alive(pid):
                await anyio.sleep(0.05)
