"""The development tools over MCP (stdio): start, approve, stop, resume, status and tree.

A client starts a session with ``approve=true`` (the loop runs in its own process and
asks before every full run), approves the starting manifest's runs, stops the session
while they train, resumes it, and reads its status and tree once it completed. Bad
input is refused by ``develop_start`` itself, before anything starts.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import pytest

from tests.processes.development.conftest import HERE
import os
import sys

from mcp import Client, StdioServerParameters

pytestmark = pytest.mark.anyio
SCRIPT = HERE / "scripts" / "quiet.yml"


def stdio_client(root: Path) -> Client:
    """``caramba mcp`` over stdio, with this process's environment (the test settings reach the loop)."""
    params = StdioServerParameters(command=sys.executable, args=["-m", "caramba", "mcp"], cwd=str(root), env=dict(os.environ))
    return Client(params, read_timeout_seconds=120)


async def call(client: Any, tool: str, **args: Any) -> dict[str, Any]:
    result = await client.call_tool(tool, args)
    assert not result.is_error, result.content
    return result.structured_content


async def wait_for(client: Any, session: str, check: Any, timeout: float = 300) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = await call(client, "develop_status", session=session)
        if check(status):
            return status
        await asyncio.sleep(0.3)
    raise AssertionError(f"timed out; last status {status}")


async def test_start_approve_stop_resume_over_mcp(workspace: Path) -> None:
    async with stdio_client(workspace) as client:
        refused = await client.call_tool("develop_start", {"goal": "x", "start": "tiny_lm.yml", "metric": "val_ppl"})
        assert refused.is_error and "does not report it" in refused.content[0].text
        started = await call(client, "develop_start", goal="does the start train?", start="tiny_lm.yml", seeds=2,
                             iterations=1, model=f"script:{SCRIPT}", approve=True)
        session = started["session"]
        await wait_for(client, session, lambda s: s["waiting_for_approval"] == ["n0"])
        await call(client, "develop_approve", session=session, node="n0", approve=True)
        runs = workspace / ".caramba" / "runs"
        deadline = time.monotonic() + 300
        while not any(runs.glob("lm-full-*/metrics.jsonl")) and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        stopped = await call(client, "develop_stop", session=session)
        assert not stopped["running"]
        await call(client, "develop_start", resume=session)
        done = await wait_for(client, session, lambda s: not s["running"] and s["status"] != "running")
        assert done["status"] == "completed", done
        assert done["nodes"] == {"done": 1} and done["best"]["node"] == "n0" and len(done["best"]["run_ids"]) == 2
        tree = await call(client, "develop_tree", session=session)
        assert tree["tree"]["nodes"]["n0"]["status"] == "done" and "n0" in tree["markdown"]
