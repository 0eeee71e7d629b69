"""The development loop's fronts: MCP tools, a manifest's process target, and bad input on the CLI.

Over MCP (stdio), a client starts a session with ``approve=true`` (the loop runs in its own process and
asks before every full run), approves the starting manifest's runs, stops the session
while they train, resumes it, and reads its status and tree once it completed. Bad
input is refused by ``develop_start`` itself, before anything starts. The same session as a ``type: development`` target under
``caramba run`` finds the starting manifest's runs in the run store (nothing is trained
twice). Bad input to ``caramba develop`` exits 2 with what, where and how to fix it,
before any model call, run or file.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from mcp import Client, StdioServerParameters

from tests.processes.development.conftest import HERE

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


@pytest.mark.anyio
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


MANIFEST = f"""
version: 2
name: develop_target
targets:
  - type: process
    name: dev
    process:
      type: development
      goal: does the start train?
      start: tiny_lm.yml
      seeds: 2
      iterations: 1
      model: "script:{SCRIPT}"
entrypoints: {{default: dev}}
"""


def test_development_process_target_under_caramba_run(workspace: Path) -> None:
    (workspace / "develop.yml").write_text(MANIFEST)
    done = subprocess.run([sys.executable, "-m", "caramba", "run", "develop.yml", "--format", "json"], cwd=workspace,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    records = json.loads(done.stdout[done.stdout.index("["):])
    assert len(records) == 1 and records[0]["status"] == "succeeded", records
    folder = Path(records[0]["dir"]) / "development"
    tree = json.loads((folder / "tree.json").read_text())
    assert tree["nodes"]["n0"]["status"] == "done" and (folder / "report.md").is_file()
    assert "already succeeded" in (folder / "runs.log").read_text()  # the MCP session's runs, found by content hash


BAD_INPUT = [
    (["--from", "missing.yml"], "--from missing.yml: no such manifest file"),
    (["--from", "tiny_lm.yml", "--metric", "val_ppl"], "--metric val_ppl: target 'lm' of tiny_lm.yml does not report it"),
    (["--from", "tiny_lm.yml", "--direction", "mn"], "--direction 'mn' is not min or max"),
    (["--from", "tiny_lm.yml", "--compute-steps", "20"], "--compute-steps 20 cannot pay for the starting point"),
]


@pytest.mark.parametrize(("arguments", "message"), BAD_INPUT)
def test_bad_input_exits_2_before_anything_runs(workspace: Path, arguments: list[str], message: str) -> None:
    from typer.testing import CliRunner

    from caramba.cli.app import app

    out = workspace / "bad-input-session"
    result = CliRunner().invoke(app, ["develop", "--goal", "x", *arguments, "--model", "openai/never-called",
                                      "--out", str(out), "--workspace", str(workspace)])
    assert result.exit_code == 2, result.output
    assert message in " ".join(result.output.split()) and "hint:" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert not out.exists()
